// Compiled with `tsc --noEmit --strict` by tests/types.test.mjs as a
// CommonJS module (.cts): `require` resolves the package's `require` types
// condition, index.d.cts. Were it resolved to the ES-module index.d.ts, tsc
// would refuse the import (a CommonJS file cannot require an ES module).
import resilience = require('resilience-wasm');
import {
  BrokenCircuitError,
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  circuitBreaker,
  ConfigError,
  fallback,
  FallbackChain,
  retry,
  RetryExecutor,
  RetryPolicy,
  withRetry,
  type CircuitState,
  type ErrorFilter,
  type RetryOptions,
  type BreakerSnapshot,
  type CircuitBreakerOptions,
} from 'resilience-wasm';

export async function usage(signal: AbortSignal): Promise<void> {
  const options: RetryOptions = { maxAttempts: 3, backoff: 'linear', jitter: 'full', seed: 7n, signal };
  const policy = new RetryPolicy(options);
  const executor = new RetryExecutor(policy, { onGiveUp: (attempts, reason) => void [attempts, reason satisfies 'exhausted' | 'not_retryable' | 'deadline' | 'budget'] });
  const n: number = await executor.execute(async (attempt) => attempt);

  const filter: ErrorFilter = [TypeError, RangeError];
  const breaker = new CircuitBreaker({ failureThreshold: 2, isFailure: filter });
  const state: CircuitState = breaker.state;
  const options2: CircuitBreakerOptions = { failureRate: { ratio: 0.25, windowSize: 50 }, breakBackoff: { backoff: 'linear', maxMs: 60_000 } };
  const saved: BreakerSnapshot = new CircuitBreaker(options2).toJSON();
  const windowCalls: number = new CircuitBreaker({ ...options2, initialState: saved }).metrics.windowCalls;
  const chain = new FallbackChain<[string], number>([async (s) => s.length], { isExpected: TypeError });
  const len: number = await chain.execute(async (s) => s.length * 2, 'abc');
  const queued: number = new Bulkhead({ maxQueueSize: 0 }).queued;

  const add = retry(async (a: number, b: number) => a + b);
  const guarded = circuitBreaker(async (id: string) => id);
  const safe = fallback(async () => 1, async () => 2);
  const resilientFetch = withRetry(fetch);
  const sum: number = await add(1, 2);
  const id: string = await guarded('x');
  const one: number = await safe();

  // The namespace form sees the same classes.
  const same: boolean = new resilience.RetryPolicy() instanceof RetryPolicy;
  try {
    await breaker.execute(() => 1);
  } catch (e) {
    if (e instanceof BrokenCircuitError) void (e.retryAfterMs satisfies number);
    if (e instanceof BulkheadRejectedError) void (e.reason satisfies 'queue_full' | 'timeout');
    if (e instanceof ConfigError) void (e.parameter satisfies string);
    if (e instanceof ConfigError) void (e.kind satisfies 'wrong_type' | 'not_an_integer' | 'not_a_number' | 'too_small' | 'too_large' | 'unknown_name' | 'below_other' | 'requires_other');
    if (e instanceof resilience.SnapshotError) void (e.reason satisfies 'malformed' | 'unsupported_version');
  }

  // @ts-expect-error: jitter names are checked
  new RetryPolicy({ jitter: 'lots' });
  // @ts-expect-error: isFailure is a filter, not a boolean
  new CircuitBreaker({ isFailure: true });
  // @ts-expect-error: an operation must be a function
  retry(42);

  // @ts-expect-error: a slow-call rule has a duration and a ratio
  new CircuitBreaker({ slowCall: { durationMs: 10 } });

  // The load-control strategies through `require`'s declarations too.
  const loaded = resilience.pipeline(policy, new resilience.RateLimiter({ onEvent: () => {} }), new resilience.AdaptiveThrottle(), {});
  const names: readonly resilience.StrategyName[] = loaded.strategies;

  void [n, state, len, queued, resilientFetch, sum, id, one, same, windowCalls, names];
}
