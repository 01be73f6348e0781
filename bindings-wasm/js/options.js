// Reading option objects: defaults, and the checks core cannot make
// (functions and classes are JavaScript values core never sees).

import { ConfigError } from './errors.js';

/** An optional function option. */
export function optionalFunction(options, name) {
  const value = options[name];
  if (value === undefined || typeof value === 'function') return value;
  throw new ConfigError(name, 'a function', value);
}

/** An optional AbortSignal option. */
export function optionalSignal(options, name) {
  const value = options[name];
  if (value === undefined || isSignal(value)) return value;
  throw new ConfigError(name, 'an AbortSignal', value);
}

function isSignal(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.aborted === 'boolean' &&
    typeof value.addEventListener === 'function' &&
    typeof value.removeEventListener === 'function'
  );
}

/**
 * A number option for core to validate: `undefined` (core's default) stays
 * undefined, any other non-number reaches core as NaN (and is rejected).
 */
export function numberFor(value) {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : Number.NaN;
}

/**
 * The error filter of a retry policy or fallback chain: a predicate, an
 * error class or an array of them (`instanceof`), or undefined for "every
 * error".
 */
export function errorFilter(options, name) {
  const value = options[name];
  if (value === undefined) return undefined;
  // A class is not a predicate: `TypeError(e)` is a truthy new error, and a
  // user's class cannot even be called without `new`.
  if (isClass(value)) return (error) => error instanceof value;
  if (typeof value === 'function') return value;
  if (Array.isArray(value) && value.every(canInstanceof)) {
    const classes = [...value];
    return (error) => classes.some((c) => error instanceof c);
  }
  throw new ConfigError(name, 'a predicate (error) => boolean, an error class or an array of error classes', value);
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

/** The largest integer a JavaScript number holds exactly. */
const MAX_INTEGER = Number.MAX_SAFE_INTEGER;

/**
 * An attempt number passed to a policy method: an integer (0 and below ask
 * for no delay). Anything else would be truncated silently by the core call.
 */
export function attemptArgument(value) {
  if (Number.isSafeInteger(value)) return value;
  throw new ConfigError('attempt', `an integer in -${MAX_INTEGER}..=${MAX_INTEGER}`, value);
}

/**
 * The HTTP status of a response-like value when it is an integer; else
 * undefined (not retryable — like Python's middleware, which retries only an
 * int `status`).
 */
export function statusOf(response) {
  const status = response?.status;
  return Number.isInteger(status) ? status : undefined;
}
