// Shared rate limiters and retry budgets from Node against a real
// redis-server (started by the harness on a free port in a temp dir,
// stopped after): the fleet bound across stores and across processes, the
// fleet's budget, Redis paused (SIGSTOP), restarted empty and killed, and
// option errors. No tight timing is asserted: only bounds far from the
// expected values.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { ConfigError, RateLimiter, RetryBudget, RetryPolicy } from 'resilience-wasm';
import { RedisStore } from 'resilience-wasm/redis';

import { held, hold, RedisServer, waitUntil } from './redis-server.mjs';

let stores = [];
let servers = [];

async function server() {
  const s = await RedisServer.start();
  servers.push(s);
  return s;
}

function store(url, options = {}) {
  const s = RedisStore.fromUrl(url, { prefix: 'l', syncIntervalMs: 100, ...options });
  stores.push(s);
  return s;
}

afterEach(async () => {
  held.clear();
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
  for (const s of servers) s.pid && s.resume();
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});

const live = (s, name) => s.leaseStatus(name)?.live === true;

test('stores share one limiter: the fleet stays within burst + rate × t + stores × leaseSize', async () => {
  const redis = await server();
  const ss = [0, 1, 2].map(() => store(redis.url, { syncTimeoutMs: 250 }));
  const limiters = ss.map((s) => hold(new RateLimiter({ rate: 100, burst: 10, store: s, name: 'search' })));
  await waitUntil(10_000, 'every limiter synced', () => ss.every((s) => live(s, 'search')));
  assert.equal(ss[0].leaseStatus('search').leaseSize, 3, 'a quarter of the burst, rounded up');
  let admitted = 0;
  const started = performance.now();
  while (performance.now() - started < 2000) {
    for (const l of limiters) if (l.tryAcquire()) admitted += 1;
    await sleep(1);
  }
  const seconds = (performance.now() - started) / 1000;
  const bound = 10 + 100 * seconds + 3 * 3;
  assert.ok(admitted <= bound, `the fleet admitted ${admitted} in ${seconds.toFixed(3)} s (bound ${bound.toFixed(0)})`);
  assert.ok(admitted >= 0.5 * 100 * seconds, `the fleet admitted only ${admitted}`);
  assert.ok(ss.every((s) => s.leaseStatus('search').fleetSize === 3), 'each saw three processes');
});

test('two processes share one limiter within the bound', async () => {
  const redis = await server();
  const peer = fileURLToPath(new URL('./limiter-peer.mjs', import.meta.url));
  const children = [0, 1].map(() => spawn(process.execPath, [peer, redis.url], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = children.map((child) => {
    let buffer = '';
    const waiting = [];
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        waiting.shift()?.(line);
      }
    });
    return () => new Promise((resolve) => waiting.push(resolve));
  });
  const ready = await Promise.all(lines.map((next) => next()));
  assert.deepEqual(ready, ['ready', 'ready']);
  const results = lines.map((next) => next());
  for (const child of children) child.stdin.write('go 2000\n');
  const answers = await Promise.all(results);
  for (const child of children) child.stdin.end();
  await Promise.all(children.map((child) => once(child, 'exit')));
  const admitted = answers.map((a) => Number(a.split(' ')[1])).reduce((x, y) => x + y, 0);
  // rate 100/s, burst 10, two leases of 3; 0.1 s of slack for the two starts.
  const bound = 10 + 100 * 2.1 + 2 * 3;
  assert.ok(admitted <= bound, `two processes admitted ${admitted} (bound ${bound})`);
  assert.ok(admitted >= 100, `two processes admitted only ${admitted}`);
});

test('a shared budget grants only the retries the fleet earned', async () => {
  const redis = await server();
  const [a, b] = [store(redis.url), store(redis.url)];
  const options = { minRetriesPerSec: 0, retryRatio: 0.5, leaseSize: 2, name: 'payments' };
  const inA = hold(new RetryBudget({ ...options, store: a }));
  const inB = hold(new RetryBudget({ ...options, store: b }));
  await waitUntil(10_000, 'both synced', () => live(a, 'payments') && live(b, 'payments'));
  for (let i = 0; i < 10; i += 1) inA.deposit();
  const drain = async (budget) => {
    let granted = 0;
    const until = performance.now() + 1000;
    while (performance.now() < until) {
      if (budget.tryWithdraw()) granted += 1;
      await sleep(5);
    }
    return granted;
  };
  const fromB = await drain(inB);
  const fromA = await drain(inA);
  assert.equal(fromA + fromB, 5, `ten first attempts earn five retries (A ${fromA}, B ${fromB})`);
  assert.ok(fromB > 0, 'B retries on what the fleet earned');
  // A retry policy draws on it as on a local budget.
  const policy = new RetryPolicy({ maxAttempts: 3, budget: inB });
  assert.ok(policy);
});

