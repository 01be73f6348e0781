// Compiled with `tsc --noEmit --strict` by tests/types.test.mjs: the
// declarations accept idiomatic use, infer precise types, and reject misuse
// (each @ts-expect-error must be an error, or tsc fails).
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
  SnapshotError,
  withRetry,
  type BreakerMetrics,
  type BreakerSnapshot,
  type CircuitState,
  type ConfigErrorKind,
  type FailureRate,
} from 'resilience-wasm';

export async function usage(signal: AbortSignal): Promise<void> {
  const policy = new RetryPolicy({ maxAttempts: 3, backoff: 'fibonacci', jitter: 'decorrelated', seed: 42n, retryableErrors: [TypeError] });
  const delay: number = policy.calculateDelayMs(2);
  const again: boolean = policy.shouldRetry(new Error('x'), 1) && policy.shouldRetryResponse({ status: 503 }, 1);
  // A bare error class is a filter too.
  const byClass = new RetryPolicy({ retryableErrors: TypeError });
  class Transient extends Error {}
  const byOwnClass = new RetryPolicy({ retryableErrors: Transient });
  const noResponse: boolean = byClass.shouldRetryResponse(null, 1) || byOwnClass.isRetryable(new Transient());
  const executor = new RetryExecutor(policy, { signal, onRetry: (attempt: number, _e: unknown, ms: number) => void (attempt + ms) });
  const n: number = await executor.execute(async (attempt) => attempt * 2);

  const breaker = new CircuitBreaker({ failureThreshold: 3, isFailure: (e) => e instanceof TypeError, clock: () => performance.now() });
  // isFailure takes the same filters as retryableErrors and isExpected.
  const byClasses = new CircuitBreaker({ isFailure: [TypeError, Transient] });
  const state: CircuitState = breaker.state;
  const s: string = await breaker.execute(() => 'sync values are fine');
  const count: number = breaker.failureCount;

  // The failure-rate breaker: a time window or a count window.
  const byTime: FailureRate = { ratio: 0.5, minimumThroughput: 20, samplingDurationMs: 10_000, buckets: 10 };
  const windowed = new CircuitBreaker({
    failureRate: byTime,
    slowCall: { durationMs: 2000, ratio: 0.8 },
    breakBackoff: { backoff: 'exponential', maxMs: 300_000 },
  });
  const byCount = new CircuitBreaker({ failureRate: { ratio: 0.5, windowSize: 100 } });
  const metrics: BreakerMetrics = windowed.metrics;
  const ratio: number = metrics.failureRatio + metrics.timeInStateMs;
  const saved: BreakerSnapshot = windowed.toJSON();
  const restored = new CircuitBreaker({ failureRate: byTime, initialState: saved });
  const fromText = new CircuitBreaker({ initialState: JSON.stringify(saved) });
  restored.isolate();
  restored.close();
  const isolated: boolean = restored.state === 'isolated';

  const chain = new FallbackChain<[id: number], string>([async (id) => `cached ${id}`]);
  const answer: string = await chain.execute(async (id) => `fresh ${id}`, 7);
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const b: boolean = await bulkhead.execute(async () => true);

  const add = retry(async (x: number, y: number) => x + y, { maxAttempts: 2, sleep: async () => {} });
  const sum: number = await add(1, 2);
  const guarded = circuitBreaker(async (id: string) => id.length);
  const len: number = await guarded('abc');
  const st: CircuitState = guarded.breaker.state;
  const safe = fallback(async (id: number) => ({ id }), async (id: number) => ({ id }));
  const obj: { id: number } = await safe(1);

  const resilientFetch = withRetry(fetch, { retryableStatusCodes: [503], honorRetryAfter: true });
  const response: Response = await resilientFetch('http://127.0.0.1/', { signal });

  try {
    await breaker.execute(() => 1);
  } catch (e) {
    if (e instanceof BrokenCircuitError) {
      const ms: number = e.retryAfterMs;
      const name: 'BrokenCircuitError' = e.name;
      const why: 'open' | 'trials_taken' | 'isolated' | 'permits_exhausted' = e.reason;
      void [ms, name, why];
    }
    if (e instanceof SnapshotError) {
      const reason: 'malformed' | 'unsupported_version' = e.reason;
      const version: number | undefined = e.version;
      void [reason, version];
    }
    if (e instanceof BulkheadRejectedError) {
      const reason: 'queue_full' | 'timeout' = e.reason;
      void reason;
    }
    if (e instanceof ConfigError) {
      const p: string = e.parameter;
      const kind: ConfigErrorKind = e.kind;
      void [p, kind];
    }
  }

  // @ts-expect-error: backoff names are checked
  new RetryPolicy({ backoff: 'cubic' });
  // @ts-expect-error: milliseconds are numbers
  new CircuitBreaker({ recoveryTimeoutMs: '30s' });
  // @ts-expect-error: state is read-only
  breaker.state = 'open';
  // @ts-expect-error: a policy is required
  new RetryExecutor();
  // @ts-expect-error: wrapped functions keep their parameter types
  await add('1', 2);
  // @ts-expect-error: an operation must be a function
  circuitBreaker('fetch');
  // @ts-expect-error: a filter is a predicate or error classes
  new FallbackChain([], { isExpected: 'TypeError' });
  // @ts-expect-error: one window: a time window or a count window, not both
  new CircuitBreaker({ failureRate: { ratio: 0.5, windowSize: 10, samplingDurationMs: 1000 } });
  // @ts-expect-error: a failure rate needs its ratio
  new CircuitBreaker({ failureRate: { windowSize: 10 } });
  // @ts-expect-error: break backoff names are checked
  new CircuitBreaker({ breakBackoff: { backoff: 'cubic', maxMs: 1 } });
  // @ts-expect-error: metrics are read-only
  windowed.metrics.rejections = 0;
  // @ts-expect-error: an initial state is a snapshot, not any object
  new CircuitBreaker({ initialState: { state: 'open' } });

  void [delay, again, noResponse, n, state, s, count, answer, b, sum, len, st, obj, response, byClasses, byCount, ratio, fromText, isolated];
}

