// Load control through the public API: a retry budget shared by policies,
// the adaptive throttle's execute and predicate, the rate limiter's waits.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AdaptiveThrottle,
  ConfigError,
  RateLimitedError,
  rateLimited,
  RateLimiter,
  RetryBudget,
  RetryExecutor,
  RetryPolicy,
  ThrottledError,
} from 'resilience-wasm';
import { flush, track } from './helpers/virtual-time.mjs';

const instant = async () => {};

test('a budget shared by two policies: a denied retry gives up with reason budget, and says so', async () => {
  const now = 0;
  const budget = new RetryBudget({ minRetriesPerSec: 0, retryRatio: 0.5, clock: () => now });
  assert.deepEqual([budget.ttlMs, budget.minRetriesPerSec, budget.retryRatio, budget.available], [10000, 0, 0.5, 0]);
  const events = [];
  const a = new RetryExecutor(new RetryPolicy({ budget, maxAttempts: 5, baseDelayMs: 1 }), { sleep: instant, onEvent: (e) => events.push(e) });
  const b = new RetryExecutor(new RetryPolicy({ budget, maxAttempts: 5, baseDelayMs: 1 }), { sleep: instant });
  const down = new Error('down');
  let calls = 0;
  const failing = async () => {
    calls += 1;
    throw down;
  };
  // One first attempt earns half a retry: none yet.
  await assert.rejects(a.execute(failing), (e) => e === down);
  assert.equal(calls, 1);
  assert.deepEqual(events.at(-1), { type: 'gave_up', attempts: 1, reason: 'budget' });
  // A success deposits too (the fast path): now two first attempts, one retry.
  assert.equal(await b.execute(async () => 'ok'), 'ok');
  assert.equal(budget.available, 1);
  calls = 0;
  await assert.rejects(a.execute(failing), (e) => e === down);
  assert.equal(calls, 2, 'one retry granted, the next denied');
  assert.equal(budget.available, 0);
  assert.equal(a.policy.budget, budget);
  assert.throws(() => new RetryPolicy({ budget: {} }), (e) => e instanceof ConfigError && e.parameter === 'budget');
  assert.throws(() => new RetryBudget({ ttlMs: 500 }), (e) => e instanceof ConfigError && e.parameter === 'ttlMs' && e.kind === 'too_small');
  budget.deposit();
  budget.deposit();
  assert.equal(budget.tryWithdraw(), true);
});

test('the adaptive throttle sheds locally once the backend rejects, with a typed error', async () => {
  const events = [];
  const throttle = new AdaptiveThrottle({ k: 1, seed: 7, clock: () => 0, onEvent: (e) => events.push(e) });
  assert.deepEqual([throttle.k, throttle.windowMs], [1, 120000]);
  const overloaded = new Error('503');
  let ran = 0;
  let shed;
  for (let i = 0; i < 50 && shed === undefined; i += 1) {
    await throttle
      .execute(async () => {
        ran += 1;
        throw overloaded;
      })
      .catch((e) => {
        if (e !== overloaded) shed = e;
      });
  }
  assert.ok(shed instanceof ThrottledError && shed.name === 'ThrottledError', `${shed}`);
  assert.ok(shed.probability > 0 && shed.retryAfterMs > 0);
  assert.match(shed.message, /request throttled locally/);
  assert.deepEqual(events.at(-1), { type: 'throttled', retryAfterMs: shed.retryAfterMs, probability: shed.probability });
  const { requests, accepts } = throttle.stats;
  assert.equal(accepts, 0);
  assert.equal(requests, ran + 1);
  await assert.rejects(throttle.execute(3), TypeError);
});

test('isAccepted decides what the backend accepted; one that throws counts as not accepted', async (t) => {
  const throttle = new AdaptiveThrottle({ clock: () => 0, isAccepted: (o) => o.ok && o.value.status < 500 });
  await throttle.execute(async () => ({ status: 200 }));
  await throttle.execute(async () => ({ status: 503 }));
  await throttle.execute(() => Promise.reject(new Error('x'))).catch(() => {});
  assert.deepEqual({ ...throttle.stats, probability: undefined }, { requests: 3, accepts: 1, probability: undefined });
  const warned = t.mock.method(console, 'warn', () => {});
  const buggy = new AdaptiveThrottle({
    clock: () => 0,
    isAccepted: () => {
      throw new Error('bug');
    },
  });
  assert.equal(await buggy.execute(() => 'sync'), 'sync');
  assert.equal(buggy.stats.accepts, 0);
  assert.match(String(warned.mock.calls[0].arguments[0]), /isAccepted threw; the call counts as not accepted/);
  // An operation that throws at once is a call the backend never accepted; its error surfaces unchanged.
  const thrown = new Error('sync');
  const strict = new AdaptiveThrottle({ clock: () => 0 });
  await assert.rejects(
    strict.execute(() => {
      throw thrown;
    }),
    (e) => e === thrown,
  );
  assert.deepEqual([strict.stats.requests, strict.stats.accepts], [1, 0]);
  const manual = new AdaptiveThrottle({ clock: () => 0 });
  assert.equal(manual.tryAdmit(), true);
  manual.record(true);
  assert.deepEqual({ ...manual.stats }, { requests: 1, accepts: 1, probability: 0 });
});

