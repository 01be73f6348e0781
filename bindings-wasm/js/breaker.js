// CircuitBreaker: admits or rejects through core's permit tokens; the glue
// only runs the call and reports how it ended. Every option goes to core as
// it is (core's rules validate it); the trip rule, the window, slow calls,
// the break backoff, isolation, metrics and snapshots are all core's.

import { BrokenCircuitError } from './errors.js';
import { fleetOptions } from './fleet.js';
import { both, eventTypes, listenerOption } from './events.js';
import { COUNTED, libraryRule, rejectionHints } from './library.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction } from './options.js';
import { errorFilter, valuePredicate } from './predicates.js';
import { rejectLater, withoutStack } from './rejections.js';

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
    no: native.FilterVerdict.No,
    reasons: Object.freeze(reasons),
    states: Object.freeze(native.breaker_state_names()),
    metricNames: Object.freeze(native.breaker_metric_names()),
  });
}

let layerOf;

/** Package-internal: a breaker as a pipeline layer (`env.emit`: the pipeline's listener). */
export function breakerLayer(breaker, env) {
  return layerOf(breaker, env);
}

/** The default clock: monotonic milliseconds. */
const performanceNow = () => performance.now();

/** Thrown by a clock whose reading is not a number (as core's clock reader says it). */
function notAReading() {
  return new TypeError('clock() must return a number of milliseconds');
}

function warnClock(clockError) {
  console.warn('resilience-wasm: the breaker clock threw while recording an outcome', clockError);
}

/**
 * How a call that failed before any promise existed ends: in a pipeline
 * (`library`) a synchronous throw the layer around catches at once; for
 * `execute`'s caller a promise that rejects once its handler is attached.
 */
function fail(error, library) {
  if (library) throw error;
  return rejectLater(error);
}

/** Fails fast while a dependency is down, and probes it when it may be back. */
export class CircuitBreaker {
  #core;
  #isFailure;
  #isFailureResult;
  #emit;
  /**
   * The clock, when every report needs a reading (a time window, slow calls:
   * core's reads_clock_when_closed). The glue then reads it itself and hands
   * the reading to core with the call: cheaper than core calling back into
   * JavaScript. Otherwise undefined: core reads the clock only when the
   * breaker is not closed.
   */
  #clockEachCall;
  /** The clock, when every admission needs a reading too (slow calls are timed from their start). */
  #clockToAdmit;

  constructor(options = {}) {
    codes ??= answerCodes();
    const clock = optionalFunction(options, 'clock');
    this.#isFailure = errorFilter(options, 'isFailure');
    const fleet = fleetOptions(options);
    this.#isFailureResult = valuePredicate(options, 'isFailureResult');
    this.#emit = listenerOption(options);
    this.#core = new native.BreakerCore(
      options.failureThreshold,
      options.recoveryTimeoutMs,
      options.halfOpenMaxCalls,
      options.failureRate,
      options.slowCall,
      options.breakBackoff,
      options.initialState,
      clock,
      fleet?.config,
    );
    // Shared: the store syncs it in the background (resilience-wasm/redis).
    if (fleet !== undefined) fleet.store._share(this.#core, fleet.name);
    if (this.#core.reads_clock_when_closed()) this.#clockEachCall = clock ?? performanceNow;
    if (this.#core.reads_clock_to_admit()) this.#clockToAdmit = clock ?? performanceNow;
  }

  /** A reading of `clock` for core, or undefined (core reads on demand); throws what the clock throws. */
  static #reading(clock) {
    if (clock === undefined) return undefined;
    const ms = clock();
    if (typeof ms !== 'number') throw notAReading();
    return ms;
  }

  /**
   * A reading for a report: when the clock fails, the outcome still counts
   * (at the last good reading) and the clock's error is reported; the
   * caller's value or error is what the call settles with.
   */
  #nowForReport() {
    try {
      return CircuitBreaker.#reading(this.#clockEachCall);
    } catch (clockError) {
      this.#core.hold_last_reading();
      warnClock(clockError);
      return undefined;
    }
  }

  /**
   * Runs `fn()` if the breaker admits it; rejects with BrokenCircuitError
   * when it does not, else settles like `fn()` (its error unchanged; a value
   * `isFailureResult` calls a failure counts as one and is still returned).
   */
  execute(fn) {
    if (typeof fn !== 'function') return rejectOperation('CircuitBreaker.execute', 'fn', fn);
    return this.#call(fn, this.#emit, false);
  }

