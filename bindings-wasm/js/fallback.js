// FallbackChain: which fallback runs next, and whose error surfaces, is
// core's decision (fallback_step); the glue calls and awaits.

import { ConfigError } from './errors.js';
import { native } from './native.js';
import { errorFilter } from './options.js';
import { notAFunction } from './timers.js';

/** Primary first, then each fallback in order with the same arguments. */
export class FallbackChain {
  #fallbacks;
  #isExpected;

  constructor(fallbacks = [], options = {}) {
    if (!Array.isArray(fallbacks) || !fallbacks.every((f) => typeof f === 'function')) {
      throw new ConfigError('fallbacks', 'an array of functions', fallbacks);
    }
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
    if (typeof primary !== 'function') return notAFunction('FallbackChain.execute', primary);
    return this.#execute(primary, args);
  }

  async #execute(primary, args) {
    try {
      return await (args.length === 0 ? primary() : primary(...args));
    } catch (primaryError) {
      // One async frame for the whole chain: each extra one costs a promise.
      const fallbacks = this.#fallbacks;
      const isExpected = this.#isExpected;
      const expected = isExpected === undefined || Boolean(isExpected(primaryError));
      let error = primaryError;
      for (let failed = 0; ; failed += 1) {
        const next = native.fallback_step(fallbacks.length, expected, failed);
        if (next < 0) throw error;
        try {
          return await (args.length === 0 ? fallbacks[next]() : fallbacks[next](...args));
        } catch (e) {
          error = e;
        }
      }
    }
  }
}
