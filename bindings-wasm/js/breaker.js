// CircuitBreaker: admits or rejects through core's permit tokens; the glue
// only runs the call and reports how it ended.

import { BrokenCircuitError, translatingConfigErrors } from './errors.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { numberFor, optionalFunction } from './options.js';
import { errorFilter } from './predicates.js';

/** The public state names, by core's BreakerState variant name. */
const STATE_NAMES = Object.freeze({ Closed: 'closed', Open: 'open', HalfOpen: 'half_open' });

/** Fails fast while a dependency is down, and probes it when it may be back. */
export class CircuitBreaker {
  #core;
  #isFailure;

  constructor(options = {}) {
    const clock = optionalFunction(options, 'clock');
    this.#isFailure = errorFilter(options, 'isFailure');
    this.#core = translatingConfigErrors(
      () =>
        new native.BreakerCore(
          numberFor(options.failureThreshold),
          numberFor(options.recoveryTimeoutMs),
          numberFor(options.halfOpenMaxCalls),
          clock,
        ),
      options,
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
        token === native.BreakerAdmission.Rejected ? new BrokenCircuitError(core.retry_after_ms()) : core.take_clock_error(),
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
        core.record_success(token);
        return value;
      },
      (error) => {
        this.#recordError(token, error);
        throw error;
      },
    );
  }

  #recordError(token, error) {
    // The filter never throws (predicates.js: a throwing isFailure counts).
    const isFailure = this.#isFailure;
    if (isFailure !== undefined && !isFailure(error)) {
      this.#core.release(token);
      return;
    }
    try {
      this.#core.record_failure(token);
    } catch (clockError) {
      // The user's error is what the caller rejects with, unchanged; the
      // failure still counts (at the clock's last good reading).
      console.warn('resilience-wasm: the breaker clock threw while recording a failure', clockError);
    }
  }

  /** 'closed' | 'open' | 'half_open' (an open breaker past its recovery timeout reads 'half_open'). */
  get state() {
    return STATE_NAMES[native.BreakerState[this.#core.state()]];
  }

  /** Counted failures since the last success or reset. */
  get failureCount() {
    return this.#core.failure_count();
  }

  /** Back to closed with no failures. */
  reset() {
    this.#core.reset();
  }
}