  static {
    layerOf = (breaker, env) => {
      const emit = both(breaker.#emit, env.emit);
      return (inner) => (signal, op) => breaker.#call(inner, emit, true, signal, op);
    };
  }

  /**
   * One call through the breaker. `emit`: the listener (undefined: no
   * event is built); `library`: in a pipeline (then `fn(signal, op)` is the
   * inner layer), the library's own errors are judged by core's rule
   * `library_errors`, and a rejection carries core's hint for the retry
   * around it (rule `rejection_hint`).
   */
  #call(fn, emit, library, signal, op) {
    const core = this.#core;
    // A transition left by a call that had no listener is not this call's.
    if (emit !== undefined) core.take_transition();
    let token;
    if (this.#clockToAdmit === undefined) token = core.acquire(undefined);
    else {
      try {
        token = core.acquire(CircuitBreaker.#reading(this.#clockToAdmit));
      } catch (clockError) {
        // No reading, no decision: the call does not run.
        return fail(clockError, library);
      }
    }
    // Tokens are >= 0; a negative answer is a BreakerAdmission.
    if (token < 0) {
      // Not a throw in an async frame: rejecting is the open breaker's whole
      // job, and unwinding costs ~1 µs (bench/js, S4). In a pipeline the
      // layer around catches a synchronous throw at once (calls.js);
      // otherwise the promise rejects a microtask later (rejections.js).
      if (token !== codes.rejected) return fail(core.take_clock_error(), library);
      // No stack frames: an open breaker's rejection is identified by its
      // class, reason and retryAfterMs (rejections.js, withoutStack).
      const error = withoutStack(() => new BrokenCircuitError(core.retry_after_ms(), codes.reasons[core.reject_reason()]));
      if (library) {
        const hint = core.rejection_hint_ms();
        if (!Number.isNaN(hint)) rejectionHints.set(error, hint);
      }
      if (emit !== undefined) {
        emit({ type: eventTypes().breakerRejected, retryAfterMs: error.retryAfterMs, reason: error.reason });
      }
      return fail(error, library);
    }
    if (emit !== undefined) this.#transitioned(emit);
    // `.then` rather than an async frame: the success path is the breaker's
    // common case, and the async frame cost ~50 ns more per call (bench/js, S3).
    let result;
    try {
      // A pipeline's inner layers take the call's signal and operation.
      result = library ? fn(signal, op) : fn();
    } catch (error) {
      // The call threw at once: counted, then handed on as the same object.
      this.#recordError(token, error, emit, library);
      return fail(error, library);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.#recordValue(token, value, emit);
        return value;
      },
      (error) => {
        this.#recordError(token, error, emit, library);
        throw error;
      },
    );
  }

  /** Tells `emit` the transition core reported for the last acquire or report, if any. */
  #transitioned(emit) {
    const t = this.#core.take_transition();
    if (t >= 0) emit({ type: eventTypes().breakerTransition, from: codes.states[t >> 2], to: codes.states[t & 3] });
  }

  #recordValue(token, value, emit) {
    const core = this.#core;
    const now = this.#clockEachCall === undefined ? undefined : this.#nowForReport();
    // Rule `breaker_result`: a value the predicate calls a failure counts as
    // one (core's rule for a predicate that throws: counted).
    const judge = this.#isFailureResult;
    const failed = judge !== undefined && native.counts_as_failure(judge(value));
    const answer = failed ? core.record_failure(token, now) : core.record_success(token, now);
    if (answer !== codes.recorded) this.#reported(answer);
    if (emit !== undefined) this.#transitioned(emit);
  }

  #recordError(token, error, emit, library) {
    // The filter never throws (predicates.js); whether its verdict counts
    // the error is core's rule (a filter that threw counts it). In a
    // pipeline the library's errors are judged by core's rule alone.
    const counted = library ? libraryRule(error, COUNTED) : undefined;
    let verdict;
    if (counted !== undefined) verdict = counted ? codes.yes : codes.no;
    else {
      const isFailure = this.#isFailure;
      verdict = isFailure === undefined ? codes.yes : isFailure(error);
    }
    const answer = this.#core.record_error(token, verdict, this.#nowForReport());
    if (answer !== codes.recorded) this.#reported(answer);
    if (emit !== undefined) this.#transitioned(emit);
  }

  /**
   * A report that was not simply recorded. The glue reports each of its
   * permits once, so core never refuses one here; a clock that failed while
   * the outcome was stamped is reported, and the caller still gets its own
   * value or error, unchanged (the outcome counts at the clock's last good
   * reading).
   */
  #reported(answer) {
    if (answer === codes.clockFailed) warnClock(this.#core.take_clock_error());
  }

  /**
   * 'closed' | 'open' | 'half_open' | 'isolated' (an open breaker past its
   * break reads 'half_open').
   */
  get state() {
    return codes.states[this.#core.state_code()];
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
    const values = this.#core.metrics_values();
    const names = codes.metricNames;
    const metrics = {};
    for (let i = 0; i < names.length; i += 1) metrics[names[i]] = values[i];
    metrics.state = codes.states[metrics.state];
    return Object.freeze(metrics);
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
