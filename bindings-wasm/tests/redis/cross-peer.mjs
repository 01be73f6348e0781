// The Node peer of the cross-language test (redis/tests/cross; the line
// protocol is in redis/examples/fleet_peer.rs): two breakers shared through
// resilience-wasm/redis.
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { BrokenCircuitError, CircuitBreaker } from 'resilience-wasm';
import { RedisStore } from 'resilience-wasm/redis';

function dependency(port) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('probe\n'));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('end', () => (data.trim() === 'ok' ? resolve('ok') : reject(new Error(data.trim()))));
    socket.on('error', reject);
  });
}

const store = RedisStore.fromUrl(process.argv[2], { prefix: 'cross', syncIntervalMs: 200, syncTimeoutMs: 250 });
const breakers = {
  payments: new CircuitBreaker({
    failureRate: { ratio: 0.5, minimumThroughput: 10, samplingDurationMs: 20_000, buckets: 10 },
    recoveryTimeoutMs: 30_000,
    store,
    name: 'payments',
  }),
  inventory: new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 400, halfOpenMaxCalls: 2, store, name: 'inventory' }),
};
const started = performance.now();
while (!Object.keys(breakers).every((name) => store.fleetStatus(name)?.live)) {
  if (performance.now() - started > 10_000) throw new Error('never synced');
  await sleep(5);
}
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, name, arg] = line.split(/\s+/);
  if (!command || command === 'quit') break;
  const breaker = breakers[name] ?? breakers.payments;
  if (command === 'fail') {
    for (let i = 0; i < Number(arg); i += 1) await breaker.execute(() => dependency(0)).catch(() => {});
    console.log(`state ${breaker.state}`);
  } else if (command === 'await-open') {
    const told = performance.now();
    while (breaker.state !== 'open' && performance.now() - told < 10_000) await sleep(1);
    console.log(`open ${(performance.now() - told).toFixed(1)}`);
  } else if (command === 'probe') {
    const port = Number(arg);
    const deadline = performance.now() + 20_000;
    let calls = 0;
    const caller = async () => {
      while (breaker.state !== 'closed' && performance.now() < deadline) {
        const error = await breaker.execute(() => dependency(port)).then(() => undefined, (e) => e);
        if (error instanceof BrokenCircuitError) await sleep(3);
        else calls += 1;
      }
    };
    await Promise.all([caller(), caller()]);
    console.log(`${breaker.state} ${calls}`);
  } else console.log(`unknown ${command}`);
}
await store.close();
// The parent holds the pipe open: let go of stdin so the process can end.
process.stdin.destroy();
