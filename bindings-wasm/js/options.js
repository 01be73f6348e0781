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
 * array of error classes (`instanceof`), or undefined for "every error".
 */
export function errorFilter(options, name) {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value;
  if (Array.isArray(value) && value.every((c) => typeof c === 'function')) {
    const classes = [...value];
    return (error) => classes.some((c) => error instanceof c);
  }
  throw new ConfigError(name, 'a predicate (error) => boolean or an array of error classes', value);
}
