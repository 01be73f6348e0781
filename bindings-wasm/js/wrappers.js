// Function wrappers: the decorators of the original, as higher-order functions.

import { CircuitBreaker } from './breaker.js';
import { RetryExecutor } from './executor.js';
import { FallbackChain } from './fallback.js';
import { requireOperation, requireOperations } from './operations.js';
import { RetryPolicy } from './policy.js';

// Each wrapper checks its operations when it wraps: a wrapper over a
// non-function would otherwise fail on every call, as a retried or counted
// error, far from the line that made the mistake.

/** `fn` retried per a policy built from `options` (plus onRetry, signal, sleep, clock). */
export function retry(fn, options = {}) {
  requireOperation('retry', 'fn', fn);
  const { onRetry, signal, sleep, clock, ...policyOptions } = options;
  const executor = new RetryExecutor(new RetryPolicy(policyOptions), { onRetry, signal, sleep, clock });
  const wrapped = (...args) => executor.execute(() => fn(...args));
  return Object.defineProperty(wrapped, 'executor', { value: executor });
}

/** `fn` behind a circuit breaker; the breaker is the wrapper's `breaker` property. */
export function circuitBreaker(fn, options = {}) {
  requireOperation('circuitBreaker', 'fn', fn);
  const breaker = new CircuitBreaker(options);
  // Called without arguments, `fn` itself is the operation (the breaker
  // calls it as `fn()`): no closure per call (bench/js, S3 wrapper).
  const wrapped = (...args) => breaker.execute(args.length === 0 ? fn : () => fn(...args));
  return Object.defineProperty(wrapped, 'breaker', { value: breaker });
}

/** `fn`, falling back to each of `fallbacks` in order (same arguments) when it fails. */
export function fallback(fn, ...fallbacks) {
  requireOperation('fallback', 'fn', fn);
  requireOperations('fallback', 'fallbacks', fallbacks);
  const chain = new FallbackChain(fallbacks);
  return (...args) => chain.execute(fn, ...args);
}
