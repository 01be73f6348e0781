// The errors the library creates, and rule `library_errors`: how each
// strategy of a pipeline treats them (core's LibraryError, read once). The
// user's filters judge the user's own errors only.

import { BrokenCircuitError, BulkheadRejectedError, TimeoutError } from './errors.js';
import { native } from './native.js';

/** Bits of core's answer per library error (src/pipeline.rs). */
export const RETRIED = 1;
export const COUNTED = 2;
export const FALLS_BACK = 4;

let rules;

/** Whether rule `library_errors` says `bit` for `error`; undefined when it is not a library error. */
export function libraryRule(error, bit) {
  let index;
  if (error instanceof BrokenCircuitError) index = 0;
  else if (error instanceof TimeoutError) index = 1;
  else if (error instanceof BulkheadRejectedError) index = 2;
  else return undefined;
  rules ??= native.library_error_rules();
  return (rules[index] & bit) !== 0;
}

/**
 * Rule `rejection_hint`: the wait a retry honours after a breaker's
 * rejection (its remaining open time), recorded by the breaker of a
 * pipeline for the retry around it.
 */
export const rejectionHints = new WeakMap();
