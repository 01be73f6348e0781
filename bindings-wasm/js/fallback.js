// FallbackChain: which fallback runs next, and whose error surfaces, is
// core's decision (fallback_step); the glue calls and awaits.

import { callCatching, callSettled, settleNow } from './calls.js';
import { both, eventTypes, listenerOption } from './events.js';
import { FALLS_BACK, libraryRule } from './library.js';
import { native } from './native.js';
import { rejectOperation, requireOperations } from './operations.js';
import { errorFilter, verdictAnswer } from './predicates.js';
import { neverAborted } from './timers.js';

let layerOf;

/** Core's FallbackAnswer.Raise, read once (a wasm enum read is a getter call per use). */
let RAISE;

/** Primary first, then each fallback in order with the same arguments. */
export class FallbackChain {
  #fallbacks;
  #isExpected;
  #emit;
  /**
   * Core's fallback_step answers for this chain, asked once each: by
   * `failed` (fallbacks failed so far), one list per verdict on the
   * primary's error. The step is a pure function of the chain's length, the
   * verdict and `failed`, and the chain never changes length, so a cached
   * answer is core's answer, without a call into wasm per failure (bench/js, S5b).
   */
  #steps = [[], []];

  constructor(fallbacks = [], options = {}) {
    requireOperations('FallbackChain', 'fallbacks', fallbacks);
    RAISE ??= native.FallbackAnswer.Raise;
    this.#fallbacks = [...fallbacks];
    this.#isExpected = errorFilter(options, 'isExpected');
    this.#emit = listenerOption(options);
  }

  static {
    // In a pipeline the fallbacks are called with the call's signal, and
    // the library's errors are judged by core's rule `library_errors`.
    layerOf = (chain, env) => {
      const emit = both(chain.#emit, env.emit);
      return (inner) => (signal, op) => {
        let result;
        try {
          result = inner(signal, op);
        } catch (error) {
          // The inner layers threw at once (calls.js): no rejected promise.
          return settleNow(() => chain.#fallBack(error, [signal ?? neverAborted()], undefined, 0, emit, true));
        }
        return Promise.resolve(result).then(undefined, (error) =>
          chain.#fallBack(error, [signal ?? neverAborted()], undefined, 0, emit, true),
        );
      };
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
    // at once, without a rejected promise (calls.js; bench/js, S5, S5b).
    let result;
    try {
      result = args.length === 0 ? primary() : primary(...args);
    } catch (error) {
      return settleNow(() => this.#fallBack(error, args, undefined, 0, this.#emit, false));
    }
    return Promise.resolve(result).then(undefined, (error) => this.#fallBack(error, args, undefined, 0, this.#emit, false));
  }

  /** Core's fallback_step for this chain (see #steps). */
  #step(expected, failed) {
    const known = this.#steps[expected ? 1 : 0];
    return (known[failed] ??= native.fallback_step(this.#fallbacks.length, expected, failed));
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
    const next = this.#step(expected, failed);
    if (next === RAISE) throw error;
    if (emit !== undefined) emit({ type: eventTypes().fallbackUsed, index: next });
    const fallback = this.#fallbacks[next];
    // When core says this one's failure raises its own error (the last
    // fallback), its promise is the answer as it is: no handler, one
    // promise hop fewer (bench/js, S5).
    if (this.#step(expected, failed + 1) === RAISE) {
      return callSettled(fallback, args);
    }
    return callCatching(fallback, args, (e) => this.#fallBack(e, args, expected, failed + 1, emit, library));
  }
}

/** Package-internal: a fallback chain as a pipeline layer (`env.emit`: the pipeline's listener). */
export function fallbackLayer(chain, env) {
  return layerOf(chain, env);
}
