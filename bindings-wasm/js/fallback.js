// FallbackChain: which fallback runs next, and whose error surfaces, is
// core's decision (fallback_step); the glue calls and awaits.

import { callCatching, callSettled } from './calls.js';
import { both, eventTypes, listenerOption } from './events.js';
import { FALLS_BACK, libraryRule } from './library.js';
import { native } from './native.js';
import { rejectOperation, requireOperations } from './operations.js';
import { errorFilter, verdictAnswer } from './predicates.js';
import { neverAborted } from './timers.js';

let layerOf;

/** Primary first, then each fallback in order with the same arguments. */
export class FallbackChain {
  #fallbacks;
  #isExpected;
  #emit;

  constructor(fallbacks = [], options = {}) {
    requireOperations('FallbackChain', 'fallbacks', fallbacks);
    this.#fallbacks = [...fallbacks];
    this.#isExpected = errorFilter(options, 'isExpected');
    this.#emit = listenerOption(options);
  }

  static {
    // In a pipeline the fallbacks are called with the call's signal, and
    // the library's errors are judged by core's rule `library_errors`.
    layerOf = (chain, env) => {
      const emit = both(chain.#emit, env.emit);
      return (inner) => (signal, op) =>
        callCatching(inner, [signal, op], (error) =>
          chain.#fallBack(error, [signal ?? neverAborted()], undefined, 0, emit, true),
        );
    };
  }

  /** The fallbacks, in order. */
  get fallbacks() {
    return [...this.#fallbacks];
  }

  /**
   * Settles like `primary(...args)` if it succeeds; otherwise like the first
   * fallback that succeeds. Rejects with the primary's error when it is not
   * expected, else with the last fallback's error (the primary's if none).
   */
  execute(primary, ...args) {
    if (typeof primary !== 'function') return rejectOperation('FallbackChain.execute', 'primary', primary);
    // Promise chains, not try/await: a failure reaches the next step without
    // unwinding through an async frame, and a synchronous throw reaches it
    // at once, without a rejected promise (calls.js; bench/js, S5).
    return callCatching(primary, args, (error) => this.#fallBack(error, args, undefined, 0, this.#emit, false));
  }

  /**
   * `error` came from the primary (`expected` undefined) or from the
   * `failed`-th fallback; core's fallback_step says which fallback is next.
   * Raising is a throw: inside a reaction it rejects the chain's promise
   * directly, and callCatching turns it into the rejection otherwise.
   */
  #fallBack(error, args, expected, failed, emit, library) {
    if (expected === undefined) {
      // The filter never throws (predicates.js); whether its verdict lets the
      // fallbacks run is core's rule (a filter that threw does not).
      const isExpected = this.#isExpected;
      expected = (library ? libraryRule(error, FALLS_BACK) : undefined) ??
        (isExpected === undefined || verdictAnswer('isExpected', isExpected(error)));
    }
    // The index (>= 0) of the fallback to call, or FallbackAnswer.Raise.
    const next = native.fallback_step(this.#fallbacks.length, expected, failed);
    if (next === native.FallbackAnswer.Raise) throw error;
    if (emit !== undefined) emit({ type: eventTypes().fallbackUsed, index: next });
    const fallback = this.#fallbacks[next];
    // When core says this one's failure raises its own error (the last
    // fallback), its promise is the answer as it is: no handler, one
    // promise hop fewer (bench/js, S5).
    if (native.fallback_step(this.#fallbacks.length, expected, failed + 1) === native.FallbackAnswer.Raise) {
      return callSettled(fallback, args);
    }
    return callCatching(fallback, args, (e) => this.#fallBack(e, args, expected, failed + 1, emit, library));
  }
}

/** Package-internal: a fallback chain as a pipeline layer (`env.emit`: the pipeline's listener). */
export function fallbackLayer(chain, env) {
  return layerOf(chain, env);
}
