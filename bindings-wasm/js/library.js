// The errors the library creates, and rule `library_errors`: how each
// strategy of a pipeline treats them (core's LibraryError, read once). The
// user's filters judge the user's own errors only.

import { BrokenCircuitError, BulkheadRejectedError, RateLimitedError, ThrottledError, TimeoutError } from './errors.js';
import { native } from './native.js';

/** Bits of core's answer per library error (src/pipeline.rs). */
export const RETRIED = 1;
export const COUNTED = 2;
export const FALLS_BACK = 4;

/** Each error class of the library by core's name of the error it is (LibraryError::as_str). */
const CLASSES = Object.freeze({
  breaker_open: BrokenCircuitError,
  timed_out: TimeoutError,
  bulkhead_full: BulkheadRejectedError,
  rate_limited: RateLimitedError,
  throttled: ThrottledError,
});

/**
 * Core's bits for a library error, kept on its class's prototype under a
 * key only this module holds: one property read answers "which library
 * error, if any" (and a subclass inherits it, as `instanceof` would say),
 * where testing `instanceof` against each class cost ~25 ns apiece on
 * every failure inside a pipeline (bench/js, S5 and S5b through a pipeline).
 */
const RULE_BITS = Symbol('resilience-wasm library_errors bits');

let rulesRead = false;

function readRules() {
  const bits = native.library_error_rules();
  native.library_error_names().forEach((name, i) => {
    const cls = CLASSES[name];
    // A library error core has and this glue cannot create: a build of mismatched halves.
    if (cls === undefined) throw new Error(`resilience-wasm: no error class for core's library error ${name}`);
    Object.defineProperty(cls.prototype, RULE_BITS, { value: bits[i] });
  });
  rulesRead = true;
}

/** Whether rule `library_errors` says `bit` for `error`; undefined when it is not a library error. */
export function libraryRule(error, bit) {
  if (!rulesRead) readRules();
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return undefined;
  const bits = error[RULE_BITS];
  return bits === undefined ? undefined : (bits & bit) !== 0;
}

/**
 * Rule `rejection_hint`: the wait a retry honours after a library error (a
 * breaker's remaining open time, a rate limiter's exact wait), recorded by
 * the strategy of a pipeline that rejected, from core's answer, for the
 * retry around it.
 */
export const rejectionHints = new WeakMap();
