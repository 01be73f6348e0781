// pipeline(...): strategies composed in one declared order, outer to inner
// (cockatiel's `wrap`, Polly's ResiliencePipelineBuilder). Which orders are
// valid is core's rule `pipeline_order` (fallback → total timeout → retry →
// breaker → attempt timeout → hedging → rate limiter → bulkhead → throttle);
// how each strategy treats the errors the library creates is core's rule
// `library_errors`. Each strategy runs its own core decisions; one listener
// hears them all.

import { breakerLayer, CircuitBreaker } from './breaker.js';
import { bulkheadLayer, Bulkhead } from './bulkhead.js';
import { listenerOption } from './events.js';
import { RetryExecutor, runWith } from './executor.js';
import { fallbackLayer, FallbackChain } from './fallback.js';
import { Hedge, hedgeLayer } from './hedging.js';
import { AdaptiveThrottle, RateLimiter } from './load.js';
import { limiterLayer, throttleLayer } from './load-layers.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction, optionalSignal } from './options.js';
import { RetryPolicy } from './policy.js';
import { rejectLater } from './rejections.js';
import { Timeout, timeoutKind, timeoutLayer } from './timeout.js';
import { neverAborted } from './timers.js';

/** Core's name of a strategy object, or undefined for anything else. */
function kindOf(strategy) {
  if (strategy instanceof FallbackChain) return 'fallback';
  if (strategy instanceof Timeout) return timeoutKind(strategy);
  if (strategy instanceof RetryPolicy || strategy instanceof RetryExecutor) return 'retry';
  if (strategy instanceof CircuitBreaker) return 'breaker';
  if (strategy instanceof Hedge) return 'hedging';
  if (strategy instanceof RateLimiter) return 'rate_limiter';
  if (strategy instanceof Bulkhead) return 'bulkhead';
  if (strategy instanceof AdaptiveThrottle) return 'throttle';
  return undefined;
}

/** A plain object (the options), not a strategy. */
function isOptions(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The layer of one strategy: (inner) => (signal, op) => promise, `op` the
 * operation of the call, passed through to the innermost layer. `env` is the
 * pipeline's listener, sleep and clock.
 */
function layerOf(strategy, env) {
  if (strategy instanceof FallbackChain) return fallbackLayer(strategy, env);
  if (strategy instanceof Timeout) return timeoutLayer(strategy, env);
  if (strategy instanceof CircuitBreaker) return breakerLayer(strategy, env);
  if (strategy instanceof Hedge) return hedgeLayer(strategy, env);
  if (strategy instanceof RateLimiter) return limiterLayer(strategy, env);
  if (strategy instanceof Bulkhead) return bulkheadLayer(strategy, env);
  if (strategy instanceof AdaptiveThrottle) return throttleLayer(strategy, env);
  // A retry: a policy runs on the pipeline's sleep and clock; an executor on its own.
  const executor =
    strategy instanceof RetryExecutor ? strategy : new RetryExecutor(strategy, { sleep: env.sleep, clock: env.clock });
  const mode = { pipeline: true, emit: env.emit };
  return (inner) => {
    // Made once: the operation comes through as the executor's pass-through argument.
    const attempt = (_attempt, attemptSignal, op) => inner(attemptSignal, op);
    return (signal, op) => runWith(executor, attempt, signal, mode, op);
  };
}

/** Strategies composed outer to inner; see `pipeline`. */
export class Pipeline {
  #run;
  #names;

  constructor(strategies, options = {}) {
    const env = {
      emit: listenerOption(options),
      sleep: optionalFunction(options, 'sleep'),
      clock: optionalFunction(options, 'clock'),
    };
    // Core's rule on the strategies as declared (anything that is not a
    // strategy goes to core as it is: a wrong type, or an unknown name).
    const declared = strategies.map((s) => kindOf(s) ?? s);
    native.pipeline_check(declared);
    const layers = strategies.map((s) => ({ kind: kindOf(s), strategy: s }));
    // A retry policy's attempt timeout is a strategy of its own, at its
    // place in core's order (inside the breaker, outside hedging).
    const retry = strategies.find((s) => s instanceof RetryPolicy || s instanceof RetryExecutor);
    const attemptTimeoutMs = (retry instanceof RetryExecutor ? retry.policy : retry)?.attemptTimeoutMs;
    if (attemptTimeoutMs !== undefined) {
      const order = native.strategy_names();
      const rank = order.indexOf('attempt_timeout');
      let at = layers.findIndex((l) => order.indexOf(l.kind) >= rank);
      if (at < 0) at = layers.length;
      layers.splice(at, 0, {
        kind: 'attempt_timeout',
        strategy: new Timeout({ timeoutMs: attemptTimeoutMs, scope: 'attempt' }),
      });
      native.pipeline_check(layers.map((l) => l.kind));
    }
    this.#names = Object.freeze(layers.map((l) => l.kind));
    // Inner to outer: the operation, then each strategy around it.
    this.#run = layers.reduceRight((inner, l) => layerOf(l.strategy, env)(inner), callOperation);
  }

  /** Core's names of the strategies, outer to inner (an attempt timeout from a retry policy included). */
  get strategies() {
    return this.#names;
  }

  /**
   * Runs `fn(signal)` through every strategy; `signal` is the attempt's
   * (aborted by a timeout, a hedge that lost, or the `signal` option).
   * Settles with the first answer the strategies let through, or rejects
   * with the operation's error unchanged or the library's (BrokenCircuitError,
   * TimeoutError, BulkheadRejectedError, RateLimitedError, ThrottledError).
   */
  execute(fn, options) {
    if (typeof fn !== 'function') return rejectOperation('Pipeline.execute', 'fn', fn);
    const signal = options === undefined ? undefined : optionalSignal(options, 'signal');
    if (signal?.aborted) return Promise.reject(signal.reason);
    let result;
    try {
      result = this.#run(signal, fn);
    } catch (error) {
      // The operation threw at once and no layer caught it (e.g. a rate
      // limiter alone passes its inner call through).
      return rejectLater(error);
    }
    return Promise.resolve(result);
  }
}

/**
 * The innermost layer: the operation itself. Its synchronous throw is left
 * to the layer around it, which catches it at once (calls.js: no rejected
 * promise waiting for a handler); Pipeline.execute turns what no layer
 * caught into the rejection, and a plain value into a promise.
 */
function callOperation(signal, fn) {
  return fn(signal ?? neverAborted());
}

/**
 * Composes strategies outer to inner: `pipeline(fallbackChain, timeout,
 * retryPolicy, breaker, limiter, bulkhead, throttle, { onEvent, sleep,
 * clock })` (the options last, optional). Strategies: FallbackChain, Timeout
 * (`scope` total or attempt), RetryPolicy or RetryExecutor, CircuitBreaker,
 * Hedge, RateLimiter, Bulkhead, AdaptiveThrottle — each at most once, in
 * core's order; anything else is a ConfigError.
 */
export function pipeline(...args) {
  const options = args.length > 0 && isOptions(args.at(-1)) ? args.pop() : {};
  return new Pipeline(args, options);
}
