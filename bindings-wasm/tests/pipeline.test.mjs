// pipeline(): composition in core's order, the library's errors judged by
// core's rules, events from every strategy, signals through every layer.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AdaptiveThrottle,
  BrokenCircuitError,
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  ConfigError,
  FallbackChain,
  Hedge,
  pipeline,
  RateLimiter,
  RetryBudget,
  RetryExecutor,
  RetryPolicy,
  Timeout,
  TimeoutError,
} from 'resilience-wasm';
import { deferred, flush, track } from './helpers/virtual-time.mjs';

const instant = async () => {};

test('the order is core rule: out of order, twice, or not a strategy is a ConfigError', () => {
  const cases = [
    [[new CircuitBreaker(), new RetryPolicy()], 'strategies', 'out_of_order'],
    [[new RetryPolicy(), new RetryPolicy()], 'strategies', 'duplicate'],
    [[new RetryPolicy(), 'cache'], 'strategy', 'unknown_name'],
    [[new RetryPolicy(), 3], 'strategy', 'wrong_type'],
    // Load control has its places: the limiter outside the bulkhead, the throttle innermost.
    [[new Bulkhead(), new RateLimiter()], 'strategies', 'out_of_order'],
    [[new AdaptiveThrottle(), new Bulkhead()], 'strategies', 'out_of_order'],
    [[new AdaptiveThrottle(), new AdaptiveThrottle()], 'strategies', 'duplicate'],
    // A budget is a retry policy's part, not a strategy.
    [[new RetryPolicy(), new RetryBudget()], 'strategy', 'wrong_type'],
    // A policy's attempt timeout and an attempt-scoped Timeout are one strategy twice.
    [[new RetryPolicy({ attemptTimeoutMs: 10 }), new Timeout({ timeoutMs: 5, scope: 'attempt' })], 'strategies', 'duplicate'],
  ];
  for (const [strategies, parameter, kind] of cases) {
    assert.throws(
      () => pipeline(...strategies),
      (e) => e instanceof ConfigError && e.parameter === parameter && e.kind === kind,
      `${parameter} ${kind}`,
    );
  }
});

test("a retry policy's attempt timeout joins at its place: inside the breaker, outside hedging", () => {
  const p = pipeline(new RetryPolicy({ attemptTimeoutMs: 100 }), new CircuitBreaker(), new Hedge(), new Bulkhead());
  assert.deepEqual(p.strategies, ['retry', 'breaker', 'attempt_timeout', 'hedging', 'bulkhead']);
  assert.deepEqual(pipeline(new RetryExecutor(new RetryPolicy({ attemptTimeoutMs: 5 }))).strategies, ['retry', 'attempt_timeout']);
  assert.deepEqual(pipeline().strategies, []);
});

test('an empty pipeline runs the operation with a signal; a non-function rejects with a TypeError', async () => {
  let seen;
  assert.equal(
    await pipeline().execute((signal) => {
      seen = signal;
      return 1;
    }),
    1,
  );
  assert.equal(seen.aborted, false);
  await assert.rejects(pipeline().execute(undefined), TypeError);
  const mine = new Error('sync');
  await assert.rejects(
    pipeline().execute(() => {
      throw mine;
    }),
    (e) => e === mine,
  );
  const controller = new AbortController();
  controller.abort(new Error('already'));
  await assert.rejects(pipeline().execute(async () => 1, { signal: controller.signal }), /already/);
  assert.throws(() => pipeline({ onEvent: 3 }), ConfigError);
});

test('an attempt timeout inside the breaker counts as its failure, and the retry retries it', async () => {
  const timers = [];
  const sleep = (ms, signal) => {
    const d = deferred();
    timers.push({ ms, signal, fire: d.resolve });
    return d.promise;
  };
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  const events = [];
  const p = pipeline(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, attemptTimeoutMs: 100 }), breaker, { sleep, onEvent: (e) => events.push(e) });
  const signals = [];
  const t = track(
    p.execute((signal) => {
      signals.push(signal);
      return signals.length === 1 ? new Promise(() => {}) : 'second';
    }),
  );
  await flush();
  timers[0].fire(); // the attempt timeout
  await flush();
  timers[1].fire(); // the zero wait
  await t.done;
  assert.equal(t.value, 'second');
  assert.ok(signals[0].aborted && signals[0].reason instanceof TimeoutError);
  assert.equal(breaker.failureCount, 0, 'the timeout counted, then the success reset the count');
  assert.deepEqual(
    events.map((e) => e.type),
    ['timeout', 'retry_scheduled'],
  );
  assert.equal(events[0].strategy, 'attempt_timeout');
  assert.ok(events[1].error instanceof TimeoutError);
});

