// Node `import` entry: the CommonJS build, re-exported, so that `require`
// and `import` in one process share one wasm instance and one set of classes.
import { createRequire } from 'node:module';

const api = createRequire(import.meta.url)('./node.cjs');

export const {
  AdaptiveThrottle,
  Hedge,
  Pipeline,
  RateLimitedError,
  RateLimiter,
  RetryBudget,
  ThrottledError,
  Timeout,
  TimeoutError,
  hedge,
  pipeline,
  rateLimited,
  timeout,
  RetryPolicy,
  RetryExecutor,
  CircuitBreaker,
  FallbackChain,
  Bulkhead,
  retry,
  circuitBreaker,
  fallback,
  withRetry,
  BrokenCircuitError,
  BulkheadRejectedError,
  ConfigError,
  SnapshotError,
} = api;
