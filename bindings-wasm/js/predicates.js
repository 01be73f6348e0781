// Error filters: `retryableErrors` (retry), `isFailure` (breaker) and
// `isExpected` (fallback). What a user may pass is checked once, when the
// strategy is built. A filter's answer is a FilterVerdict — yes, no, or
// failed (it threw) — and what each verdict means per filter is core's rule
// `failing_predicate`: the glue asks core (native.retryable,
// native.counts_as_failure, native.falls_back, native.hedge_failed), never
// decides.

import { native } from './native.js';
import { wrongType } from './options.js';

const REQUIREMENT = 'a predicate (error) => boolean, an error class or an array of error classes';

/** How each filter's answer is read, and how its warning says what core decided. */
const ROLES = Object.freeze({
  retryableErrors: { answer: (v) => native.retryable(v), yes: 'the error is retried', no: 'the error is not retried' },
  isFailure: { answer: (v) => native.counts_as_failure(v), yes: 'the error counts as a failure', no: 'the error does not count' },
  isExpected: { answer: (v) => native.falls_back(v), yes: 'the fallbacks run', no: 'no fallback runs' },
});

/**
 * The filter named `name` of `options` as a function (error) => FilterVerdict
 * that never throws, or undefined when the option is absent ("every error").
 * Accepts a predicate, an error class or an array of them (`instanceof`);
 * anything else is a ConfigError naming the option. A filter that throws is
 * reported through console.warn (saying what core made of it) and answers
 * `Failed`; the user's error always surfaces unchanged.
 */
export function errorFilter(options, name) {
  const value = options[name];
  if (value === undefined) return undefined;
  return guarded(filterOf(value, name), name);
}

/** Whether a verdict of filter `name` lets the error through (retry, count, fall back): core's answer. */
export function verdictAnswer(name, verdict) {
  return ROLES[name].answer(verdict);
}

function filterOf(value, name) {
  // A class is not a predicate: `TypeError(e)` is a truthy new error, and a
  // user's class cannot even be called without `new`.
  if (isClass(value)) return (error) => error instanceof value;
  if (typeof value === 'function') return value;
  if (Array.isArray(value) && value.every(canInstanceof)) {
    const classes = [...value];
    return (error) => classes.some((c) => error instanceof c);
  }
  throw wrongType(name, REQUIREMENT, value);
}

/** `test` answering a FilterVerdict, `Failed` in place of an exception. */
function guarded(test, name) {
  const role = ROLES[name];
  return (error) => {
    const { Yes, No, Failed } = native.FilterVerdict;
    try {
      return test(error) ? Yes : No;
    } catch (e) {
      console.warn(`resilience-wasm: ${name} threw; ${role.answer(Failed) ? role.yes : role.no}`, e);
      return Failed;
    }
  };
}

/** Whether `value` is an error class (Error, a subclass, or any `class`), not a predicate. */
function isClass(value) {
  if (typeof value !== 'function') return false;
  if (value === Error || value.prototype instanceof Error) return true;
  return /^class\b/.test(Function.prototype.toString.call(value));
}

/** Whether `instanceof value` works: a function with a prototype object (not an arrow function). */
function canInstanceof(value) {
  return typeof value === 'function' && typeof value.prototype === 'object' && value.prototype !== null;
}

/** How each result predicate's answer is read, and how its warning says what core decided. */
const VALUE_ROLES = Object.freeze({
  retryableResult: { answer: (v) => native.retryable(v), yes: 'the value is retried', no: 'the value is accepted' },
  isFailureResult: {
    answer: (v) => native.counts_as_failure(v),
    yes: 'the value counts as a failure',
    no: 'the value does not count',
  },
  hedgeFailureResult: { answer: (v) => native.hedge_failed(v), yes: 'the value is not an answer', no: 'the value is an answer' },
});

/**
 * A predicate on returned values named `name` of `options`, as a function
 * (value) => FilterVerdict that never throws (a throw is `Failed`, reported
 * through console.warn with what core made of it), or undefined when absent.
 * `role` picks core's rule for a predicate that throws (default: `name`'s).
 */
export function valuePredicate(options, name, role = name) {
  const predicate = options[name];
  if (predicate === undefined) return undefined;
  if (typeof predicate !== 'function') throw wrongType(name, 'a predicate (value) => boolean', predicate);
  const { answer, yes, no } = VALUE_ROLES[role];
  return (value) => {
    const { Yes, No, Failed } = native.FilterVerdict;
    try {
      return predicate(value) ? Yes : No;
    } catch (e) {
      console.warn(`resilience-wasm: ${name} threw; ${answer(Failed) ? yes : no}`, e);
      return Failed;
    }
  };
}

/** Whether a value predicate's verdict makes the value a failure, per core's rule for `role`. */
export function valueVerdict(role, verdict) {
  return VALUE_ROLES[role].answer(verdict);
}
