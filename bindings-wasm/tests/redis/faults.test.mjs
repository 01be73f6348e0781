// Redis slow, restarted empty, or gone for good — from Node, against a real
// redis-server paused with SIGSTOP, killed and restarted. Per-call times are
// measured only to show they are far below the Redis stall (no tight timing
// is asserted).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { CircuitBreaker } from 'resilience-wasm';
import { RedisStore } from 'resilience-wasm/redis';

import { held, hold, RedisServer, waitUntil } from './redis-server.mjs';

const WINDOW = { failureRate: { ratio: 0.5, minimumThroughput: 100_000, samplingDurationMs: 60_000, buckets: 10 } };

let stores = [];
let servers = [];

async function server() {
  const s = await RedisServer.start();
  servers.push(s);
  return s;
}

function store(url) {
  // The default 50 ms sync timeout: the bound on a slow Redis.
  const s = RedisStore.fromUrl(url, { prefix: 'f', syncIntervalMs: 100 });
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

const fails = () => Promise.reject(new Error('down'));
const works = () => 1;

test('Redis paused: calls flow on local decisions, then resync counting each call once', async () => {
  const redis = await server();
  const s = store(redis.url);
  const breaker = hold(new CircuitBreaker({ ...WINDOW, store: s, name: 'paused' }));
  await waitUntil(10_000, 'synced', () => s.fleetStatus('paused').live);
  const pauseMs = 1500;
  let calls = 0;
  let slowest = 0;
  let stop = false;
  const work = (async () => {
    for (let i = 0; !stop; i += 1) {
      const started = performance.now();
      await breaker.execute(i % 5 === 0 ? fails : works).catch(() => {});
      slowest = Math.max(slowest, performance.now() - started);
      calls += 1;
      // Let timers run: the store's sync shares this thread.
      if (i % 64 === 0) await sleep(0);
    }
  })();
  await sleep(300);
  redis.pause();
  const before = calls;
  const pausedAt = performance.now();
  await waitUntil(pauseMs, 'the store reports degraded while Redis is stopped', () => s.metrics().degraded);
  assert.equal(s.fleetStatus('paused').live, false, 'decisions are local while Redis is stopped');
  await sleep(Math.max(0, pauseMs - (performance.now() - pausedAt)));
  const during = calls - before;
  redis.resume();
  await sleep(200);
  stop = true;
  await work;
  assert.ok(during > 1000, `calls kept flowing: ${during}`);
  assert.ok(slowest < pauseMs / 4, `a call took ${slowest} ms while Redis was stopped for ${pauseMs} ms`);
  await waitUntil(20_000, 'resynced after SIGCONT', () => {
    const m = s.metrics();
    return m.connected && !m.degraded && s.fleetStatus('paused').live;
  });
  const local = breaker.metrics;
  assert.equal(local.windowCalls, calls, 'every call is in the local window');
  s.syncNow();
  // A sync that timed out while Redis was stopped is sent again: its
  // sequence number keeps it from counting twice.
  await waitUntil(10_000, "the fleet's window holds every call once", () => {
    const f = s.fleetStatus('paused');
    return f.calls === local.windowCalls && f.failures === local.windowFailures;
  });
  assert.ok(s.metrics().failedSyncs >= 1);
});

test('Redis restarted empty is re-seeded with each window and open break', async () => {
  const redis = await server();
  const [s1, s2] = [store(redis.url), store(redis.url)];
  const counting = hold(new CircuitBreaker({ ...WINDOW, store: s1, name: 'counts' }));
  const peer = hold(new CircuitBreaker({ ...WINDOW, store: s2, name: 'counts' }));
  for (let i = 0; i < 7; i += 1) {
    await counting.execute(i < 3 ? fails : works).catch(() => {});
    await peer.execute(works);
  }
  const both = (f) => f?.calls === 14 && f?.failures === 3;
  await waitUntil(10_000, 'the fleet holds both windows', () => both(s1.fleetStatus('counts')));
  const opened = hold(new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 60_000, store: s1, name: 'opened' }));
  await opened.execute(fails).catch(() => {});
  const pttl = async () => Number((await redis.command('PTTL', 'f:cb:{opened}:open')).slice(1));
  await waitUntil(10_000, 'the open key is set', async () => (await pttl()) > 0);

  await redis.restartEmpty();
  assert.equal(await redis.command('DBSIZE'), ':0\r\n');
  await waitUntil(20_000, 'both re-seeded', () => s1.metrics().reseeds >= 1 && s2.metrics().reseeds >= 1);
  await waitUntil(10_000, "the fleet's window holds both windows again", () => {
    const f = s1.fleetStatus('counts');
    return f.live && both(f);
  });
  await waitUntil(10_000, 'the open break is re-seeded', async () => (await pttl()) > 50_000);
  // A process that joins after the restart opens from the re-seeded key.
  const s3 = store(redis.url);
  const late = hold(new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 60_000, store: s3, name: 'opened' }));
  await waitUntil(10_000, 'a late joiner opens', () => late.state === 'open');
});

