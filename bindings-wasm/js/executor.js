// RetryExecutor: a thin loop. It calls the operation, awaits it, sleeps;
// whether and how long to wait comes from core's RetryState (through
// RetryPolicyCore: on_failure, on_timeout, on_result), never from here —
// and so does whether the retry filter is asked at all
// (needs_classification: never about the last attempt's error), the
// deadline (max_elapsed) and the retry budget.

import { TimeoutError } from './errors.js';
import { both, eventTypes, listenerOption } from './events.js';
import { libraryRule, rejectionHints, RETRIED } from './library.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction, optionalSignal, wrongType } from './options.js';
import { policyInternals, RetryPolicy } from './policy.js';
import { runTimed } from './timeout.js';
import { defaultSleep, isAbortError, neverAborted, nextMacrotask, raceAbort } from './timers.js';

/** Core's answer when there is no Retry-After hint (and no clock reading). */
const NONE = Number.NaN;

let giveUpReasons;

/** The public give-up reasons, by core's RetryAnswer code. */
function reasonOf(answer) {
  if (giveUpReasons === undefined) {
    const a = native.RetryAnswer;
    giveUpReasons = {
      [a.GiveUpExhausted]: 'exhausted',
      [a.GiveUpNotRetryable]: 'not_retryable',
      [a.GiveUpDeadline]: 'deadline',
      [a.GiveUpBudget]: 'budget',
    };
  }
  return giveUpReasons[answer];
}

/** Whether an attempt's outcome is a value (judged or not), not an error or a timeout. */
function succeeded(outcome) {
  return !('error' in outcome) && outcome.timedOut === undefined;
}

/** The default clock: ms since the epoch (for Retry-After dates), monotonic (for the deadline). */
const monotonicWallClock = () => performance.timeOrigin + performance.now();

let internals;

/** Runs operations under a RetryPolicy. */
export class RetryExecutor {
  #policy;
  #core;
  #classify;
  #judgeResult;
  #budgetClock;
  #onRetry;
  #onGiveUp;
  #emit;
  #signal;
  #sleep;
  #clock;
  #attemptTimeoutMs;
  /** Whether a sequence needs a clock reading at its start (a deadline). */
  #timed;
  /** Whether `execute` may take the fast path (nothing to judge, time or cancel). */
  #simple;

  constructor(policy, options = {}) {
    if (!(policy instanceof RetryPolicy)) throw wrongType('policy', 'a RetryPolicy', policy);
    this.#policy = policy;
    ({
      core: this.#core,
      classify: this.#classify,
      judgeResult: this.#judgeResult,
      budgetClock: this.#budgetClock,
    } = policyInternals(policy));
    this.#onRetry = optionalFunction(options, 'onRetry');
    this.#onGiveUp = optionalFunction(options, 'onGiveUp');
    this.#emit = listenerOption(options);
    this.#signal = optionalSignal(options, 'signal');
    this.#sleep = optionalFunction(options, 'sleep');
    this.#clock = optionalFunction(options, 'clock') ?? monotonicWallClock;
    this.#attemptTimeoutMs = this.#core.attempt_timeout_ms();
    this.#timed = this.#core.max_elapsed_ms() !== undefined;
    this.#simple = this.#signal === undefined && this.#attemptTimeoutMs === undefined && this.#judgeResult === undefined;
  }

  /** The policy this executor runs. */
  get policy() {
    return this.#policy;
  }

  /**
   * Runs `fn(attempt, signal)` until it succeeds or the policy gives up;
   * rejects with the last error unchanged, or with `signal.reason` once
   * aborted. A value `retryableResult` calls a failure is retried, and the
   * last one is returned when the retries run out. `signal` is the
   * attempt's: aborted when the attempt times out (`attemptTimeoutMs`) or
   * the execution is aborted. Returns a promise in every case (a
   * synchronous throw of `fn` is a failed attempt).
   */
  execute(fn) {
    if (typeof fn !== 'function') return rejectOperation('RetryExecutor.execute', 'fn', fn);
    if (!this.#simple) return this.#run(fn, this.#signal, undefined);
    // Fast path: nothing to time, judge or cancel, so the first attempt
    // needs nothing from core but the start (a budget's deposit), and a
    // `.then` costs less than an async frame (bench/js/RESULTS.md, S1).
    const start = this.#start();
    let first;
    try {
      first = fn(1, neverAborted());
    } catch (error) {
      return this.#retryAfter(fn, error, start);
    }
    return Promise.resolve(first).then(undefined, (error) => this.#retryAfter(fn, error, start));
  }

  static {
    internals = {
      run: (executor, fn, signal, mode, arg) => executor.#run(fn, signal, mode, arg),
      nowUnixMs: (executor) => executor.#clock(),
      emit: (executor) => executor.#emit,
    };
  }

  /** Starts a sequence through the policy (a budget's deposit); the clock reading it started at (NaN: none needed). */
  #start() {
    const start = this.#timed ? this.#clock() : NONE;
    const budgetClock = this.#budgetClock;
    if (budgetClock !== undefined) this.#core.start(start, budgetClock());
    return start;
  }

  /** Attempt 1 failed on the fast path: the general loop from there. */
  #retryAfter(fn, error, start) {
    return this.#loop(fn, undefined, undefined, start, { error }, 1);
  }

