// Error filters: `retryableErrors` (retry), `isFailure` (breaker) and
// `isExpected` (fallback). What a user may pass is checked once, when the
// strategy is built; what a filter that throws at call time means is the
// table below. The core will own that rule; until then it lives here alone.

import { ConfigError } from './errors.js';

/**
 * The answer of a filter that throws, per option. The user's error always
 * surfaces unchanged, and the filter's exception goes to console.warn.
 */
const WHEN_A_FILTER_THROWS = Object.freeze({
  // Not retryable: the user's error is rejected at once.
  retryableErrors: Object.freeze({ answer: false, meaning: 'the error is not retried' }),
  // Counted: a breaker that cannot classify an error fails safe.
  isFailure: Object.freeze({ answer: true, meaning: 'the error counts as a failure' }),
  // Not expected: no fallback runs, the primary's error is rejected.
  isExpected: Object.freeze({ answer: false, meaning: 'no fallback runs' }),
});

const REQUIREMENT = 'a predicate (error) => boolean, an error class or an array of error classes';

/**
 * The filter named `name` of `options` as a function (error) => boolean
 * that never throws, or undefined when the option is absent ("every error").
 * Accepts a predicate, an error class or an array of them (`instanceof`);
 * anything else is a ConfigError naming the option.
 */
export function errorFilter(options, name) {
  const value = options[name];
  if (value === undefined) return undefined;
  return guarded(filterOf(value, name), name);
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
  throw new ConfigError(name, REQUIREMENT, value);
}

/** `test` with the answer of WHEN_A_FILTER_THROWS[name] in place of an exception. */
function guarded(test, name) {
  const { answer, meaning } = WHEN_A_FILTER_THROWS[name];
  return (error) => {
    try {
      return Boolean(test(error));
    } catch (e) {
      console.warn(`resilience-wasm: ${name} threw; ${meaning}`, e);
      return answer;
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
