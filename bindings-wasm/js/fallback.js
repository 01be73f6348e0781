// FallbackChain: which fallback runs next, and whose error surfaces, is
// core's decision (fallback_step); the glue calls and awaits.

import { native } from './native.js';
import { rejectOperation, requireOperations } from './operations.js';
import { errorFilter, verdictAnswer } from './predicates.js';

/** Primary first, then each fallback in order with the same arguments. */
export class FallbackChain {
  #fallbacks;
  #isExpected;

  constructor(fallbacks = [], options = {}) {
    requireOperations('FallbackChain', 'fallbacks', fallbacks);
    this.#fallbacks = [...fallbacks];
    this.#isExpected = errorFilter(options, 'isExpected');
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
    // Promise chains, not try/await: a failure reaches the next step as a
    // rejection, without unwinding through an async frame (bench/js, S5).
    return settle(primary, args).then(undefined, (error) => this.#fallBack(error, args, undefined, 0));
  }

  /**
   * `error` came from the primary (`expected` undefined) or from the
   * `failed`-th fallback; core's fallback_step says which fallback is next.
   */
  #fallBack(error, args, expected, failed) {
    if (expected === undefined) {
      // The filter never throws (predicates.js); whether its verdict lets the
      // fallbacks run is core's rule (a filter that threw does not).
      const isExpected = this.#isExpected;
      expected = isExpected === undefined || verdictAnswer('isExpected', isExpected(error));
    }
    // The index (>= 0) of the fallback to call, or FallbackAnswer.Raise.
    const next = native.fallback_step(this.#fallbacks.length, expected, failed);
    if (next === native.FallbackAnswer.Raise) return Promise.reject(error);
    return settle(this.#fallbacks[next], args).then(undefined, (e) => this.#fallBack(e, args, expected, failed + 1));
  }
}

/** `fn(...args)` as a promise; a synchronous throw becomes a rejection. */
function settle(fn, args) {
  try {
    return Promise.resolve(args.length === 0 ? fn() : fn(...args));
  } catch (error) {
    return Promise.reject(error);
  }
}