test('a total timeout bounds the retries; the fallback answers for the library error', async () => {
  const timers = [];
  const sleep = (ms, signal) => {
    const d = deferred();
    timers.push({ ms, signal, fire: d.resolve });
    return d.promise;
  };
  const events = [];
  const p = pipeline(
    new FallbackChain([async (signal) => `cached (${signal.aborted})`]),
    new Timeout({ timeoutMs: 1000 }),
    new RetryPolicy({ maxAttempts: 5, baseDelayMs: 10, jitter: false }),
    { sleep, onEvent: (e) => events.push(e) },
  );
  const t = track(p.execute(() => Promise.reject(new Error('down'))));
  await flush();
  assert.equal(timers[0].ms, 1000);
  timers[0].fire(); // the total timeout, while the retry waits
  await t.done;
  assert.equal(t.value, 'cached (false)');
  assert.ok(timers[1].signal.aborted, 'the pending retry wait was cancelled');
  assert.deepEqual(
    events.map((e) => e.type),
    ['retry_scheduled', 'timeout', 'fallback_used'],
  );
});

test('in a pipeline the user filters judge user errors only; an open breaker is retried after its open time', async () => {
  let now = 0;
  const slept = [];
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 500, clock: () => now });
  const p = pipeline(
    new RetryPolicy({ maxAttempts: 3, baseDelayMs: 10, jitter: false, retryableErrors: () => true }),
    breaker,
    {
      clock: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    },
  );
  let n = 0;
  assert.equal(await p.execute(async () => (++n === 1 ? Promise.reject(new Error('x')) : 'ok')), 'ok');
  // Failure opens it (10 ms wait), rejection: wait out the 490 ms left, then the trial.
  assert.deepEqual(slept, [10, 490]);
  assert.equal(breaker.state, 'closed');
});

test('a retry with a filter that rejects everything still retries a full bulkhead (rule library_errors)', async () => {
  const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueueSize: 0 });
  const hold = deferred();
  void bulkhead.execute(() => hold.promise);
  const events = [];
  const p = pipeline(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, retryableErrors: () => false }), bulkhead, {
    sleep: instant,
    onEvent: (e) => events.push(e),
  });
  await assert.rejects(p.execute(async () => 'never'), BulkheadRejectedError);
  assert.deepEqual(
    events.map((e) => [e.type, e.reason]),
    [
      ['bulkhead_rejected', 'queue_full'],
      ['retry_scheduled', undefined],
      ['bulkhead_rejected', 'queue_full'],
      ['gave_up', 'exhausted'],
    ],
  );
  hold.resolve();
  await flush();
});

test('hedging in a pipeline: the losing copy is aborted; each copy takes its own bulkhead slot', async () => {
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const copies = [];
  const p = pipeline(new Hedge({ delayMs: 0, maxHedgedAttempts: 1 }), bulkhead);
  const t = track(
    p.execute((signal) => {
      const d = deferred();
      copies.push({ signal, d });
      return d.promise;
    }),
  );
  await flush();
  assert.equal(copies.length, 2);
  assert.equal(bulkhead.active, 2);
  copies[1].d.resolve('b');
  await t.done;
  assert.equal(t.value, 'b');
  assert.ok(copies[0].signal.aborted);
  copies[0].d.reject(copies[0].signal.reason); // the loser honours its signal
  await flush();
  assert.equal(bulkhead.active, 0);
});

test("a strategy's own listener hears its events too; a retry executor brings its own sleep and callbacks", async () => {
  const own = [];
  const all = [];
  const breaker = new CircuitBreaker({ failureThreshold: 1, onEvent: (e) => own.push(e.type) });
  const retried = [];
  const executor = new RetryExecutor(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 5 }), {
    sleep: instant,
    onRetry: (attempt) => retried.push(attempt),
  });
  const p = pipeline(executor, breaker, { onEvent: (e) => all.push(e.type) });
  await assert.rejects(p.execute(() => Promise.reject(new Error('x'))), BrokenCircuitError);
  assert.deepEqual(own, ['breaker_transition', 'breaker_rejected']);
  assert.deepEqual(all, ['breaker_transition', 'retry_scheduled', 'breaker_rejected', 'gave_up']);
  assert.deepEqual(retried, [1]);
});

test('a breaker with isFailureResult counts values, still returns them, and tells its transitions', async () => {
  const events = [];
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 1000, isFailureResult: (r) => r.status >= 500, onEvent: (e) => events.push(e) });
  const bad = { status: 503 };
  assert.equal(await breaker.execute(async () => bad), bad);
  assert.equal(breaker.state, 'open');
  await assert.rejects(breaker.execute(async () => 1), BrokenCircuitError);
  assert.deepEqual(
    events.map((e) => e.type),
    ['breaker_transition', 'breaker_rejected'],
  );
  assert.deepEqual([events[0].from, events[0].to, events[1].reason], ['closed', 'open', 'open']);
});