  /**
   * The general loop. `mode` (package-internal): `pipeline` judges the
   * library's errors by core's rule (and leaves the attempt timeout to the
   * pipeline's own layer), `emit` adds the pipeline's listener, `judge`
   * replaces the result predicate (withRetry: `{ verdict(value),
   * hintMs(value), discard(value) }`).
   */
  #run(fn, signal, mode, arg) {
    // A pipeline's retry without a signal, a result judge or an attempt
    // timeout of its own: the fast path of `execute` (bench/js, S11).
    if (signal === undefined && mode?.pipeline && this.#judgeResult === undefined) {
      const start = this.#start();
      let first;
      try {
        first = fn(1, neverAborted(), arg);
      } catch (error) {
        return this.#loop(fn, undefined, mode, start, { error }, 1, arg);
      }
      return Promise.resolve(first).then(undefined, (error) => this.#loop(fn, undefined, mode, start, { error }, 1, arg));
    }
    return this.#runAsync(fn, signal, mode, arg);
  }

  async #runAsync(fn, signal, mode, arg) {
    signal?.throwIfAborted();
    const start = this.#start();
    const outcome = await this.#attempt(fn, 1, signal, mode, arg);
    if (succeeded(outcome) && (mode?.judge ?? this.#judgeResult) === undefined) return outcome.value;
    return this.#loop(fn, signal, mode, start, outcome, 1, arg);
  }

  /**
   * Runs attempt `attempt`: `{ value }`, `{ error }`, or `{ timedOut }` (its
   * own timeout expired: the TimeoutError). Rejects only when `signal` aborts.
   */
  async #attempt(fn, attempt, signal, mode, arg) {
    // In a pipeline the attempt timeout is a layer of its own (inside the breaker).
    const timeoutMs = mode?.pipeline ? undefined : this.#attemptTimeoutMs;
    let timedOut;
    let call;
    if (timeoutMs === undefined) {
      let result;
      try {
        result = fn(attempt, signal ?? neverAborted(), arg);
      } catch (error) {
        // A synchronous throw is the attempt's outcome at once, not a
        // rejected promise awaited (calls.js: that costs Node a round trip).
        if (signal?.aborted) throw signal.reason;
        return { error };
      }
      call = signal === undefined ? result : raceAbort(result, signal);
    } else {
      const expired = (error) => {
        timedOut = error;
        const emit = this.#emit;
        if (emit !== undefined) emit({ type: eventTypes().timeout, strategy: 'attempt_timeout', afterMs: timeoutMs });
      };
      call = runTimed((s) => fn(attempt, s, arg), signal, timeoutMs, this.#sleep, expired);
    }
    try {
      return { value: await call };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut !== undefined && error === timedOut) return { timedOut };
      return { error };
    }
  }

  /** From a failed attempt `attempt` (`outcome`) on: ask core, wait, try again. */
  async #loop(fn, signal, mode, start, outcome, attempt, arg) {
    const core = this.#core;
    const handle = core.resume(start);
    const emit = mode === undefined ? this.#emit : both(this.#emit, mode.emit);
    const judge = mode?.judge ?? this.#judgeResult;
    const { Yes, No } = native.FilterVerdict;
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        const now = this.#timed ? this.#clock() : NONE;
        const budgetNow = this.#budgetClock?.() ?? NONE;
        let answer;
        let isValue = false;
        if (outcome.timedOut !== undefined) {
          answer = core.on_timeout(handle, now, budgetNow);
        } else if ('error' in outcome) {
          const error = outcome.error;
          // Rule `library_errors` in a pipeline; a cancellation is never retried.
          const library = mode?.pipeline ? libraryRule(error, RETRIED) : undefined;
          if (library !== undefined) {
            if (error instanceof TimeoutError) answer = core.on_timeout(handle, now, budgetNow);
            else answer = core.on_failure(handle, library ? Yes : No, rejectionHints.get(error) ?? NONE, now, budgetNow);
          } else {
            let verdict = Yes;
            if (core.needs_classification(handle)) verdict = isAbortError(error) ? No : (this.#classify?.(error) ?? Yes);
            answer = core.on_failure(handle, verdict, NONE, now, budgetNow);
          }
        } else {
          isValue = true;
          const value = outcome.value;
          const verdict = judge === undefined ? No : mode?.judge === undefined ? judge(value) : judge.verdict(value);
          const hint = verdict === Yes && mode?.judge !== undefined ? mode.judge.hintMs(value) : NONE;
          answer = core.on_result(handle, verdict, hint, now, budgetNow);
          if (answer === native.RetryAnswer.Accept) return value;
        }
        const failure = outcome.timedOut ?? (isValue ? outcome.value : outcome.error);
        if (answer < 0) {
          const reason = reasonOf(answer);
          if (emit !== undefined) emit({ type: eventTypes().gaveUp, attempts: attempt, reason });
          this.#notifyGiveUp(attempt, reason, failure);
          if (isValue) return failure;
          throw failure;
        }
        if (emit !== undefined) {
          const event = { type: eventTypes().retryScheduled, attempt, delayMs: answer };
          if (isValue) event.result = failure;
          else event.error = failure;
          emit(event);
        }
        this.#notify(attempt, failure, answer);
        if (isValue) mode?.judge?.discard(failure);
        await this.#wait(answer, signal);
        attempt += 1;
        outcome = await this.#attempt(fn, attempt, signal, mode, arg);
        if (succeeded(outcome) && judge === undefined) return outcome.value;
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
 * Package-internal: runs `fn(attempt, signal, arg)` through `executor` with
 * a per-call signal and a `mode` (see #run); `arg` is passed through (a
 * pipeline's operation, so no closure is made per call).
 */
export function runWith(executor, fn, signal, mode, arg) {
  return internals.run(executor, fn, signal, mode, arg);
}

/** Package-internal: the executor's wall clock, ms since the epoch. */
export function wallClockMs(executor) {
  return internals.nowUnixMs(executor);
}
