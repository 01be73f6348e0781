// FallbackChain, fallback(), Bulkhead: order, arguments, which error
// surfaces (the same object), slots, the FIFO queue and its timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Bulkhead, BulkheadRejectedError, ConfigError, fallback, FallbackChain } from 'resilience-wasm';
import { deferred, flush, track } from './helpers/virtual-time.mjs';
import { withFakeTimers } from './helpers/fake-timers.mjs';

test('fallbacks run in order with the same arguments; the first success wins', async () => {
  const calls = [];
  const chain = new FallbackChain([
    async (...args) => {
      calls.push(['cache', ...args]);
      throw new Error('cache miss');
    },
    (...args) => {
      calls.push(['default', ...args]);
      return 'default';
    },
  ]);
  const answer = await chain.execute(async (...args) => {
    calls.push(['primary', ...args]);
    throw new Error('down');
  }, 'id', 7);
  assert.equal(answer, 'default');
  assert.deepEqual(calls, [
    ['primary', 'id', 7],
    ['cache', 'id', 7],
    ['default', 'id', 7],
  ]);
});

test('all failing: the last fallback error surfaces; no fallbacks: the primary error', async () => {
  const last = new Error('last');
  const primaryError = new Error('primary');
  const chain = new FallbackChain([() => Promise.reject(new Error('first')), () => Promise.reject(last)]);
  await assert.rejects(chain.execute(() => Promise.reject(primaryError)), (e) => e === last);
  await assert.rejects(new FallbackChain([]).execute(() => Promise.reject(primaryError)), (e) => e === primaryError);
});

test('an unexpected primary error skips the fallbacks', async () => {
  let fellBack = false;
  const chain = new FallbackChain(
    [
      () => {
        fellBack = true;
      },
    ],
    { isExpected: [TypeError] },
  );
  const fatal = new RangeError('fatal');
  await assert.rejects(chain.execute(() => Promise.reject(fatal)), (e) => e === fatal);
  assert.equal(fellBack, false);
  assert.equal(await chain.execute(() => Promise.reject(new TypeError('net'))), undefined);
  assert.equal(fellBack, true);
});

test('isExpected: a bare error class filters like an array of one', async () => {
  const chain = new FallbackChain([async () => 'fallback'], { isExpected: TypeError });
  const fatal = new RangeError('fatal');
  await assert.rejects(chain.execute(() => Promise.reject(fatal)), (e) => e === fatal);
  assert.equal(await chain.execute(() => Promise.reject(new TypeError('net'))), 'fallback');
});

test('fallback() wraps a function', async () => {
  const getName = fallback(
    async (id) => {
      throw new Error(`no ${id}`);
    },
    (id) => `guest-${id}`,
  );
  assert.equal(await getName(3), 'guest-3');
});

test('bulkhead: slots, FIFO queue, queue full, and the slot handed to the next waiter', async () => {
  const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueueSize: 2 });
  const order = [];
  const first = deferred();
  const a = track(bulkhead.execute(() => first.promise));
  const b = track(bulkhead.execute(async () => order.push('b')));
  const c = track(bulkhead.execute(async () => order.push('c')));
  const d = track(bulkhead.execute(async () => order.push('d')));
  await flush();
  assert.deepEqual([bulkhead.active, bulkhead.queued], [1, 2]);
  assert.ok(d.error instanceof BulkheadRejectedError);
  assert.equal(d.error.name, 'BulkheadRejectedError');
  assert.equal(d.error.reason, 'queue_full');
  first.resolve('a');
  await Promise.all([a.done, b.done, c.done]);
  assert.equal(a.value, 'a');
  assert.deepEqual(order, ['b', 'c']);
  assert.deepEqual([bulkhead.active, bulkhead.queued], [0, 0]);
});

test('bulkhead: a user error releases the slot and surfaces unchanged', async () => {
  const bulkhead = new Bulkhead({ maxConcurrent: 1 });
  const boom = new Error('boom');
  await assert.rejects(bulkhead.execute(() => Promise.reject(boom)), (e) => e === boom);
  assert.equal(bulkhead.active, 0);
});

test('bulkhead: a waiter times out through setTimeout; a granted waiter cancels its timer', async () => {
  await withFakeTimers(async (timers) => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueueSize: 5, timeoutMs: 250 });
    const hold = deferred();
    const a = track(bulkhead.execute(() => hold.promise));
    const b = track(bulkhead.execute(() => 'b'));
    await flush();
    await flush();
    assert.deepEqual(timers.delays, [250]);
    assert.ok(b.error instanceof BulkheadRejectedError);
    assert.equal(b.error.reason, 'timeout');
    assert.equal(bulkhead.queued, 0);
    // A waiter that gets the slot in time: its timer is cleared.
    const c = track(bulkhead.execute(() => 'c'));
    hold.resolve('a');
    await Promise.all([a.done, c.done]);
    assert.equal(c.value, 'c');
    assert.equal(timers.cleared, 1);
    assert.equal(timers.pending.size, 0);
    assert.deepEqual([bulkhead.active, bulkhead.queued], [0, 0]);
  });
});

test('bulkhead: bad options are ConfigErrors', () => {
  for (const [options, parameter] of [
    [{ maxConcurrent: 0 }, 'maxConcurrent'],
    [{ maxQueueSize: -1 }, 'maxQueueSize'],
    [{ timeoutMs: Number.NEGATIVE_INFINITY }, 'timeoutMs'],
  ]) {
    assert.throws(() => new Bulkhead(options), (e) => e instanceof ConfigError && e.parameter === parameter);
  }
});
