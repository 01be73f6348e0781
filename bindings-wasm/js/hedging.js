// Hedging: core's HedgingState decides when to start the next copy and
// which answer wins (rules `hedge_timing`, `hedge_outcome`); the glue starts
// the copies, keeps one timer, and aborts the losers' AbortSignals.

import { eventTypes, both, listenerOption } from './events.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction, optionalSignal } from './options.js';
import { valuePredicate, valueVerdict } from './predicates.js';
import { startTimer } from './timers.js';

/** The default clock: monotonic milliseconds. */
const performanceNow = () => performance.now();

let internals;

/** Starts another copy of a slow call after `delayMs`, up to `maxHedgedAttempts` more; the first acceptable answer wins. */
export class Hedge {
  #core;
  #judge;
  #emit;
  #sleep;
  #clock;

  constructor(options = {}) {
    this.#core = new native.HedgingCore(options.delayMs, options.maxHedgedAttempts);
    this.#judge = valuePredicate(options, 'isFailureResult', 'hedgeFailureResult');
    this.#emit = listenerOption(options);
    this.#sleep = optionalFunction(options, 'sleep');
    this.#clock = optionalFunction(options, 'clock') ?? performanceNow;
  }

  static {
    internals = (h, env) => {
      const emit = both(h.#emit, env.emit);
      const sleep = h.#sleep ?? env.sleep;
      const clock = h.#clock === performanceNow && env.clock !== undefined ? env.clock : h.#clock;
      return (inner) => (signal, op) => h.#run((copySignal) => inner(copySignal, op), signal, emit, sleep, clock);
    };
  }

  /** How long an attempt may go unanswered before the next copy starts, in ms. */
  get delayMs() {
    return this.#core.delay_ms();
  }

  /** Copies started beyond the first, at most. */
  get maxHedgedAttempts() {
    return this.#core.max_hedged_attempts();
  }

  /**
   * Runs `fn(signal, attempt)` hedged: settles like the first acceptable
   * answer (a value `isFailureResult` does not reject); every other copy
   * still running has its signal aborted. When every copy failed, settles
   * like the last one to fail. The `signal` option aborts them all.
   */
  execute(fn, options) {
    if (typeof fn !== 'function') return rejectOperation('Hedge.execute', 'fn', fn);
    return this.#run(fn, options === undefined ? undefined : optionalSignal(options, 'signal'), this.#emit, this.#sleep, this.#clock);
  }

  #run(fn, outer, emit, sleep, clock) {
    if (outer?.aborted) return Promise.reject(outer.reason);
    const core = this.#core;
    const judge = this.#judge;
    const { Wait } = native.HedgeWait;
    const { Won, AllFailed, Continue } = native.HedgeVerdict;
    const handle = core.begin();
    return new Promise((resolve, reject) => {
      /** Copies running: attempt -> its controller. */
      const copies = new Map();
      let done = false;
      let cancelTimer;
      let armedFor = Number.NaN;
      const finish = (reason) => {
        done = true;
        cancelTimer?.();
        core.end(handle);
        outer?.removeEventListener('abort', onOuter);
        // The losers are cancelled.
        for (const controller of copies.values()) controller.abort(reason);
        copies.clear();
      };
      const onOuter = () => {
        if (done) return;
        finish(outer.reason);
        reject(outer.reason);
      };
      outer?.addEventListener('abort', onOuter, { once: true });
      const arm = (until) => {
        if (Object.is(until, armedFor)) return;
        cancelTimer?.();
        cancelTimer = undefined;
        armedFor = until;
        if (Number.isNaN(until)) return;
        cancelTimer = startTimer(Math.max(0, until - clock()), sleep, () => {
          cancelTimer = undefined;
          armedFor = Number.NaN;
          if (!done) pump();
        });
      };
      const settle = (attempt, ok, outcome) => {
        if (done) return;
        const accepted = ok && (judge === undefined || !valueVerdict('hedgeFailureResult', judge(outcome)));
        const verdict = core.on_outcome(handle, attempt, accepted, clock());
        if (verdict === Won || verdict === AllFailed) {
          copies.delete(attempt);
          finish(undefined);
          if (ok) resolve(outcome);
          else reject(outcome);
        } else if (verdict === Continue) {
          copies.delete(attempt);
          pump();
        }
      };
      const launch = (attempt) => {
        if (attempt > 1 && emit !== undefined) emit({ type: eventTypes().hedgeStarted, attempt });
        const controller = new AbortController();
        copies.set(attempt, controller);
        let result;
        try {
          result = fn(controller.signal, attempt);
        } catch (error) {
          result = Promise.reject(error);
        }
        Promise.resolve(result).then(
          (value) => settle(attempt, true, value),
          (error) => settle(attempt, false, error),
        );
      };
      const pump = () => {
        for (;;) {
          const step = core.next(handle, clock());
          if (step >= 1) {
            launch(step);
            if (done) return;
            continue;
          }
          if (step === Wait) arm(core.wait_until_ms());
          return;
        }
      };
      pump();
    });
  }
}

/** Package-internal: a hedge as a pipeline layer (`env`: the pipeline's listener, sleep and clock). */
export function hedgeLayer(h, env) {
  return internals(h, env);
}

/**
 * Runs `fn(signal, attempt)` hedged (see Hedge): options `delayMs`,
 * `maxHedgedAttempts`, `isFailureResult`, `signal`, `onEvent`, `sleep`, `clock`.
 */
export function hedge(fn, options = {}) {
  if (typeof fn !== 'function') return rejectOperation('hedge', 'fn', fn);
  return new Hedge(options).execute(fn, { signal: options.signal });
}
