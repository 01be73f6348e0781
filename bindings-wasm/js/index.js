// The public API of resilience-wasm.
export { BrokenCircuitError, BulkheadRejectedError, ConfigError, SnapshotError } from './errors.js';
export { RetryPolicy } from './policy.js';
export { RetryExecutor } from './executor.js';
export { CircuitBreaker } from './breaker.js';
export { FallbackChain } from './fallback.js';
export { Bulkhead } from './bulkhead.js';
export { withRetry } from './with-retry.js';
export { retry, circuitBreaker, fallback } from './wrappers.js';
