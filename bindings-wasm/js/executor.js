// RetryExecutor: a thin loop. It calls the operation, awaits it, sleeps;
// whether and how long to wait comes from core's RetryState (through
// RetryPolicyCore.on_failure), never from here — and so does whether the
// retry filter is asked at all (needs_classification: never about the last
// attempt's error).

import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction, optionalSignal, wrongType } from './options.js';
import { policyInternals, RetryPolicy } from './policy.js';
import { defaultSleep, isAbortError, nextMacrotask, raceAbort } from './timers.js';

/** Core's answer when there is no Retry-After hint. */
const NO_HINT = Number.NaN;
/** The public give-up reasons (onGiveUp), by core's RetryAnswer variant name. */
const GIVE_UP_REASONS = Object.freeze({ GiveUpExhausted: 'exhausted', GiveUpNotRetryable: 'not_retryable' });

let internals;

/** Runs operations under a RetryPolicy. */
export class RetryExecutor {
  #policy;
  #core;
  #classify;
  #onRetry;
  #onGiveUp;
  #signal;
  #sleep;
  #clock;

  constructor(policy, options = {}) {
    if (!(policy instanceof RetryPolicy)) throw wrongType('policy', 'a RetryPolicy', policy);
    this.#policy = policy;
    ({ core: this.#core, classify: this.#classify } = policyInternals(policy));
    this.#onRetry = optionalFunction(options, 'onRetry');
    this.#onGiveUp = optionalFunction(options, 'onGiveUp');
    this.#signal = optionalSignal(options, 'signal');
    this.#sleep = optionalFunction(options, 'sleep');
    this.#clock = optionalFunction(options, 'clock') ?? Date.now;
  }

  /** The policy this executor runs. */
  get policy() {
    return this.#policy;
  }

  /**
   * Runs `fn(attempt)` until it succeeds or the policy gives up; rejects with
   * the last error unchanged, or with `signal.reason` once aborted. Returns a
   * promise in every case (a synchronous throw of `fn` is a failed attempt).
   */
  execute(fn) {
    if (typeof fn !== 'function') return rejectOperation('RetryExecutor.execute', 'fn', fn);
    if (this.#signal !== undefined) return this.#run(fn, this.#signal, undefined);
    // Fast path: no signal, so the first attempt needs nothing from core, and
    // a `.then` costs less than an async frame (bench/js/RESULTS.md, S1).
    let first;
    try {
      first = fn(1);
    } catch (error) {
      return this.#retryAfter(fn, error, undefined, undefined);
    }
    return Promise.resolve(first).then(undefined, (error) => this.#retryAfter(fn, error, undefined, undefined));
  }

  static {
    internals = {
      run: (executor, fn, signal, judge) => executor.#run(fn, signal, judge),
      nowUnixMs: (executor) => executor.#clock(),
    };
  }

  /**
   * The general loop. `judge(value, attempt)` may call a resolved value a
   * failure worth retrying by returning its Retry-After hint in ms (NaN:
   * none); `undefined` accepts the value.
   */
  async #run(fn, signal, judge) {
    signal?.throwIfAborted();
    let value;
    try {
      value = await (signal === undefined ? fn(1) : raceAbort(fn(1), signal));
    } catch (error) {
      return this.#retryAfter(fn, error, signal, judge);
    }
    const hint = judge?.(value, 1);
    if (hint === undefined) return value;
    return this.#retryAfter(fn, value, signal, judge, hint);
  }

  /** Attempt 1 failed with `failure` (an error, or a judged value): retry per core. */
  async #retryAfter(fn, failure, signal, judge, hint = undefined) {
    const core = this.#core;
    const handle = core.begin();
    try {
      let attempt = 1;
      let isValue = hint !== undefined;
      const { Yes, No } = native.FilterVerdict;
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        // Core says whether the error must be classified (never on the last
        // attempt); a judged value (a retryable status) already was, and a
        // cancellation is never retried.
        let verdict = Yes;
        if (!isValue && core.needs_classification(handle)) {
          verdict = isAbortError(failure) ? No : (this.#classify?.(failure) ?? Yes);
        }
        // The delay in ms (>= 0), or a negative RetryAnswer: give up.
        const delayMs = core.on_failure(handle, verdict, isValue ? hint : NO_HINT);
        if (delayMs < 0) {
          this.#notifyGiveUp(attempt, GIVE_UP_REASONS[native.RetryAnswer[delayMs]], failure);
          if (isValue) return failure;
          throw failure;
        }
        this.#notify(attempt, failure, delayMs);
        await this.#wait(delayMs, signal);
        attempt += 1;
        try {
          const value = await (signal === undefined ? fn(attempt) : raceAbort(fn(attempt), signal));
          hint = judge?.(value, attempt);
          if (hint === undefined) return value;
          failure = value;
          isValue = true;
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          failure = error;
          isValue = false;
        }
      }
    } finally {
      core.end(handle);
    }
  }

  #notify(attempt, failure, delayMs) {
    const onRetry = this.#onRetry;
    if (onRetry === undefined) return;
    try {
      onRetry(attempt, failure, delayMs);
    } catch (e) {
      // A failing callback is reported, never allowed to break the loop.
      console.warn('resilience-wasm: onRetry threw', e);
    }
  }

  #notifyGiveUp(attempts, reason, failure) {
    const onGiveUp = this.#onGiveUp;
    if (onGiveUp === undefined) return;
    try {
      onGiveUp(attempts, reason, failure);
    } catch (e) {
      console.warn('resilience-wasm: onGiveUp threw', e);
    }
  }

  #wait(delayMs, signal) {
    const sleep = this.#sleep;
    if (sleep !== undefined) {
      const slept = sleep(delayMs, signal);
      return signal === undefined ? slept : raceAbort(slept, signal);
    }
    // A zero delay waits one macrotask, not a timer (setTimeout(0) waits >= 1 ms)
    // and not a microtask (that would starve the event loop: no timer, I/O or
    // abort could run until the attempts are used up).
    if (delayMs === 0) return signal === undefined ? nextMacrotask() : raceAbort(nextMacrotask(), signal);
    return defaultSleep(delayMs, signal);
  }
}

/**
 * Package-internal: runs `fn` through `executor` with an optional per-call
 * signal and a judge of resolved values (see withRetry).
 */
export function runJudged(executor, fn, signal, judge) {
  return internals.run(executor, fn, signal, judge);
}

/** Package-internal: the executor's wall clock, ms since the epoch. */
export function wallClockMs(executor) {
  return internals.nowUnixMs(executor);
}