test('Redis killed for good: decisions stay local and close does not hang', async () => {
  const redis = await server();
  const s = store(redis.url);
  const breaker = hold(new CircuitBreaker({ failureThreshold: 2, recoveryTimeoutMs: 60_000, store: s, name: 'gone' }));
  await waitUntil(10_000, 'synced', () => s.fleetStatus('gone').live);
  await redis.kill();
  await waitUntil(5000, 'degraded', () => s.metrics().degraded && !s.metrics().connected);
  for (let i = 0; i < 2; i += 1) await breaker.execute(fails).catch(() => {});
  assert.equal(breaker.state, 'open', 'local decisions: the breaker still trips');
  await sleep(300); // a few reconnect attempts
  const started = performance.now();
  await s.close();
  assert.ok(performance.now() - started < 2000, 'close took too long');
  assert.equal(breaker.state, 'open', 'after close, the breaker keeps working on its own');
});

test('close does not wait for a stopped Redis', async () => {
  const redis = await server();
  const s = store(redis.url);
  hold(new CircuitBreaker({ ...WINDOW, store: s, name: 'stuck' }));
  await waitUntil(10_000, 'synced', () => s.fleetStatus('stuck').live);
  redis.pause();
  s.syncNow();
  await sleep(20); // the sync is now waiting on Redis
  const started = performance.now();
  await s.close();
  const took = performance.now() - started;
  redis.resume();
  assert.ok(took < 1000, `close took ${took} ms with Redis stopped`);
});

test('a flushed script cache costs one EVAL', async () => {
  const redis = await server();
  // A generous sync timeout: on a loaded machine a timed-out sync reconnects
  // and loads the script afresh, which would hide the EVAL this test is about.
  const s = RedisStore.fromUrl(redis.url, { prefix: 'f', syncIntervalMs: 100, syncTimeoutMs: 2000 });
  stores.push(s);
  hold(new CircuitBreaker({ ...WINDOW, store: s, name: 'flushed' }));
  await waitUntil(10_000, 'synced', () => s.fleetStatus('flushed').live);
  assert.equal(await redis.command('SCRIPT', 'FLUSH'), '+OK\r\n');
  const syncs = s.metrics().syncs;
  await waitUntil(10_000, 'synced again', () => s.metrics().syncs >= syncs + 2);
  assert.equal(await redis.commandCalls('eval'), 1, 'one EVAL with the text, then EVALSHA again');
  assert.equal(s.metrics().degraded, false);
});

test('a process that never closes its store still exits promptly (unref()ed timers and sockets)', async () => {
  const redis = await server();
  const script = `
    import { CircuitBreaker } from 'resilience-wasm';
    import { RedisStore } from 'resilience-wasm/redis';
    const store = RedisStore.fromUrl(process.argv[1], { syncIntervalMs: 50 });
    const b = new CircuitBreaker({ store, name: 'exit' });
    const start = Date.now();
    while (!store.fleetStatus('exit').live && Date.now() - start < 10000) await new Promise((r) => setTimeout(r, 5));
    console.log(store.metrics().connected && store.metrics().subscribed ? 'synced' : 'not synced');
  `;
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, redis.url], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'synced');
  assert.ok(performance.now() - started < 15_000, 'the process did not exit on its own');
});
