// CircuitBreaker: admits or rejects through core's permit tokens; the glue
// only runs the call and reports how it ended. Every option goes to core as
// it is (core's rules validate it); the trip rule, the window, slow calls,
// the break backoff, isolation, metrics and snapshots are all core's.

import { BrokenCircuitError } from './errors.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction } from './options.js';
import { errorFilter } from './predicates.js';

/** Core's answer codes, read once the wasm module is installed. */
let codes;

function answerCodes() {
  const reasons = [];
  for (const [name, code] of Object.entries(native.BreakerRejection)) {
    // wasm-bindgen enums map both ways; the names are core's RejectReason.
    if (typeof code === 'number') reasons[code] = name.replace(/(?<=[a-z])(?=[A-Z])/g, '_').toLowerCase();
  }
  return Object.freeze({
    rejected: native.BreakerAdmission.Rejected,
    recorded: native.BreakerReport.Recorded,
    clockFailed: native.BreakerReport.ClockFailed,
    yes: native.FilterVerdict.Yes,
    reasons: Object.freeze(reasons),
  });
}

/** Fails fast while a dependency is down, and probes it when it may be back. */
export class CircuitBreaker {
  #core;
  #isFailure;

  constructor(options = {}) {
    codes ??= answerCodes();
    const clock = optionalFunction(options, 'clock');
    this.#isFailure = errorFilter(options, 'isFailure');
    this.#core = new native.BreakerCore(
      options.failureThreshold,
      options.recoveryTimeoutMs,
      options.halfOpenMaxCalls,
      options.failureRate,
      options.slowCall,
      options.breakBackoff,
      options.initialState,
      clock,
    );
  }

  /**
   * Runs `fn()` if the breaker admits it; rejects with BrokenCircuitError
   * when it does not, else settles like `fn()` (its error unchanged).
   */
  execute(fn) {
    if (typeof fn !== 'function') return rejectOperation('CircuitBreaker.execute', 'fn', fn);
    const core = this.#core;
    const token = core.acquire();
    // Tokens are >= 0; a negative answer is a BreakerAdmission.
    if (token < 0) {
      // Promise.reject, not a throw in an async frame: rejecting is the open
      // breaker's whole job, and unwinding costs ~1 µs (bench/js, S4).
      return Promise.reject(
        token === codes.rejected
          ? new BrokenCircuitError(core.retry_after_ms(), codes.reasons[core.reject_reason()])
          : core.take_clock_error(),
      );
    }
    // `.then` rather than an async frame: the success path is the breaker's
    // common case, and the async frame cost ~50 ns more per call (bench/js, S3).
    let result;
    try {
      result = fn();
    } catch (error) {
      this.#recordError(token, error);
      return Promise.reject(error);
    }
    return Promise.resolve(result).then(
      (value) => {
        const answer = core.record_success(token);
        if (answer !== codes.recorded) this.#reported(answer);
        return value;
      },
      (error) => {
        this.#recordError(token, error);
        throw error;
      },
    );
  }

  #recordError(token, error) {
    // The filter never throws (predicates.js); whether its verdict counts
    // the error is core's rule (a filter that threw counts it).
    const isFailure = this.#isFailure;
    const answer = this.#core.record_error(token, isFailure === undefined ? codes.yes : isFailure(error));
    if (answer !== codes.recorded) this.#reported(answer);
  }

  /**
   * A report that was not simply recorded. The glue reports each of its
   * permits once, so core never refuses one here; a clock that failed while
   * the outcome was stamped is reported, and the caller still gets its own
   * value or error, unchanged (the outcome counts at the clock's last good
   * reading).
   */
  #reported(answer) {
    if (answer === codes.clockFailed) {
      console.warn('resilience-wasm: the breaker clock threw while recording an outcome', this.#core.take_clock_error());
    }
  }

  /**
   * 'closed' | 'open' | 'half_open' | 'isolated' (an open breaker past its
   * break reads 'half_open').
   */
  get state() {
    return this.#core.state();
  }

  /** Counted failures in a row since the last success or reset. */
  get failureCount() {
    return this.#core.failure_count();
  }

  /**
   * What the breaker has seen, as a frozen plain object: state, consecutive
   * failures, the window's calls / failures / slow calls and ratios,
   * rejections, openings, time in the state and the current break (ms).
   */
  get metrics() {
    return Object.freeze(this.#core.metrics());
  }

  /** Back to closed with no failures; calls in flight count for nothing. */
  reset() {
    this.#core.reset();
  }

  /** Manual control: holds the breaker open (state 'isolated') until close() or reset(). */
  isolate() {
    this.#core.isolate();
  }

  /** Manual control: closes the breaker, an isolated one too (as reset()). */
  close() {
    this.#core.close();
  }

  /**
   * The breaker's state as a plain, JSON-serializable object (core's
   * versioned snapshot, times relative to now): pass it as `initialState`
   * to start a breaker where this one is, e.g. after a restart.
   */
  toJSON() {
    return JSON.parse(this.#core.snapshot());
  }
}
