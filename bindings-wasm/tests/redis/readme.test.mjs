// The README's two-process example (the ```mjs block after the
// `<!-- two-processes.mjs -->` marker) runs against a real redis-server: the
// second process opens within two sync intervals of the first's trip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { RedisServer } from './redis-server.mjs';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// Inside the package, so `resilience-wasm` resolves to itself by name.
const DIR = fileURLToPath(new URL('../.readme-redis/', import.meta.url));

test('the two-process example runs', async (t) => {
  const found = README.match(/<!-- two-processes\.mjs -->\n```mjs\n([\s\S]*?)```/);
  assert.ok(found, 'the two-process example is in the README');
  mkdirSync(DIR, { recursive: true });
  const file = `${DIR}two-processes.mjs`;
  writeFileSync(file, found[1]);
  const redis = await RedisServer.start();
  t.after(async () => {
    rmSync(DIR, { recursive: true, force: true });
    await redis.stop();
  });
  const out = execFileSync(process.execPath, [file, redis.url], { encoding: 'utf8', timeout: 60_000 });
  const lines = out.trim().split('\n');
  assert.equal(lines[0], 'first: open', out);
  const ms = Number(lines[1].match(/^second: opened by the fleet ([0-9.]+) ms later$/)?.[1]);
  assert.ok(ms <= 500, `the second process opened ${ms} ms after the trip (two intervals: 500 ms)`);
});
