// Shared breakers from Node against a real redis-server (started by the
// harness on a free port in a temp dir, stopped after). Several stores stand
// for several processes; redis/tests/cross runs separate processes in three
// languages. No tight timing is asserted: only bounds far from the expected
// values (propagation is milliseconds; the bound is two sync intervals).
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { BrokenCircuitError, CircuitBreaker, circuitBreaker, ConfigError } from 'resilience-wasm';
import { DEFAULT_PREFIX, RedisStore } from 'resilience-wasm/redis';

import { held, hold, RedisServer, waitUntil } from './redis-server.mjs';

const INTERVAL = 200;
const RATE = {
  failureRate: { ratio: 0.5, minimumThroughput: 10, samplingDurationMs: 20_000, buckets: 10 },
  recoveryTimeoutMs: 30_000,
};

let stores = [];
let servers = [];

async function server() {
  const s = await RedisServer.start();
  servers.push(s);
  return s;
}

function store(url, options = {}) {
  // A generous sync timeout: this machine's cores are shared with builds.
  const s = RedisStore.fromUrl(url, { prefix: 't', syncIntervalMs: INTERVAL, syncTimeoutMs: 250, ...options });
  stores.push(s);
  return s;
}

afterEach(async () => {
  held.clear();
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});

after(() => {
  // Nothing of the stores may keep the process alive: no handle but the test runner's.
  const handles = process._getActiveHandles().filter((h) => h.constructor?.name === 'Socket' && !h.destroyed && h.remotePort);
  assert.equal(handles.length, 0, `sockets left: ${handles.length}`);
});

const live = (s, name) => s.fleetStatus(name)?.live === true;
const down = () => Promise.reject(new Error('down'));

for (const subscribe of [true, false]) {
  test(`a trip opens every process within two sync intervals (${subscribe ? 'events' : 'polling'})`, async () => {
    const redis = await server();
    const ss = [0, 1, 2].map(() => store(redis.url, { subscribe }));
    const breakers = ss.map((s) => hold(new CircuitBreaker({ ...RATE, store: s, name: 'payments' })));
    await waitUntil(10_000, 'every breaker synced', () => ss.every((s) => live(s, 'payments')));
    for (let i = 0; i < 10; i += 1) await breakers[0].execute(down).catch(() => {});
    assert.equal(breakers[0].state, 'open', 'tripped on its own window');
    const tripped = performance.now();
    for (const b of breakers.slice(1)) await waitUntil(10_000, 'the others open', () => b.state === 'open');
    const took = performance.now() - tripped;
    assert.ok(took <= 2 * INTERVAL, `the fleet opened ${took} ms after the trip, more than two sync intervals`);
    for (const [i, b] of breakers.slice(1).entries()) {
      assert.equal(ss[i + 1].fleetStatus('payments').remoteOpens, 1);
      const error = await b.execute(() => 'never').catch((e) => e);
      assert.ok(error instanceof BrokenCircuitError);
      assert.ok(error.retryAfterMs > 25_000 && error.retryAfterMs <= 30_000, `${error.retryAfterMs}`);
    }
    assert.equal(ss.reduce((n, s) => n + s.metrics().published, 0), 1, 'one publish for one trip');
  });
}

test('the fleet trips on totals no process reaches alone', async () => {
  const redis = await server();
  const [sa, sb] = [store(redis.url), store(redis.url)];
  const a = hold(new CircuitBreaker({ ...RATE, store: sa, name: 'search' }));
  const b = hold(new CircuitBreaker({ ...RATE, store: sb, name: 'search' }));
  await waitUntil(10_000, 'both synced', () => live(sa, 'search') && live(sb, 'search'));
  for (let i = 0; i < 5; i += 1) {
    await a.execute(down).catch(() => {});
    await b.execute(down).catch(() => {});
  }
  assert.equal(a.metrics.windowCalls, 5, 'below the minimum throughput of 10');
  await waitUntil(10_000, "both open on the fleet's 10 of 10", () => a.state === 'open' && b.state === 'open');
});