// Issues 10 and 11: timeouts, hedging, the pipeline, typed events, load control.
import {
  AdaptiveThrottle,
  Hedge,
  hedge,
  pipeline,
  RateLimitedError,
  rateLimited,
  RateLimiter,
  RetryBudget,
  ThrottledError,
  Timeout,
  timeout,
  TimeoutError,
  type ResilienceEvent,
  type StrategyName,
} from 'resilience-wasm';

export async function issues10and11(signal: AbortSignal): Promise<void> {
  const seen: string[] = [];
  const onEvent = (e: ResilienceEvent): void => {
    // The `type` discriminates the event's fields.
    if (e.type === 'retry_scheduled') seen.push(`${e.attempt} ${e.delayMs}`);
    else if (e.type === 'gave_up') seen.push(e.reason satisfies 'exhausted' | 'not_retryable' | 'deadline' | 'budget');
    else if (e.type === 'breaker_transition') seen.push(`${e.from}->${e.to}`);
    else if (e.type === 'timeout') seen.push(e.strategy);
    else if (e.type === 'fallback_used') seen.push(String(e.index));
    // @ts-expect-error a hedge_started event has no index
    else if (e.type === 'hedge_started') seen.push(String(e.index));
  };
  const budget = new RetryBudget({ ttlMs: 10_000, minRetriesPerSec: 10, retryRatio: 0.2 });
  const policy = new RetryPolicy({
    maxElapsedMs: 10_000,
    attemptTimeoutMs: 2000,
    retryableResult: (v) => v === 503,
    budget,
  });
  const status: number = await new RetryExecutor(policy, { onEvent }).execute(async (_attempt, s: AbortSignal) => (s.aborted ? 0 : 200));
  const t: string = await timeout(async (s) => (s.aborted ? 'no' : 'yes'), 1000, { signal });
  const h: number = await hedge(async (_s, attempt) => attempt, { delayMs: 100, maxHedgedAttempts: 2, onEvent });
  const p = pipeline(new FallbackChain([async () => 'cached']), new Timeout({ timeoutMs: 5000 }), policy, new CircuitBreaker({ isFailureResult: (v) => v === 503 }), new Hedge(), new Bulkhead(), { onEvent });
  const names: readonly StrategyName[] = p.strategies;
  const body: string = await p.execute(async (s) => (s.aborted ? '' : 'body'), { signal });
  // @ts-expect-error a pipeline takes strategies, not functions
  pipeline(() => 1);
  const limiter = new RateLimiter({ rate: 100, perMs: 1000, burst: 10 });
  const ok: boolean = limiter.tryAcquire() && limiter.tryAcquire(2n);
  await limiter.acquire(1, { signal });
  const paced: (id: number) => Promise<string> = rateLimited(async (id: number) => `#${id}`, limiter);
  const throttle = new AdaptiveThrottle({ k: 2, windowMs: 60_000, seed: 1, isAccepted: (o) => o.ok });
  const shed: number = throttle.stats.probability;
  try {
    await throttle.execute(() => limiter.execute(async () => 1));
  } catch (e) {
    if (e instanceof RateLimitedError) seen.push(`${e.retryAfterMs} ${e.reason}`);
    if (e instanceof ThrottledError) seen.push(`${e.probability}`);
    if (e instanceof TimeoutError) seen.push(`${e.timeoutMs}`);
  }
  // The limiter and the throttle are pipeline strategies, with listeners of their own.
  const limited = new RateLimiter({ rate: 10, perMs: 1000, burst: 1, onEvent });
  const shedding = new AdaptiveThrottle({ seed: 1, isAccepted: (o) => o.ok && o.value !== 503, onEvent });
  const loaded = pipeline(policy, limited, new Bulkhead(), shedding, { onEvent });
  const order: readonly StrategyName[] = loaded.strategies;
  const reply: number = await loaded.execute(async () => 200);
  const onLoad = (e: ResilienceEvent): void => {
    if (e.type === 'rate_limited') seen.push(`${e.retryAfterMs} ${e.reason satisfies 'limited' | 'exceeds_burst'}`);
    else if (e.type === 'throttled') seen.push(`${e.retryAfterMs} ${e.probability}`);
    // @ts-expect-error a bulkhead_rejected event has no probability
    else if (e.type === 'bulkhead_rejected') seen.push(`${e.probability}`);
  };
  // @ts-expect-error 'limiter' is not core's name of a strategy
  const wrongName: StrategyName = 'limiter';
  void [status, t, h, names, body, ok, paced, shed, seen, budget.available, order, reply, onLoad, wrongName];
}
