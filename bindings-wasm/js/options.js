// Reading option objects: the checks core cannot make, because core never
// sees the values (functions, signals are JavaScript values). Every other
// option goes to core as it is, and core's rules validate it. Error filters
// have their own module, predicates.js.

import { ConfigError } from './errors.js';
import { describe } from './render.js';

/**
 * The ConfigError of an option core never sees, given a value of the wrong
 * kind: kind 'wrong_type', a message shaped like core's.
 */
export function wrongType(parameter, requirement, got) {
  return new ConfigError(`invalid ${parameter}: must be ${requirement}, got ${describe(got)}`, {
    kind: 'wrong_type',
    parameter,
    got,
  });
}

/** An optional function option. */
export function optionalFunction(options, name) {
  const value = options[name];
  if (value === undefined || typeof value === 'function') return value;
  throw wrongType(name, 'a function', value);
}

/** An optional AbortSignal option. */
export function optionalSignal(options, name) {
  const value = options[name];
  if (value === undefined || isSignal(value)) return value;
  throw wrongType(name, 'an AbortSignal', value);
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
