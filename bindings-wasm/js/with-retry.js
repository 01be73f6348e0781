// withRetry: a fetch that retries network errors and retryable statuses,
// honouring Retry-After: a use of the retry's result predicate (a response
// with a retryable status is a failed value), not a second mechanism. The
// status check, the hint's parsing and capping, and retry-or-give-up are
// core's; this reads headers and discards bodies.

import { native } from './native.js';
import { RetryExecutor, runWith, wallClockMs } from './executor.js';
import { policyInternals, RetryPolicy } from './policy.js';
import { requireOperation } from './operations.js';
import { neverAborted } from './timers.js';

let defaults;

/**
 * Statuses worth retrying when the options name none: core's
 * DEFAULT_RETRYABLE_STATUS_CODES (500, 502, 503, 504), as in every language.
 * Read on first use: the wasm module is installed after this module loads.
 */
export function defaultRetryableStatusCodes() {
  defaults ??= Object.freeze(Array.from(native.default_retryable_status_codes()));
  return defaults;
}

/**
 * Wraps a fetch-like function. The result resolves with the first response
 * whose status is not retryable, or with the last response when retries run
 * out; it rejects with the last network error, or the abort reason.
 */
export function withRetry(fetchFn, options = {}) {
  requireOperation('withRetry', 'fetch', fetchFn);
  const { honorRetryAfter = true, onRetry, onEvent, signal, sleep, clock, ...policyOptions } = options;
  const given = policyOptions.retryableStatusCodes;
  const policy = new RetryPolicy({
    ...policyOptions,
    retryableStatusCodes: given === undefined ? defaultRetryableStatusCodes() : given,
  });
  const executor = new RetryExecutor(policy, { onRetry, onEvent, sleep, clock });
  const core = policyInternals(policy).core;
  const { Yes, No } = native.FilterVerdict;
  // The result predicate of this retry: a response whose status is
  // retryable is a failure (core's rule response_status: a value without an
  // integer status, not a Response, is a success). Core's on_result decides
  // what follows, the attempt count and the deadline included; the last
  // response is returned when the retries run out.
  const judge = {
    verdict: (response) => (core.is_retryable_status(response?.status) ? Yes : No),
    hintMs: (response) => (honorRetryAfter ? retryAfterMs(response, executor) : Number.NaN),
    // Retried: its body will not be read.
    discard: discardBody,
  };
  return (input, init) => {
    const callSignal = init?.signal ?? signal ?? undefined;
    // Each attempt's signal (aborted by the caller's, or by an attempt timeout) goes to fetch.
    const attempt = (_attempt, attemptSignal) =>
      fetchFn(input, attemptSignal === neverAborted() && init?.signal === undefined ? init : { ...init, signal: attemptSignal });
    return runWith(executor, attempt, callSignal, { judge });
  };
}

/** The response's Retry-After hint in ms, or NaN when absent or unparseable. */
function retryAfterMs(response, executor) {
  const header = response.headers?.get?.('retry-after');
  if (header == null) return Number.NaN;
  return native.retry_after_ms(String(header), wallClockMs(executor)) ?? Number.NaN;
}

/** Frees the connection of a response that will not be read. */
function discardBody(response) {
  try {
    const cancelled = response.body?.cancel?.();
    cancelled?.catch?.(() => {});
  } catch {
    // A body that is locked or already consumed needs nothing.
  }
}
