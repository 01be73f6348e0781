// One process of a fleet sharing one rate limiter (shared-load.test.mjs
// runs two): shares `search` (100 cells a second, a burst of 10), prints
// `ready` once synced, then on `go <ms>` asks for a cell every millisecond
// for that long and prints `admitted <n>`; the end of stdin ends it.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { RateLimiter } from 'resilience-wasm';
import { RedisStore } from 'resilience-wasm/redis';

const store = RedisStore.fromUrl(process.argv[2], { prefix: 'peers', syncIntervalMs: 100, syncTimeoutMs: 250 });
const search = new RateLimiter({ rate: 100, burst: 10, store, name: 'search' });
while (store.leaseStatus('search')?.live !== true) await sleep(5);
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const ms = Number(line.split(' ')[1]);
  const until = performance.now() + ms;
  let admitted = 0;
  while (performance.now() < until) {
    if (search.tryAcquire()) admitted += 1;
    await sleep(1);
  }
  console.log(`admitted ${admitted}`);
}
await store.close();
