// withRetry against a real node:http server on 127.0.0.1, on virtual time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import { withRetry } from 'resilience-wasm';
import { startFlakyServer } from './helpers/flaky-server.mjs';
import { VirtualTime } from './helpers/virtual-time.mjs';

// The raw wasm module the package loaded (the same instance: same path).
const raw = createRequire(import.meta.url)('../dist/node/resilience_wasm.js');

test('503, then 429 with Retry-After, then 200: waits the backoff, then the hint', async (t) => {
  const server = await startFlakyServer([
    { status: 503 },
    { status: 429, headers: { 'Retry-After': '7' } },
  ]);
  t.after(server.close);
  const time = new VirtualTime();
  const retried = [];
  const resilientFetch = withRetry(fetch, {
    maxAttempts: 3,
    baseDelayMs: 100,
    jitter: false,
    retryableStatusCodes: [429, 503], // 429 is opt-in
    sleep: time.sleep,
    onRetry: (attempt, response, delayMs) => retried.push([attempt, response.status, delayMs]),
  });
  const response = await resilientFetch(server.url);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'ok');
  assert.equal(server.requests.length, 3);
  assert.deepEqual(retried, [
    [1, 503, 100],
    [2, 429, 7000],
  ]);
  assert.deepEqual(time.sleepsNs, [100e6, 7000e6]);
});

test('Retry-After is capped at maxDelayMs; an HTTP-date counts from the clock; jitter never shortens it', async (t) => {
  const server = await startFlakyServer([
    { status: 503, headers: { 'Retry-After': '3600' } },
    { status: 503, headers: { 'Retry-After': 'Sun, 06 Nov 1994 08:49:47 GMT' } },
  ]);
  t.after(server.close);
  const time = new VirtualTime();
  const resilientFetch = withRetry(fetch, {
    baseDelayMs: 1,
    maxDelayMs: 30000,
    jitter: 'full',
    seed: 1,
    sleep: time.sleep,
    clock: () => Date.UTC(1994, 10, 6, 8, 49, 37),
  });
  const response = await resilientFetch(server.url);
  assert.equal(response.status, 200);
  assert.deepEqual(time.sleepsNs, [30000e6, 10000e6]);
});

test('honorRetryAfter: false ignores the header', async (t) => {
  const server = await startFlakyServer([{ status: 429, headers: { 'Retry-After': '60' } }]);
  t.after(server.close);
  const time = new VirtualTime();
  const resilientFetch = withRetry(fetch, {
    baseDelayMs: 50,
    jitter: false,
    honorRetryAfter: false,
    retryableStatusCodes: [429],
    sleep: time.sleep,
  });
  assert.equal((await resilientFetch(server.url)).status, 200);
  assert.deepEqual(time.sleepsNs, [50e6]);
});

test('resolves with the last Response when retries run out', async (t) => {
  const server = await startFlakyServer([
    { status: 503, body: 'first' },
    { status: 502, body: 'second' },
    { status: 504, body: 'last' },
  ]);
  t.after(server.close);
  const time = new VirtualTime();
  const resilientFetch = withRetry(fetch, { maxAttempts: 3, sleep: time.sleep });
  const response = await resilientFetch(server.url);
  assert.equal(response.status, 504);
  assert.equal(await response.text(), 'last');
  assert.equal(server.requests.length, 3);
});

test('a status outside retryableStatusCodes is returned at once', async (t) => {
  const server = await startFlakyServer([{ status: 404 }]);
  t.after(server.close);
  const resilientFetch = withRetry(fetch, { retryableStatusCodes: [503] });
  assert.equal((await resilientFetch(server.url)).status, 404);
  assert.equal(server.requests.length, 1);
});

test('network errors are retried; the last one is rejected unchanged', async (t) => {
  const server = await startFlakyServer([]);
  const url = server.url;
  await server.close(); // nothing listens there now: connection refused
  const time = new VirtualTime();
  const errors = [];
  const resilientFetch = withRetry(
    async (...args) => {
      try {
        return await fetch(...args);
      } catch (e) {
        errors.push(e);
        throw e;
      }
    },
    { maxAttempts: 3, sleep: time.sleep },
  );
  await assert.rejects(resilientFetch(url), (e) => e === errors[2] && e instanceof TypeError);
  assert.equal(errors.length, 3);
  assert.equal(time.sleepsNs.length, 2);
  t.diagnostic(`network error: ${errors[0].cause?.code ?? errors[0].message}`);
});

test('the request signal aborts the retry loop with its reason', async (t) => {
  const server = await startFlakyServer([{ status: 503 }, { status: 503 }]);
  t.after(server.close);
  const controller = new AbortController();
  const resilientFetch = withRetry(fetch, {
    sleep: () => {
      controller.abort(new Error('gave up waiting'));
      return new Promise(() => {});
    },
  });
  await assert.rejects(resilientFetch(server.url, { signal: controller.signal }), (e) => e === controller.signal.reason);
  assert.equal(server.requests.length, 1);
});

test("the default statuses are core's DEFAULT_RETRYABLE_STATUS_CODES, as in every language", () => {
  const core = readFileSync(new URL('../../core/src/policy.rs', import.meta.url), 'utf8');
  const declared = core.match(/pub const DEFAULT_RETRYABLE_STATUS_CODES: \[u16; \d+\] = \[([\d, ]+)\];/);
  assert.ok(declared, 'core declares DEFAULT_RETRYABLE_STATUS_CODES');
  const expected = declared[1].split(',').map(Number);
  assert.deepEqual(expected, [500, 502, 503, 504]);
  assert.deepEqual(Array.from(raw.default_retryable_status_codes()), expected, 'the wasm export is core\'s list');
});

test('by default exactly the core statuses are retried: not 408 or 429 (opt-in), not other statuses', async () => {
  const expected = Array.from(raw.default_retryable_status_codes());
  const retried = [];
  for (let status = 100; status <= 599; status += 1) {
    const time = new VirtualTime();
    let calls = 0;
    const resilientFetch = withRetry(
      async () => {
        calls += 1;
        return { status: calls === 1 ? status : 200, headers: new Headers() };
      },
      { sleep: time.sleep },
    );
    await resilientFetch('http://unused.invalid/');
    if (calls > 1) retried.push(status);
  }
  assert.deepEqual(retried, expected);
});

test('a real server: 500 and 502 are retried by default, 429 is returned at once', async (t) => {
  const server = await startFlakyServer([{ status: 500 }, { status: 502 }, { status: 429 }]);
  t.after(server.close);
  const time = new VirtualTime();
  const resilientFetch = withRetry(fetch, { maxAttempts: 5, sleep: time.sleep });
  assert.equal((await resilientFetch(server.url)).status, 429);
  assert.equal(server.requests.length, 3);
});

test('a resolved value without an integer status is a success, not a retry', async () => {
  for (const value of [undefined, null, 'text', { status: '503' }]) {
    let calls = 0;
    const resilientFetch = withRetry(async () => {
      calls += 1;
      return value;
    });
    assert.equal(await resilientFetch('http://unused.invalid/'), value);
    assert.equal(calls, 1);
  }
});

