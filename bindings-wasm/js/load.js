// Load control: a retry budget shared by retry policies, an adaptive
// throttle and a GCRA rate limiter. Core builds each from the options
// (`*Config::from_values`: its rules, its defaults) and takes every
// decision; the glue reads the clock, hands core the reading, waits and
// turns refusals into typed errors.

import { RateLimitedError, ThrottledError } from './errors.js';
import { eventTypes, listenerOption } from './events.js';
import { fleetOptions } from './fleet.js';
import { native } from './native.js';
import { rejectOperation, requireOperation } from './operations.js';
import { optionalFunction, optionalSignal, wrongType } from './options.js';
import { withoutStack } from './rejections.js';
import { defaultSleep, raceAbort } from './timers.js';

/** The default clock: monotonic milliseconds. */
const performanceNow = () => performance.now();

let budgetParts;
let throttleParts;
let limiterParts;
/** LimiterAnswer.Acquired, read on first use (the wasm module is installed after this module loads). */
let acquired;

/**
 * Shares a new limiter's or budget's core through `fleet.store` (from
 * `{ store, name }`), reading `clock` for its syncs.
 */
function share(fleet, owner, core, clock) {
  if (fleet !== undefined) fleet.store._shareLease(owner, core, fleet.name, clock);
}

/**
 * A retry budget (Finagle's RetryBudget, tower's TpsBudget): over the last
 * `ttlMs`, retries may be at most `retryRatio` × first attempts plus
 * `minRetriesPerSec` × the ttl. Share one per downstream: pass it as the
 * `budget` of every RetryPolicy that calls it. With `{ store, name }` (a
 * `RedisStore` of `resilience-wasm/redis`) it is shared by every process
 * with a budget of that name: first attempts are counted for the fleet and
 * retries come from retries leased `leaseSize` at a time (redis/README.md).
 */
export class RetryBudget {
  #core;
  #clock;

  constructor(options = {}) {
    const fleet = fleetOptions(options, true);
    this.#core = new native.BudgetCore(
      options.ttlMs,
      options.minRetriesPerSec,
      options.retryRatio,
      fleet?.config,
      options.leaseSize,
    );
    this.#clock = optionalFunction(options, 'clock') ?? performanceNow;
    share(fleet, this, this.#core, this.#clock);
  }

