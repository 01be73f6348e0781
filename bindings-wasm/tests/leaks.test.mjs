// Nothing leaks on the wasm side: retry sequences are freed on success, give
// up, abort, a deadline, a judged value and a timed-out attempt; hedges are
// freed when one copy wins; breakers (windows, metrics, snapshots, isolation
// included), fallbacks, bulkheads, pipelines (a limiter and a throttle in
// them included), budgets, throttles and limiters allocate nothing that
// stays, per call.
// Linear memory only grows in 64 KiB pages, and a leaked retry sequence
// alone would need 10 000 x 32 bytes: 5 pages.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import {
  AdaptiveThrottle,
  Bulkhead,
  CircuitBreaker,
  FallbackChain,
  Hedge,
  pipeline,
  RateLimiter,
  RetryBudget,
  RetryExecutor,
  RetryPolicy,
  Timeout,
} from 'resilience-wasm';

const raw = createRequire(import.meta.url)('../dist/node/resilience_wasm.js');

// Built once: a breaker's permit ledger takes its first 16 KiB with its
// first call, and objects left to the garbage collector are freed when it
// runs, so per-object memory would make the figure depend on GC timing. What
// is measured is what each call leaves behind.
const policy = new RetryPolicy({ maxAttempts: 3, retryableErrors: [TypeError] });
const sleep = async () => {};
const executor = new RetryExecutor(policy, { sleep });
const breaker = new CircuitBreaker({ failureThreshold: 1_000_000 });
let now = 0;
const windowed = new CircuitBreaker({
  failureRate: { ratio: 0.9, minimumThroughput: 10, samplingDurationMs: 1000 },
  slowCall: { durationMs: 50, ratio: 1 },
  breakBackoff: { backoff: 'exponential', maxMs: 60_000 },
  clock: () => now,
});
const chain = new FallbackChain([async () => 'fb']);
const bulkhead = new Bulkhead({ maxConcurrent: 1 });
// Issues 10 and 11: deadlines, attempt timeouts, result predicates, hedges,
// pipelines with events, a budget, a throttle and a limiter.
const instantSleep = async () => {};
const budget = new RetryBudget({ clock: () => now });
const judged = new RetryExecutor(
  new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, maxElapsedMs: 60_000, retryableResult: (v) => v === 'bad', budget }),
  { sleep: instantSleep, clock: () => now, onEvent: () => {} },
);
const timedOut = new RetryExecutor(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, attemptTimeoutMs: 1 }), { sleep: instantSleep });
const hedging = new Hedge({ delayMs: 0, maxHedgedAttempts: 2, clock: () => now });
const piped = pipeline(
  new FallbackChain([async () => 'fb']),
  new Timeout({ timeoutMs: 60_000 }),
  new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }),
  new CircuitBreaker({ failureThreshold: 1_000_000 }),
  new Hedge({ delayMs: 0 }),
  new Bulkhead({ maxConcurrent: 4 }),
  { sleep: instantSleep, onEvent: () => {} },
);
const throttle = new AdaptiveThrottle({ seed: 1, clock: () => now });
const limiter = new RateLimiter({ rate: 1e9, perMs: 1000, burst: 1000, clock: () => now });
// Load control in pipelines: one that admits and records every attempt, one
// whose limiter refuses every attempt (a fallback answers after the retry).
const loadPiped = pipeline(
  new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }),
  new RateLimiter({ rate: 1e9, perMs: 1000, burst: 1000, clock: () => now }),
  new AdaptiveThrottle({ seed: 2, clock: () => now, isAccepted: (o) => o.ok }),
  { sleep: instantSleep, onEvent: () => {} },
);
const limitedPiped = pipeline(
  new FallbackChain([async () => 'fb']),
  new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }),
  new RateLimiter({ rate: 1, perMs: 1e12, burst: 1, clock: () => now }),
  { sleep: instantSleep, onEvent: () => {} },
);
const hang = (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
async function workload(n) {
  for (let i = 0; i < n; i += 1) {
    // Gives up (exhausted), gives up (not retryable), succeeds after a retry.
    await executor.execute(() => Promise.reject(new TypeError('t'))).catch(() => {});
    await executor.execute(() => Promise.reject(new RangeError('r'))).catch(() => {});
    let k = 0;
    await executor.execute(() => (k++ === 0 ? Promise.reject(new TypeError('once')) : k));
    // Aborted during its wait.
    const controller = new AbortController();
    const aborting = new RetryExecutor(policy, { signal: controller.signal, sleep: () => controller.abort() });
    await aborting.execute(() => Promise.reject(new TypeError('a'))).catch(() => {});
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    await breaker.execute(async () => 1);
    // A window that rolls over, metrics and snapshots read, isolation.
    now += 7;
    await windowed.execute(async () => 1);
    await windowed.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    if (i % 100 === 0) {
      void windowed.metrics;
      void JSON.stringify(windowed);
      windowed.isolate();
      await windowed.execute(async () => 1).catch(() => {});
      windowed.close();
    }
    await chain.execute(() => Promise.reject(new Error('p')));
    await Promise.all([bulkhead.execute(async () => 1), bulkhead.execute(async () => 2)]);
    let j = 0;
    await judged.execute(async () => (j++ === 0 ? 'bad' : 'good'));
    await judged.execute(async () => 'bad');
    await timedOut.execute((attempt, signal) => (attempt === 1 ? hang(signal) : attempt));
    await hedging.execute((signal, attempt) => (attempt === 3 ? 'third' : hang(signal)));
    await piped.execute(() => Promise.reject(new Error('down')));
    await throttle.execute(async () => 1);
    limiter.tryAcquire();
    await loadPiped.execute(async () => i);
    await limitedPiped.execute(async () => i);
  }
}

test('wasm memory stays flat over 10 000 rounds of every strategy', async () => {
  await workload(2000); // warm-up: allocator free lists reach their steady state
  const before = raw.memory_bytes();
  await workload(10_000);
  const after = raw.memory_bytes();
  assert.ok(before > 0);
  assert.equal(after, before, `grew by ${(after - before) / 65536} pages`);
});

