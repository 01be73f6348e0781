// Function wrappers: the decorators of the original, as higher-order functions.

import { CircuitBreaker } from './breaker.js';
import { RetryExecutor } from './executor.js';
import { FallbackChain } from './fallback.js';
import { RetryPolicy } from './policy.js';

/** `fn` retried per a policy built from `options` (plus onRetry, signal, sleep, clock). */
export function retry(fn, options = {}) {
  const { onRetry, signal, sleep, clock, ...policyOptions } = options;
  const executor = new RetryExecutor(new RetryPolicy(policyOptions), { onRetry, signal, sleep, clock });
  const wrapped = (...args) => executor.execute(() => fn(...args));
  return Object.defineProperty(wrapped, 'executor', { value: executor });
}

/** `fn` behind a circuit breaker; the breaker is the wrapper's `breaker` property. */
export function circuitBreaker(fn, options = {}) {
  const breaker = new CircuitBreaker(options);
  const wrapped = (...args) => breaker.execute(() => fn(...args));
  return Object.defineProperty(wrapped, 'breaker', { value: breaker });
}

/** `fn`, falling back to each of `fallbacks` in order (same arguments) when it fails. */
export function fallback(fn, ...fallbacks) {
  const chain = new FallbackChain(fallbacks);
  return (...args) => chain.execute(fn, ...args);
}
