// Reading option objects: defaults, and the checks core cannot make
// (functions and signals are JavaScript values core never sees). Error
// filters have their own module, predicates.js.

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
 * A name option for core to parse (backoff, jitter): `undefined` (core's
 * default) stays undefined, a string goes as it is, and any other value
 * reaches core as its type's name, which names nothing (and is rejected).
 * Never String(value): an object without a prototype cannot be converted.
 */
export function nameFor(value) {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : typeof value;
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