test('the rate limiter: try, wait exactly as long as core says, fail fast with the wait', async () => {
  let now = 0;
  const slept = [];
  const limiter = new RateLimiter({
    rate: 10,
    perMs: 1000,
    burst: 2,
    clock: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  });
  assert.deepEqual([limiter.rate, limiter.perMs, limiter.burst], [10, 1000, 2]);
  assert.equal(limiter.tryAcquire(), true);
  assert.equal(limiter.tryAcquire(), true);
  assert.equal(limiter.tryAcquire(), false);
  const limited = await limiter.execute(async () => 'never').catch((e) => e);
  assert.ok(limited instanceof RateLimitedError && limited.name === 'RateLimitedError');
  assert.deepEqual([limited.retryAfterMs, limited.reason], [100, 'limited']);
  await limiter.acquire();
  assert.deepEqual(slept, [100]);
  await assert.rejects(limiter.acquire(3), (e) => e instanceof RateLimitedError && e.reason === 'exceeds_burst' && e.retryAfterMs === Infinity);
  assert.throws(() => limiter.tryAcquire(1.5), (e) => e instanceof ConfigError && e.parameter === 'n' && e.kind === 'not_an_integer');
  assert.equal(limiter.tryAcquire(0), true, 'zero cells always conform');
  now += 100;
  assert.equal(await limiter.execute(() => 'sync'), 'sync');
  now += 100;
  const mine = new Error('mine');
  await assert.rejects(
    limiter.execute(() => {
      throw mine;
    }),
    (e) => e === mine,
  );
  await assert.rejects(limiter.execute('x'), TypeError);
  assert.throws(() => new RateLimiter({ rate: 0 }), (e) => e instanceof ConfigError && e.parameter === 'rate');
});

test('acquire waits on real timers by default and honours its signal', async () => {
  const limiter = new RateLimiter({ rate: 1, perMs: 3_600_000, burst: 1 });
  assert.equal(limiter.tryAcquire(), true);
  const controller = new AbortController();
  const waiting = track(limiter.acquire(1, { signal: controller.signal }));
  await flush();
  assert.equal(waiting.settled, false);
  const reason = new Error('gave up waiting');
  controller.abort(reason);
  await waiting.done;
  assert.equal(waiting.error, reason, 'the hour-long timer was cleared (the process exits promptly)');
  await assert.rejects(limiter.acquire(1, { signal: controller.signal }), (e) => e === reason);
  // An injected sleep is raced against the signal too.
  const injected = new RateLimiter({ rate: 1, perMs: 1000, burst: 1, sleep: () => new Promise(() => {}) });
  injected.tryAcquire();
  const c2 = new AbortController();
  const w2 = track(injected.acquire(undefined, { signal: c2.signal }));
  await flush();
  c2.abort(reason);
  await w2.done;
  assert.equal(w2.error, reason);
});

test('rateLimited paces a function (a wait is no refusal); the events say each refusal', async () => {
  let now = 0;
  const events = [];
  const limiter = new RateLimiter({
    rate: 1,
    perMs: 50,
    burst: 1,
    clock: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    onEvent: (e) => events.push(e),
  });
  const paced = rateLimited(async (x) => x * 2, limiter);
  assert.deepEqual(await Promise.all([paced(1), paced(2)]), [2, 4]);
  assert.equal(now, 50);
  assert.deepEqual(events, []);
  assert.equal(limiter.tryAcquire(), false);
  assert.deepEqual(events, [{ type: 'rate_limited', retryAfterMs: 50, reason: 'limited' }]);
  assert.throws(() => rateLimited(() => 1, {}), (e) => e instanceof ConfigError && e.parameter === 'limiter');
  assert.throws(() => rateLimited(3, limiter), TypeError);
});
