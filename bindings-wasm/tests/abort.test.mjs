// AbortSignal: prompt rejection with signal.reason, the pending timer
// cleared, every listener removed; no growth over 10 000 executions.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';

import { RetryExecutor, RetryPolicy, withRetry } from 'resilience-wasm';
import { withFakeTimers } from './helpers/fake-timers.mjs';
import { deferred, flush, track } from './helpers/virtual-time.mjs';

const listeners = (signal) => getEventListeners(signal, 'abort').length;

test('aborting during a backoff wait rejects at once with signal.reason and clears the timer', async () => {
  await withFakeTimers(async (timers) => {
    // Fake timers fire on the next macrotask; hold the wait open with a
    // delay the fake never reaches by aborting synchronously after it starts.
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    let calls = 0;
    const executor = new RetryExecutor(new RetryPolicy({ baseDelayMs: 60000 }), { signal: controller.signal });
    const run = track(
      executor.execute(async () => {
        calls += 1;
        throw new Error('down');
      }),
    );
    // Let the first attempt fail and the wait begin (microtasks only).
    for (let i = 0; i < 10 && timers.delays.length === 0; i += 1) await Promise.resolve();
    assert.equal(timers.delays.length, 1, 'a backoff timer is pending');
    assert.equal(listeners(controller.signal), 1);
    controller.abort(reason);
    await run.done;
    assert.equal(run.error, reason, 'rejects with signal.reason, the same object');
    assert.equal(timers.cleared, 1, 'the pending timer was cleared');
    assert.equal(timers.pending.size, 0);
    assert.equal(listeners(controller.signal), 0, 'its listener was removed');
    assert.equal(calls, 1, 'no attempt after the abort');
  });
});

test('aborting while the operation runs rejects promptly; its late result is absorbed', async () => {
  const controller = new AbortController();
  const op = deferred();
  const executor = new RetryExecutor(new RetryPolicy(), { signal: controller.signal });
  const run = track(executor.execute(() => op.promise));
  await flush();
  assert.equal(listeners(controller.signal), 1);
  controller.abort();
  await run.done;
  assert.equal(run.error, controller.signal.reason);
  assert.equal(run.error.name, 'AbortError');
  assert.equal(listeners(controller.signal), 0);
  op.reject(new Error('late failure')); // must not surface as an unhandled rejection
  await flush();
});

test('an already-aborted signal rejects without calling the operation', async () => {
  const controller = new AbortController();
  controller.abort('stop');
  let called = false;
  const executor = new RetryExecutor(new RetryPolicy(), { signal: controller.signal });
  await assert.rejects(
    executor.execute(() => {
      called = true;
    }),
    (e) => e === 'stop',
  );
  assert.equal(called, false);
});

test('an AbortError from the operation is never retried', async () => {
  let calls = 0;
  const abortError = new DOMException('aborted', 'AbortError');
  const executor = new RetryExecutor(new RetryPolicy(), { sleep: async () => {} });
  await assert.rejects(
    executor.execute(async () => {
      calls += 1;
      throw abortError;
    }),
    (e) => e === abortError,
  );
  assert.equal(calls, 1);
});

test('an injected sleep that ignores the signal is still abandoned at once', async () => {
  const controller = new AbortController();
  const never = new Promise(() => {});
  const executor = new RetryExecutor(new RetryPolicy(), { signal: controller.signal, sleep: () => never });
  const run = track(executor.execute(async () => Promise.reject(new Error('down'))));
  await flush();
  controller.abort();
  await run.done;
  assert.equal(run.error, controller.signal.reason);
  assert.equal(listeners(controller.signal), 0);
});

test('10 000 executions on one signal: listeners and timers do not grow', async () => {
  await withFakeTimers(async (timers) => {
    const controller = new AbortController();
    const signal = controller.signal;
    const executor = new RetryExecutor(new RetryPolicy({ baseDelayMs: 1, maxAttempts: 2 }), { signal });
    const fetchLike = withRetry(async () => ({ status: 200 }), { signal });
    for (let i = 0; i < 10_000; i += 1) {
      let calls = 0;
      const value = await executor.execute(async () => {
        calls += 1;
        if (calls === 1) throw new Error('first attempt fails');
        return calls;
      });
      assert.equal(value, 2);
      assert.equal((await fetchLike('http://unused.invalid/')).status, 200);
      if (i % 1000 === 0) assert.equal(listeners(signal), 0, `after ${i + 1} executions`);
    }
    assert.equal(listeners(signal), 0);
    assert.equal(timers.delays.length, 10_000, 'one backoff timer per execution');
    assert.equal(timers.pending.size, 0, 'none left pending');
  });
});
