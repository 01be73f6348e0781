// withRetry: a fetch that retries network errors and retryable statuses,
// honouring Retry-After. The status check, the hint's parsing and capping,
// and retry-or-give-up are core's; this reads headers and discards bodies.

import { native } from './native.js';
import { RetryExecutor, runJudged, wallClockMs } from './executor.js';
import { policyInternals, RetryPolicy } from './policy.js';
import { requireOperation } from './operations.js';

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
  const { honorRetryAfter = true, onRetry, signal, sleep, clock, ...policyOptions } = options;
  const given = policyOptions.retryableStatusCodes;
  const policy = new RetryPolicy({
    ...policyOptions,
    retryableStatusCodes: given === undefined ? defaultRetryableStatusCodes() : given,
  });
  const executor = new RetryExecutor(policy, { onRetry, sleep, clock });
  const core = policyInternals(policy).core;
  const judge = (response, attempt) => {
    // A value without an integer status (not a Response) is a success
    // (core's rule response_status).
    if (!core.should_retry_status(response?.status, attempt)) return undefined;
    const hint = honorRetryAfter ? retryAfterMs(response, executor) : Number.NaN;
    discardBody(response);
    return hint;
  };
  return (input, init) => {
    const callSignal = init?.signal ?? signal;
    const attemptInit = callSignal !== undefined && init?.signal === undefined ? { ...init, signal: callSignal } : init;
    return runJudged(executor, () => fetchFn(input, attemptInit), callSignal ?? undefined, judge);
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
