// The README's Redis examples (the ```mjs block after each `<!-- name -->`
// marker, and redis/README.md's ```js block) run against a real
// redis-server: in the two-process example the second process opens within
// two sync intervals of the first's trip; two limiters sharing one name
// admit the fleet's burst, not one each.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { RedisServer } from './redis-server.mjs';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// Inside the package, so `resilience-wasm` resolves to itself by name.
const DIR = fileURLToPath(new URL('../.readme-redis/', import.meta.url));

/** Runs the README's block after `<!-- name -->` against its own redis-server; its output. */
async function runExample(t, name) {
  const found = README.match(new RegExp(`<!-- ${name.replace('.', '\\.')} -->\n\`\`\`mjs\n([\\s\\S]*?)\`\`\``));
  assert.ok(found, `the example ${name} is in the README`);
  mkdirSync(DIR, { recursive: true });
  const file = `${DIR}${name}`;
  writeFileSync(file, found[1]);
  const redis = await RedisServer.start();
  t.after(async () => {
    rmSync(DIR, { recursive: true, force: true });
    await redis.stop();
  });
  return execFileSync(process.execPath, [file, redis.url], { encoding: 'utf8', timeout: 60_000 });
}

test('the two-process example runs', async (t) => {
  const out = await runExample(t, 'two-processes.mjs');
  const lines = out.trim().split('\n');
  assert.equal(lines[0], 'first: open', out);
  const ms = Number(lines[1].match(/^second: opened by the fleet ([0-9.]+) ms later$/)?.[1]);
  assert.ok(ms <= 500, `the second process opened ${ms} ms after the trip (two intervals: 500 ms)`);
});

test('the shared-limiter example runs', async (t) => {
  const out = await runExample(t, 'shared-limiter.mjs');
  const admitted = Number(out.match(/^the fleet admitted (\d+) of 40 calls \(two unshared limiters: 20\)\n$/)?.[1]);
  // The burst, leased 5 + 5; the loop takes far less than the 100 ms one more cell needs.
  assert.ok(admitted >= 10 && admitted <= 11, out);
});

test("redis/README.md's Node example runs", async (t) => {
  const text = readFileSync(new URL('../../../redis/README.md', import.meta.url), 'utf8');
  const found = text.match(/```js\n([\s\S]*?)```/);
  assert.ok(found, 'redis/README.md shows the Node driver');
  mkdirSync(DIR, { recursive: true });
  const file = `${DIR}redis-readme.mjs`;
  const redis = await RedisServer.start();
  t.after(async () => {
    rmSync(DIR, { recursive: true, force: true });
    await redis.stop();
  });
  writeFileSync(file, found[1].replace('redis://127.0.0.1:6379/0', redis.url));
  execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
});
