// Per-call overhead of a breaker, a rate limiter and a retry budget shared
// through Redis (resilience-wasm/redis) against the same unshared, in one
// Node process, side by side.
// Interleaved: R rounds, each N calls through the local breaker then N
// through the shared one (its store's loop running at the default 250 ms),
// the ratio per round, then the median ratio — a load spike hits both sides
// alike. Starts its own redis-server (the test harness's).
//
//   node bench/js/redis-overhead.mjs        (after make wasm-build)
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(new URL('../../bindings-wasm/package.json', import.meta.url));
const { CircuitBreaker, RateLimiter, RetryBudget } = require('resilience-wasm');
const { RedisStore } = require('resilience-wasm/redis');
const { RedisServer } = await import('../../bindings-wasm/tests/redis/redis-server.mjs');

const ROUNDS = 31;
const N = 20_000;
const WINDOW = { failureRate: { ratio: 0.5, minimumThroughput: 100, samplingDurationMs: 30_000, buckets: 10 } };
const ok = () => 1;

async function perCall(breaker) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) await breaker.execute(ok);
  return Number(process.hrtime.bigint() - start) / N;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function perCallSync(fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) fn();
  return Number(process.hrtime.bigint() - start) / N;
}

function row(name, l, s) {
  const ratios = l.map((x, i) => s[i] / x);
  return (
    `| ${name} | ${median(l).toFixed(0)} ns | ${median(s).toFixed(0)} ns | ` +
    `**${median(ratios).toFixed(2)}** (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`
  );
}

/** A limiter no caller reaches (a lease of a whole burst) and a budget with a floor no caller spends. */
async function loadRows() {
  const big = { rate: 2 ** 32 - 1, burst: 1_000_000 };
  const localL = new RateLimiter(big);
  const sharedL = new RateLimiter({ ...big, store, name: 'bench-limiter', leaseSize: 1_000_000 });
  const floor = { minRetriesPerSec: 2 ** 32 - 1 };
  const localB = new RetryBudget(floor);
  const sharedB = new RetryBudget({ ...floor, store, name: 'bench-budget', leaseSize: 1_000_000 });
  while (!(store.leaseStatus('bench-limiter')?.live && store.leaseStatus('bench-budget')?.live)) await sleep(10);
  for (const [name, local, shared] of [
    ['RateLimiter.tryAcquire', () => localL.tryAcquire(), () => sharedL.tryAcquire()],
    ['RetryBudget.deposit', () => localB.deposit(), () => sharedB.deposit()],
    ['RetryBudget.tryWithdraw', () => localB.tryWithdraw(), () => sharedB.tryWithdraw()],
  ]) {
    const l = [];
    const s = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      l.push(perCallSync(local));
      s.push(perCallSync(shared));
      await sleep(0);
    }
    console.log(row(name, l, s));
  }
}

const server = await RedisServer.start();
const store = RedisStore.fromUrl(server.url, { prefix: 'bench' });
try {
  console.log('| scenario (closed success) | local | shared | shared / local, median of rounds (range) |');
  console.log('|---|---:|---:|---:|');
  for (const [label, options] of [['time window (30 s, 10 buckets)', WINDOW], ['consecutive rule', {}]]) {
    const local = new CircuitBreaker(options);
    const name = `b-${label.length}`;
    const shared = new CircuitBreaker({ ...options, store, name });
    while (!store.fleetStatus(name).live) await sleep(10);
    const l = [];
    const s = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      l.push(await perCall(local));
      s.push(await perCall(shared));
      await sleep(0); // let the store's timers run between rounds, as they would
    }
    const ratios = l.map((x, i) => s[i] / x);
    console.log(
      `| CircuitBreaker.execute, ${label} | ${median(l).toFixed(0)} ns | ${median(s).toFixed(0)} ns | ` +
        `**${median(ratios).toFixed(2)}** (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`,
    );
  }
  await loadRows();
  const m = store.metrics();
  console.log(`\nstore: ${m.syncs} syncs, ${m.failedSyncs} failed, degraded=${m.degraded}`);
} finally {
  await store.close();
  await server.stop();
}