test('Redis paused: limiter and budget calls keep flowing on local decisions, then lease again', async () => {
  const redis = await server();
  const s = store(redis.url);
  const limiter = hold(new RateLimiter({ rate: 2000, burst: 100, store: s, name: 'search' }));
  const budget = hold(new RetryBudget({ store: s, name: 'payments' }));
  await waitUntil(10_000, 'synced', () => live(s, 'search') && live(s, 'payments'));
  redis.pause();
  const pausedAt = performance.now();
  let admitted = 0;
  let slowest = 0;
  let degraded = false;
  while (performance.now() - pausedAt < 1500) {
    const t0 = performance.now();
    if (limiter.tryAcquire()) admitted += 1;
    budget.deposit();
    budget.tryWithdraw();
    slowest = Math.max(slowest, performance.now() - t0);
    degraded ||= s.metrics().degraded;
    await sleep(1);
  }
  assert.ok(degraded, 'degraded while Redis is stopped');
  assert.ok(!live(s, 'search'), 'local while stopped');
  redis.resume();
  assert.ok(admitted > 100, `calls kept flowing (${admitted})`);
  assert.ok(slowest < 1500 / 4, `a call took ${slowest} ms`);
  const state = () =>
    `leasing again after SIGCONT: ${JSON.stringify({
      metrics: s.metrics(),
      search: s.leaseStatus('search'),
      payments: s.leaseStatus('payments'),
    })}`;
  await waitUntil(20_000, state, () => {
    const m = s.metrics();
    return m.connected && !m.degraded && live(s, 'search') && live(s, 'payments');
  });
});

test('Redis restarted empty: the keys come back; killed: close() does not hang', async () => {
  const redis = await server();
  const s = store(redis.url);
  const limiter = hold(new RateLimiter({ rate: 100, burst: 10, store: s, name: 'search' }));
  const budget = hold(new RetryBudget({ store: s, name: 'payments' }));
  await waitUntil(10_000, 'synced', () => live(s, 'search') && live(s, 'payments'));
  await redis.restartEmpty();
  await waitUntil(20_000, 'the keys recreated', async () =>
    (await redis.command('EXISTS', 'l:rl:{search}:gcra')).includes(':1')
    && (await redis.command('EXISTS', 'l:rb:{payments}:meta')).includes(':1'));
  await waitUntil(10_000, 'live again', () => live(s, 'search') && live(s, 'payments'));
  await redis.kill();
  await waitUntil(10_000, 'degraded', () => s.metrics().degraded);
  assert.ok(limiter.tryAcquire() || true);
  assert.equal(typeof budget.tryWithdraw(), 'boolean');
  const t0 = performance.now();
  await s.close();
  assert.ok(performance.now() - t0 < s.syncTimeoutMs + 500, 'close() returned');
});

test('one command per sync interval plus one per lease', async () => {
  const redis = await server();
  const s = store(redis.url, { syncTimeoutMs: 250, subscribe: false });
  const limiter = hold(new RateLimiter({ rate: 2000, burst: 100, store: s, name: 'busy' }));
  await waitUntil(10_000, 'synced', () => live(s, 'busy'));
  const calls = async () =>
    (await redis.commandCalls('evalsha')) + (await redis.commandCalls('eval')) + (await redis.commandCalls('script|load'));
  const before = await calls();
  const earlyBefore = s.leaseStatus('busy').earlyLeases;
  const started = performance.now();
  let admitted = 0;
  while (performance.now() - started < 2000) {
    if (limiter.tryAcquire()) admitted += 1;
    await sleep(1);
  }
  const seconds = (performance.now() - started) / 1000;
  const commands = (await calls()) - before;
  const status = s.leaseStatus('busy');
  const leases = status.earlyLeases - earlyBefore;
  const byInterval = Math.ceil(seconds / 0.1) + 1;
  assert.ok(admitted > 500, `admitted ${admitted}`);
  assert.ok(commands <= byInterval + leases, `${commands} commands: more than ${byInterval} + ${leases} leases`);
});

test('options: store and name go together, leaseSize needs a store and stays within the burst', async () => {
  const redis = await server();
  const s = store(redis.url);
  const cases = [
    [() => new RateLimiter({ store: s }), 'store', 'requires_other'],
    [() => new RateLimiter({ name: 'search' }), 'name', 'requires_other'],
    [() => new RateLimiter({ leaseSize: 2 }), 'leaseSize', 'requires_other'],
    [() => new RateLimiter({ burst: 10, leaseSize: 11, store: s, name: 'search' }), 'leaseSize', 'too_large'],
    [() => new RateLimiter({ leaseSize: 0, store: s, name: 'search' }), 'leaseSize', 'too_small'],
    [() => new RateLimiter({ leaseSize: 2.5, store: s, name: 'search' }), 'leaseSize', 'not_an_integer'],
    [() => new RetryBudget({ store: s }), 'store', 'requires_other'],
    [() => new RetryBudget({ name: 'payments' }), 'name', 'requires_other'],
    [() => new RetryBudget({ leaseSize: 2 }), 'leaseSize', 'requires_other'],
    [() => new RetryBudget({ leaseSize: '2', store: s, name: 'payments' }), 'leaseSize', 'wrong_type'],
    [() => new RetryBudget({ store: s, name: '' }), 'name', 'too_small'],
  ];
  for (const [make, parameter, kind] of cases) {
    assert.throws(make, (e) => e instanceof ConfigError && e.kind === kind && e.parameter === parameter, `${parameter} ${kind}`);
  }
  assert.throws(() => new RateLimiter({ store: {}, name: 'x' }), TypeError);
});