test('the fleet sends at most halfOpenMaxCalls trials at once', async () => {
  const redis = await server();
  const ss = [0, 1, 2, 3].map(() => store(redis.url));
  // Real time: the fleet's break ends on Redis's clock, and the breakers must see it end too.
  const breakers = ss.map((s) =>
    hold(new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 400, halfOpenMaxCalls: 2, store: s, name: 'inventory' })),
  );
  await waitUntil(10_000, 'every breaker synced', () => ss.every((s) => live(s, 'inventory')));
  await breakers[0].execute(down).catch(() => {});
  await waitUntil(10_000, 'the fleet is open', () => breakers.every((b) => b.state !== 'closed'));
  // Every call that reaches the dependency before it recovers is a trial:
  // the fleet is open or half-open until a trial succeeds.
  const dependency = { inFlight: 0, mostAtOnce: 0, trials: 0, recovered: false };
  const healthyAfter = 6;
  const probe = async () => {
    if (dependency.recovered) return 'ok';
    dependency.trials += 1;
    const n = dependency.trials;
    dependency.inFlight += 1;
    dependency.mostAtOnce = Math.max(dependency.mostAtOnce, dependency.inFlight);
    await sleep(100);
    dependency.inFlight -= 1;
    if (n > healthyAfter) {
      dependency.recovered = true;
      return 'ok';
    }
    throw new Error('still down');
  };
  const deadline = performance.now() + 20_000;
  // Three callers per process: without fleet leases, 4 x 2 trials could run at once.
  const caller = async (b) => {
    while (performance.now() < deadline && !dependency.recovered) {
      const error = await b.execute(probe).then(() => undefined, (e) => e);
      if (error instanceof BrokenCircuitError) await sleep(3);
    }
  };
  await Promise.all(breakers.flatMap((b) => [caller(b), caller(b), caller(b)]));
  assert.ok(dependency.recovered, `the fleet probed until the dependency recovered (${dependency.trials} trials)`);
  assert.ok(dependency.mostAtOnce <= 2, `${dependency.mostAtOnce} trials ran at once; halfOpenMaxCalls is 2`);
  for (const b of breakers) await waitUntil(10_000, 'every process closed', () => b.state === 'closed');
});

test('breakers of one name with different windows stay local and say why', async () => {
  const redis = await server();
  const [sa, sb] = [store(redis.url), store(redis.url)];
  hold(new CircuitBreaker({ ...RATE, store: sa, name: 'mixed' }));
  await waitUntil(10_000, 'a synced', () => live(sa, 'mixed'));
  const b = new CircuitBreaker({
    ...RATE,
    failureRate: { ...RATE.failureRate, samplingDurationMs: 5000 },
    store: sb,
    name: 'mixed',
  });
  await waitUntil(10_000, "b's sync refused", () => (sb.metrics().lastError ?? '').includes('window mismatch'));
  assert.ok(sb.metrics().degraded && !live(sb, 'mixed'));
  assert.equal(await b.execute(() => 1), 1, 'decisions stay local and keep working');
});

test('Redis commands stay within one script call per breaker and interval', async () => {
  const redis = await server();
  const s = store(redis.url, { subscribe: false });
  const breakers = [0, 1, 2].map((i) => hold(circuitBreaker(() => 'ok', { ...RATE, store: s, name: `b${i}` })));
  await waitUntil(10_000, 'synced', () => [0, 1, 2].every((i) => live(s, `b${i}`)));
  const before = await redis.commandCalls('evalsha');
  const started = performance.now();
  for (let i = 0; i < 200; i += 1) for (const call of breakers) await call(); // calls never touch Redis
  await sleep(1000);
  const calls = (await redis.commandCalls('evalsha')) - before;
  const elapsed = performance.now() - started;
  assert.ok(calls <= breakers.length * (elapsed / INTERVAL + 2), `${calls} script calls in ${elapsed} ms`);
  const m = s.metrics();
  assert.ok(m.connected && !m.degraded && m.syncs >= calls && m.connects === 1, JSON.stringify(m));
  assert.equal(m.lastError, undefined);
});

test('the store checks its options and never connects on the caller', async () => {
  const kind = (fn) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof ConfigError, `${e}`);
      return [e.parameter, e.kind];
    }
    return undefined;
  };
  assert.deepEqual(kind(() => RedisStore.fromUrl('redis://127.0.0.1:1/0', { prefix: '' })), ['prefix', 'too_small']);
  assert.equal(kind(() => RedisStore.fromUrl('redis://127.0.0.1:1/0', { syncIntervalMs: 0 }))[0], 'syncIntervalMs');
  assert.equal(kind(() => RedisStore.fromUrl('redis://127.0.0.1:1/0', { connectTimeoutMs: 0 }))[0], 'connectTimeoutMs');
  assert.throws(() => RedisStore.fromUrl(42), TypeError);
  assert.equal(DEFAULT_PREFIX, 'resilience');
  const unreachable = store('redis://127.0.0.1:1/0', { connectTimeoutMs: 50 });
  assert.equal(unreachable.prefix, 't');
  assert.equal(unreachable.syncIntervalMs, INTERVAL);
  assert.equal(unreachable.syncTimeoutMs, 250);
  const b = new CircuitBreaker({ store: unreachable, name: 'x' });
  assert.ok(unreachable.metrics().degraded);
  assert.equal(await b.execute(() => 2), 2);
  assert.equal(unreachable.fleetStatus('nobody'), undefined);
  await waitUntil(5000, 'the connect failed', () => unreachable.metrics().lastError !== undefined);
  assert.equal(unreachable.metrics().connected, false);
  await unreachable.close();
  assert.throws(() => new CircuitBreaker({ store: unreachable, name: 'y' }), /closed/);
});
