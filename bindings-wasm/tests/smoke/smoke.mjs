// The installed tarball, by name, through `import`: a retry and a breaker,
// and the same classes as `require` gives (one instance, no dual package).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CircuitBreaker, RetryExecutor, RetryPolicy, BrokenCircuitError, SnapshotError } from 'resilience-wasm';

let calls = 0;
const executor = new RetryExecutor(new RetryPolicy({ baseDelayMs: 0 }));
const value = await executor.execute(async () => {
  calls += 1;
  if (calls < 2) throw new TypeError('flaky');
  return calls;
});
assert.equal(value, 2);

const breaker = new CircuitBreaker({ failureThreshold: 1 });
await assert.rejects(breaker.execute(() => Promise.reject(new Error('down'))));
await assert.rejects(breaker.execute(() => 1), BrokenCircuitError);
assert.equal(createRequire(import.meta.url)('resilience-wasm').RetryPolicy, RetryPolicy);

// A failure-rate breaker, its snapshot restored in a "new process".
let now = 0;
const windowed = new CircuitBreaker({ failureRate: { ratio: 0.5, minimumThroughput: 2, samplingDurationMs: 1000 }, clock: () => now });
await windowed.execute(async () => 'ok');
await assert.rejects(windowed.execute(() => Promise.reject(new Error('down'))));
assert.equal(windowed.state, 'open');
now += 400;
const restored = new CircuitBreaker({ failureRate: { ratio: 0.5 }, initialState: windowed.toJSON(), clock: () => 0 });
assert.equal(restored.state, 'open');
assert.throws(() => new CircuitBreaker({ initialState: '{"format":"resilience.circuit_breaker"' }), SnapshotError);
console.log('import: retry and breaker ok');

// Issues 10 and 11 from the tarball: a pipeline with a timeout and a retry, a rate limiter.
const { pipeline, RetryPolicy: Policy, Timeout, TimeoutError, RateLimiter } = await import('resilience-wasm');
const p = pipeline(new Timeout({ timeoutMs: 5000 }), new Policy({ baseDelayMs: 0, attemptTimeoutMs: 1000 }));
assert.deepEqual(p.strategies, ['total_timeout', 'retry', 'attempt_timeout']);
assert.equal(await p.execute(async (signal) => (signal.aborted ? 'aborted' : 'ok')), 'ok');
assert.equal(new TimeoutError(5).name, 'TimeoutError');
const limiter = new RateLimiter({ rate: 1, perMs: 1000, burst: 1 });
assert.equal(limiter.tryAcquire(), true);
assert.equal(limiter.tryAcquire(), false);
