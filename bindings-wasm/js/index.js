// The public API of resilience-wasm.
export {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConfigError,
  RateLimitedError,
  SnapshotError,
  ThrottledError,
  TimeoutError,
} from './errors.js';
export { RetryPolicy } from './policy.js';
export { RetryExecutor } from './executor.js';
export { CircuitBreaker } from './breaker.js';
export { FallbackChain } from './fallback.js';
export { Bulkhead } from './bulkhead.js';
export { Timeout, timeout } from './timeout.js';
export { Hedge, hedge } from './hedging.js';
export { Pipeline, pipeline } from './pipeline.js';
export { AdaptiveThrottle, RateLimiter, RetryBudget, rateLimited } from './load.js';
export { withRetry } from './with-retry.js';
export { retry, circuitBreaker, fallback } from './wrappers.js';