  static {
    budgetParts = (b) => ({ core: b.#core, clock: b.#clock });
  }

  /** How long a first attempt or a retry counts, in ms. */
  get ttlMs() {
    return this.#core.ttl_ms();
  }
  /** Retries allowed per second of the ttl whatever the traffic. */
  get minRetriesPerSec() {
    return this.#core.min_retries_per_sec();
  }
  /** Retries allowed per first attempt (core keeps it to the millionth). */
  get retryRatio() {
    return this.#core.retry_ratio();
  }
  /** Retries the budget would grant now. */
  get available() {
    return this.#core.available(this.#clock());
  }
  /** Counts a first attempt (retry policies with this budget do it themselves). */
  deposit() {
    this.#core.deposit(this.#clock());
  }
  /** Claims one retry if the budget allows it (retry policies with this budget do it themselves). */
  tryWithdraw() {
    return this.#core.try_withdraw(this.#clock());
  }
}

/** Package-internal: a budget's core and clock. */
export function budgetInternals(budget) {
  return budgetParts(budget);
}

/**
 * Package-internal: what a pipeline layer needs of a throttle: its core, its
 * listener, `admit(emit)` (undefined or the ThrottledError, told to `emit`)
 * and `report(ok, outcome)` (the answer judged by `isAccepted`, recorded).
 */
export function throttleInternals(throttle) {
  return throttleParts(throttle);
}

/**
 * Package-internal: what a pipeline layer needs of a limiter: its core, its
 * listener, `ask()` (core's answer for one cell now) and `refused(answer,
 * emit)` (the RateLimitedError, told to `emit`).
 */
export function limiterInternals(limiter) {
  return limiterParts(limiter);
}

/** Package-internal: whether core's limiter answer took the cells (its code, read once from the module). */
export function limiterAcquired(answer) {
  acquired ??= native.LimiterAnswer.Acquired;
  return answer === acquired;
}

/**
 * Adaptive client-side throttling (Google SRE book, "Handling Overload"):
 * sheds requests locally with probability max(0, (requests − k·accepts) /
 * (requests + 1)) over the last `windowMs`, so a struggling backend gets
 * less traffic. `isAccepted(outcome)` says whether the backend accepted a
 * call (`outcome` is `{ ok: true, value }` or `{ ok: false, error }`;
 * default: a call that did not throw).
 */
export class AdaptiveThrottle {
  #core;
  #clock;
  #isAccepted;
  #emit;

  constructor(options = {}) {
    this.#core = new native.ThrottleCore(options.k, options.windowMs, options.seed);
    this.#clock = optionalFunction(options, 'clock') ?? performanceNow;
    this.#isAccepted = optionalFunction(options, 'isAccepted');
    this.#emit = listenerOption(options);
  }

  /** The multiplier K. */
  get k() {
    return this.#core.k();
  }
  /** How much history counts, in ms. */
  get windowMs() {
    return this.#core.window_ms();
  }
  /** The window's `requests`, `accepts` and the rejection `probability` now. */
  get stats() {
    const [requests, accepts, probability] = this.#core.stats(this.#clock());
    return Object.freeze({ requests, accepts, probability });
  }

  static {
    throttleParts = (t) => ({
      core: t.#core,
      emit: t.#emit,
      admit: (emit) => t.#admit(emit),
      report: (ok, outcome) => t.record(t.#accepted(ok, outcome)),
    });
  }

  /**
   * Counts a request about to be sent and decides: undefined when it may
   * be sent (then `record` the backend's answer), else the ThrottledError
   * saying why not, told to `emit`.
   */
  #admit(emit = this.#emit) {
    const answer = this.#core.try_admit(this.#clock());
    if (answer === native.ThrottleAnswer.Admitted) return undefined;
    // No stack frames: a shed request fails fast (rejections.js, withoutStack).
    const error = withoutStack(() => new ThrottledError(answer, this.#core.last_probability()));
    emit?.({ type: eventTypes().throttled, retryAfterMs: error.retryAfterMs, probability: error.probability });
    return error;
  }

  /** Whether a request may be sent now (it counts as a request either way); report an admitted one with `record`. */
  tryAdmit() {
    return this.#admit() === undefined;
  }

  /** The backend answered an admitted request: accepted or not. */
  record(accepted) {
    this.#core.record(accepted === true, this.#clock());
  }

  /**
   * Runs `fn()` unless the request is shed (then rejects with a
   * ThrottledError, and `fn` does not run); records whether the backend
   * accepted it; settles like `fn()`.
   */
  execute(fn) {
    if (typeof fn !== 'function') return rejectOperation('AdaptiveThrottle.execute', 'fn', fn);
    const shed = this.#admit();
    if (shed !== undefined) return Promise.reject(shed);
    let result;
    try {
      result = Promise.resolve(fn());
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(
      (value) => {
        this.record(this.#accepted(true, value));
        return value;
      },
      (error) => {
        this.record(this.#accepted(false, error));
        throw error;
      },
    );
  }

  #accepted(ok, outcome) {
    const isAccepted = this.#isAccepted;
    if (isAccepted === undefined) return ok;
    const { Yes, No, Failed } = native.FilterVerdict;
    let verdict;
    try {
      verdict = isAccepted(ok ? { ok, value: outcome } : { ok, error: outcome }) ? Yes : No;
    } catch (e) {
      verdict = Failed;
      // What a predicate that throws means is core's rule `failing_predicate`.
      const said = native.accepted(Failed) ? 'accepted' : 'not accepted';
      console.warn(`resilience-wasm: isAccepted threw; the call counts as ${said}`, e);
    }
    return native.accepted(verdict);
  }
}

/**
 * A rate limiter (GCRA, as governor and redis-cell): `rate` cells per
 * `perMs`, up to `burst` at once. Core keeps one word (the theoretical
 * arrival time) and answers "taken" or exactly how long to wait. With
 * `{ store, name }` (a `RedisStore` of `resilience-wasm/redis`) every
 * process's limiter of that name shares one GCRA in Redis: cells come from
 * cells leased `leaseSize` at a time (redis/README.md).
 */
export class RateLimiter {
  #core;
  #clock;
  #sleep;
  #emit;

  constructor(options = {}) {
    const fleet = fleetOptions(options, true);
    this.#core = new native.LimiterCore(options.rate, options.perMs, options.burst, fleet?.config, options.leaseSize);
    this.#clock = optionalFunction(options, 'clock') ?? performanceNow;
    this.#sleep = optionalFunction(options, 'sleep');
    this.#emit = listenerOption(options);
    share(fleet, this, this.#core, this.#clock);
  }

  static {
    limiterParts = (l) => ({ core: l.#core, emit: l.#emit, ask: () => l.#ask(undefined), refused: (a, emit) => l.#refused(a, emit) });
  }

  /** Cells per `perMs`. */
  get rate() {
    return this.#core.rate();
  }
  /** The period `rate` is counted over, in ms. */
  get perMs() {
    return this.#core.per_ms();
  }
  /** Cells that may be taken at once. */
  get burst() {
    return this.#core.burst();
  }

  /** Core's answer for `n` cells now: LimiterAnswer, or the wait in ms. */
  #ask(n) {
    return n === undefined ? this.#core.try_acquire(this.#clock()) : this.#core.try_acquire_n(n, this.#clock());
  }

  /** The RateLimitedError of core's refusal `answer`, told to `emit`. */
  #refused(answer, emit = this.#emit) {
    // No stack frames: a refusal fails fast (rejections.js, withoutStack).
    const error = withoutStack(() =>
      answer === native.LimiterAnswer.ExceedsBurst
        ? new RateLimitedError(Number.POSITIVE_INFINITY, 'exceeds_burst')
        : new RateLimitedError(answer),
    );
    emit?.({ type: eventTypes().rateLimited, retryAfterMs: error.retryAfterMs, reason: error.reason });
    return error;
  }

  /**
   * Takes `n` cells (default 1) if they conform now: true, else false and
   * nothing is taken. `n` is a count from 0 (core's rule `cells`; else a
   * ConfigError); more than `burst` never conforms.
   */
  tryAcquire(n) {
    const answer = this.#ask(n);
    if (limiterAcquired(answer)) return true;
    if (this.#emit !== undefined) this.#refused(answer);
    return false;
  }

  /**
   * Waits until `n` cells (default 1) conform and takes them, sleeping as
   * long as core says (another caller may take them first: then it waits
   * again). Rejects at once with a RateLimitedError ('exceeds_burst') for
   * more cells than the burst, and with the `signal` option's reason once
   * it aborts.
   */
  async acquire(n, options = {}) {
    const signal = optionalSignal(options, 'signal');
    for (;;) {
      signal?.throwIfAborted();
      const answer = this.#ask(n);
      if (answer === native.LimiterAnswer.Acquired) return;
      if (answer === native.LimiterAnswer.ExceedsBurst) throw this.#refused(answer);
      const sleep = this.#sleep;
      if (sleep === undefined) await defaultSleep(answer, signal);
      else await (signal === undefined ? sleep(answer, signal) : raceAbort(sleep(answer, signal), signal));
    }
  }

  /** Runs `fn()` if a cell conforms now; else rejects with a RateLimitedError (`retryAfterMs`: the exact wait) and `fn` does not run. */
  execute(fn) {
    if (typeof fn !== 'function') return rejectOperation('RateLimiter.execute', 'fn', fn);
    const answer = this.#ask(undefined);
    if (!limiterAcquired(answer)) return Promise.reject(this.#refused(answer));
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** `fn` paced by `limiter`: each call waits for a cell (`acquire()`), then runs. */
export function rateLimited(fn, limiter) {
  requireOperation('rateLimited', 'fn', fn);
  if (!(limiter instanceof RateLimiter)) throw wrongType('limiter', 'a RateLimiter', limiter);
  return (...args) => limiter.acquire().then(() => fn(...args));
}
