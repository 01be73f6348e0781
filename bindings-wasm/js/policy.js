// RetryPolicy: configuration plus the pure decisions, all taken by core.
// Every option value goes to core as it is; core's rules validate it, pick
// defaults and map `jitter: true/false`.

import { budgetInternals, RetryBudget } from './load.js';
import { native } from './native.js';
import { wrongType } from './options.js';
import { errorFilter, valuePredicate, verdictAnswer } from './predicates.js';

let internals;

/** How many times to try, and how long to wait in between. */
export class RetryPolicy {
  #core;
  #classify;
  #judgeResult;
  #budget;
  #statusCodes;
  #seed;

  /** Options left out (or undefined) take core's defaults: the original module's. */
  constructor(options = {}) {
    const o = options;
    const budget = o.budget;
    if (budget !== undefined && !(budget instanceof RetryBudget)) throw wrongType('budget', 'a RetryBudget', budget);
    this.#core = new native.RetryPolicyCore(
      o.maxAttempts,
      o.backoff,
      o.baseDelayMs,
      o.maxDelayMs,
      o.jitter,
      o.retryableStatusCodes,
      o.seed,
      o.maxElapsedMs,
      o.attemptTimeoutMs,
      budget === undefined ? undefined : budgetInternals(budget).core.share(),
    );
    this.#budget = budget;
    this.#classify = errorFilter(o, 'retryableErrors');
    this.#judgeResult = valuePredicate(o, 'retryableResult');
    const codes = this.#core.retryable_status_codes();
    this.#statusCodes = codes === undefined ? undefined : Object.freeze(Array.from(codes));
    this.#seed = o.seed ?? undefined;
  }

  static {
    internals = (policy) => ({
      core: policy.#core,
      classify: policy.#classify,
      judgeResult: policy.#judgeResult,
      budgetClock: policy.#budget === undefined ? undefined : budgetInternals(policy.#budget).clock,
    });
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
  /** The retryable statuses as core keeps them (sorted, without duplicates), or undefined. */
  get retryableStatusCodes() {
    return this.#statusCodes;
  }
  get seed() {
    return this.#seed;
  }
  /** The deadline of a whole execution in ms (counted from the start of attempt 1), or undefined. */
  get maxElapsedMs() {
    return this.#core.max_elapsed_ms();
  }
  /** How long one attempt may take in ms (its AbortSignal is then aborted), or undefined. */
  get attemptTimeoutMs() {
    return this.#core.attempt_timeout_ms();
  }
  /** The retry budget the policy draws on, or undefined. */
  get budget() {
    return this.#budget;
  }

  /**
   * The delay in ms before retrying after failed attempt `attempt` (jittered;
   * 0 for attempt <= 0). A non-integer attempt is a ConfigError (core's rule).
   */
  calculateDelayMs(attempt) {
    return this.#core.calculate_delay_ms(attempt);
  }

  /**
   * Whether to retry `error` after failed attempt `attempt` (an integer, else
   * ConfigError). The filter is asked only when an attempt is left.
   */
  shouldRetry(error, attempt) {
    const core = this.#core;
    if (!core.should_retry(attempt, true)) return false;
    return core.should_retry(attempt, this.isRetryable(error));
  }

  /**
   * Whether to retry `response` after attempt `attempt` (an integer, else
   * ConfigError). A response without an integer `status` (null, a string
   * status) is not retryable (core's rule `response_status`).
   */
  shouldRetryResponse(response, attempt) {
    return this.#core.should_retry_status(response?.status, attempt);
  }

  /**
   * Whether `error` passes the `retryableErrors` filter (every error when
   * there is none). A filter that throws answers as core's rule says (no).
   */
  isRetryable(error) {
    const classify = this.#classify;
    return classify === undefined || verdictAnswer('retryableErrors', classify(error));
  }
}

/** The core policy and error classifier of a RetryPolicy (package-internal). */
export function policyInternals(policy) {
  return internals(policy);
}
