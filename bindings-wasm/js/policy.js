// RetryPolicy: configuration plus the pure decisions, all taken by core.

import { translatingConfigErrors } from './errors.js';
import { native } from './native.js';
import { errorFilter, numberFor } from './options.js';

/** Defaults of the original module (milliseconds here). */
const DEFAULTS = Object.freeze({
  maxAttempts: 3,
  backoff: 'exponential',
  baseDelayMs: 1000,
  maxDelayMs: 60000,
  jitter: true,
});

/** Core's name of a `jitter` option value (true: the original's proportional jitter). */
function jitterName(jitter) {
  if (jitter === true) return 'proportional';
  if (jitter === false) return 'none';
  return String(jitter);
}

let internals;

/** How many times to try, and how long to wait in between. */
export class RetryPolicy {
  #core;
  #isRetryable;
  #options;

  constructor(options = {}) {
    const o = { ...DEFAULTS, ...withoutUndefined(options) };
    const codes = o.retryableStatusCodes;
    this.#core = translatingConfigErrors(
      () =>
        new native.RetryPolicyCore(
          numberFor(o.maxAttempts),
          String(o.backoff),
          numberFor(o.baseDelayMs),
          numberFor(o.maxDelayMs),
          jitterName(o.jitter),
          codes == null ? undefined : Array.isArray(codes) ? codes.map((c) => numberFor(c)) : [Number.NaN],
          o.seed,
        ),
      o,
    );
    this.#isRetryable = errorFilter(o, 'retryableErrors');
    this.#options = Object.freeze({
      maxAttempts: o.maxAttempts,
      backoff: o.backoff,
      baseDelayMs: o.baseDelayMs,
      maxDelayMs: o.maxDelayMs,
      jitter: o.jitter,
      retryableStatusCodes: codes == null ? undefined : Object.freeze([...codes]),
      seed: o.seed,
    });
  }

  static {
    internals = (policy) => ({ core: policy.#core, isRetryable: policy.#isRetryable });
  }

  /** Total attempts, the first included. */
  get maxAttempts() {
    return this.#options.maxAttempts;
  }
  /** 'fixed' | 'linear' | 'exponential' | 'fibonacci'. */
  get backoff() {
    return this.#options.backoff;
  }
  get baseDelayMs() {
    return this.#options.baseDelayMs;
  }
  get maxDelayMs() {
    return this.#options.maxDelayMs;
  }
  get jitter() {
    return this.#options.jitter;
  }
  get retryableStatusCodes() {
    return this.#options.retryableStatusCodes;
  }
  get seed() {
    return this.#options.seed;
  }

  /** The delay in ms before retrying after failed attempt `attempt` (jittered; 0 for attempt <= 0). */
  calculateDelayMs(attempt) {
    return this.#core.calculate_delay_ms(attempt);
  }

  /** Whether to retry `error` after failed attempt `attempt`. */
  shouldRetry(error, attempt) {
    return this.#core.should_retry(attempt, this.isRetryable(error));
  }

  /** Whether to retry `response` (anything with a numeric `status`) after attempt `attempt`. */
  shouldRetryResponse(response, attempt) {
    return this.#core.should_retry_status(response.status, attempt);
  }

  /** Whether `error` passes the `retryableErrors` filter (every error when there is none). */
  isRetryable(error) {
    const filter = this.#isRetryable;
    return filter === undefined || Boolean(filter(error));
  }
}

/** The core policy and error filter of a RetryPolicy (package-internal). */
export function policyInternals(policy) {
  return internals(policy);
}

function withoutUndefined(options) {
  const out = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out;
}
