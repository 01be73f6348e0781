// RetryPolicy: configuration plus the pure decisions, all taken by core.

import { translatingConfigErrors } from './errors.js';
import { native } from './native.js';
import { attemptArgument, nameFor, numberFor, statusOf } from './options.js';
import { errorFilter } from './predicates.js';

/** Core's name of a `jitter` option value (true: the original's proportional jitter). */
function jitterName(jitter) {
  if (jitter === true) return 'proportional';
  if (jitter === false) return 'none';
  return nameFor(jitter);
}

let internals;

/** How many times to try, and how long to wait in between. */
export class RetryPolicy {
  #core;
  #isRetryable;
  #statusCodes;
  #seed;

  /** Options left out (or undefined) take core's defaults: the original module's. */
  constructor(options = {}) {
    const o = options;
    const codes = o.retryableStatusCodes;
    this.#core = translatingConfigErrors(
      () =>
        new native.RetryPolicyCore(
          numberFor(o.maxAttempts),
          nameFor(o.backoff),
          numberFor(o.baseDelayMs),
          numberFor(o.maxDelayMs),
          jitterName(o.jitter),
          codes == null ? undefined : Array.isArray(codes) ? codes.map((c) => numberFor(c) ?? Number.NaN) : [Number.NaN],
          o.seed,
        ),
      o,
    );
    this.#isRetryable = errorFilter(o, 'retryableErrors');
    this.#statusCodes = codes == null ? undefined : Object.freeze([...codes]);
    this.#seed = o.seed;
  }

  static {
    internals = (policy) => ({ core: policy.#core, isRetryable: policy.#isRetryable });
  }

  /** Total attempts, the first included. */
  get maxAttempts() {
    return this.#core.max_attempts();
  }
  /** 'fixed' | 'linear' | 'exponential' | 'fibonacci'. */
  get backoff() {
    return this.#core.backoff();
  }
  get baseDelayMs() {
    return this.#core.base_delay_ms();
  }
  get maxDelayMs() {
    return this.#core.max_delay_ms();
  }
  /** The jitter mode's name: 'none' | 'proportional' | 'full' | 'equal' | 'decorrelated'. */
  get jitter() {
    return this.#core.jitter();
  }
  get retryableStatusCodes() {
    return this.#statusCodes;
  }
  get seed() {
    return this.#seed;
  }

  /**
   * The delay in ms before retrying after failed attempt `attempt` (jittered;
   * 0 for attempt <= 0). A non-integer attempt is a ConfigError.
   */
  calculateDelayMs(attempt) {
    return this.#core.calculate_delay_ms(attemptArgument(attempt));
  }

  /** Whether to retry `error` after failed attempt `attempt` (an integer, else ConfigError). */
  shouldRetry(error, attempt) {
    return this.#core.should_retry(attemptArgument(attempt), this.isRetryable(error));
  }

  /**
   * Whether to retry `response` after attempt `attempt` (an integer, else
   * ConfigError). A response without an integer `status` (null, a string
   * status) is not retryable.
   */
  shouldRetryResponse(response, attempt) {
    const n = attemptArgument(attempt);
    const status = statusOf(response);
    return status !== undefined && this.#core.should_retry_status(status, n);
  }

  /**
   * Whether `error` passes the `retryableErrors` filter (every error when
   * there is none). A filter that throws answers false (predicates.js).
   */
  isRetryable(error) {
    const filter = this.#isRetryable;
    return filter === undefined || filter(error);
  }
}

/** The core policy and error filter of a RetryPolicy (package-internal). */
export function policyInternals(policy) {
  return internals(policy);
}
