// Operations that are not functions are a TypeError at once, naming the
// parameter: wrappers throw when they wrap; execute() rejects before any
// state changes — nothing is retried or slept on, no failure is counted, no
// breaker trial or bulkhead slot is taken.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  circuitBreaker,
  fallback,
  FallbackChain,
  retry,
  RetryExecutor,
  RetryPolicy,
  withRetry,
} from 'resilience-wasm';
import { deferred, flush } from './helpers/virtual-time.mjs';

const NOT_FUNCTIONS = [
  [42, 'number'],
  [null, 'null'],
  [undefined, 'undefined'],
  ['fetch', 'string'],
  [{ then() {} }, 'object'],
  [[() => 1], 'an array'],
  [Promise.resolve(1), 'object'],
];

/** Asserts `error` is the TypeError for `parameter` of `where` given a value of `kind`. */
function isOperationError(where, parameter, kind) {
  return (error) => {
    assert.ok(error instanceof TypeError, `a TypeError, got ${error}`);
    assert.equal(error.message, `${where}: ${parameter} must be a function, got ${kind}`);
    return true;
  };
}

test('wrappers throw at wrap time for a non-function operation', () => {
  for (const [value, kind] of NOT_FUNCTIONS) {
    assert.throws(() => retry(value, { maxAttempts: 5 }), isOperationError('retry', 'fn', kind));
    assert.throws(() => circuitBreaker(value), isOperationError('circuitBreaker', 'fn', kind));
    assert.throws(() => fallback(value, () => 1), isOperationError('fallback', 'fn', kind));
    assert.throws(() => fallback(() => 1, () => 2, value), isOperationError('fallback', 'fallbacks[1]', kind));
    assert.throws(() => withRetry(value), isOperationError('withRetry', 'fetch', kind));
    assert.throws(() => new FallbackChain([() => 1, value]), isOperationError('FallbackChain', 'fallbacks[1]', kind));
  }
  assert.throws(
    () => new FallbackChain('not a list'),
    (e) => e instanceof TypeError && e.message === 'FallbackChain: fallbacks must be an array of functions, got string',
  );
});

test('RetryExecutor.execute rejects a non-function at once: no attempt, no sleep, no callback', async () => {
  const events = [];
  const policy = new RetryPolicy({ maxAttempts: 5 });
  for (const signal of [undefined, new AbortController().signal]) {
    const executor = new RetryExecutor(policy, {
      signal,
      sleep: async (ms) => events.push(`sleep ${ms}`),
      onRetry: () => events.push('onRetry'),
      onGiveUp: () => events.push('onGiveUp'),
    });
    for (const [value, kind] of NOT_FUNCTIONS) {
      const run = executor.execute(value);
      assert.ok(run instanceof Promise, 'execute always answers with a promise');
      await assert.rejects(run, isOperationError('RetryExecutor.execute', 'fn', kind));
    }
  }
  assert.deepEqual(events, []);
});

test('retry() wrappers never reach the executor with a bad operation', async () => {
  // The wrapper is never built, so no call can start the retry loop.
  let slept = 0;
  const sleep = async () => {
    slept += 1;
  };
  assert.throws(() => retry(42, { sleep }), TypeError);
  assert.equal(slept, 0);
});

test('CircuitBreaker.execute rejects a non-function without counting it or taking a trial', async () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 100, clock: () => now });
  for (const [value, kind] of NOT_FUNCTIONS) {
    await assert.rejects(breaker.execute(value), isOperationError('CircuitBreaker.execute', 'fn', kind));
  }
  assert.equal(breaker.failureCount, 0);
  assert.equal(breaker.state, 'closed');

  // Open, then half-open: a bad operation is still a TypeError (not a
  // BrokenCircuitError) and does not use the one trial slot.
  await assert.rejects(breaker.execute(() => Promise.reject(new Error('down'))));
  assert.equal(breaker.state, 'open');
  await assert.rejects(breaker.execute(42), TypeError);
  now = 100;
  assert.equal(breaker.state, 'half_open');
  await assert.rejects(breaker.execute(42), TypeError);
  assert.equal(await breaker.execute(async () => 'trial'), 'trial', 'the trial slot was still free');
  assert.equal(breaker.state, 'closed');
});

test('circuitBreaker() over a non-function never opens a breaker', () => {
  assert.throws(() => circuitBreaker(42, { failureThreshold: 1 }), TypeError);
});

test('Bulkhead.execute rejects a non-function without taking a slot or a place in the queue', async () => {
  const timers = [];
  // A waiter's timeout that never fires by itself; it ends when the slot arrives (abort).
  const sleep = (ms, signal) => {
    timers.push(ms);
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  };
  const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueueSize: 1, sleep });
  for (const [value, kind] of NOT_FUNCTIONS) {
    await assert.rejects(bulkhead.execute(value), isOperationError('Bulkhead.execute', 'fn', kind));
  }
  assert.deepEqual([bulkhead.active, bulkhead.queued], [0, 0]);

  // Full (one running, one queued): still the TypeError, not a rejection for a full queue.
  const hold = deferred();
  const running = bulkhead.execute(() => hold.promise);
  const queued = bulkhead.execute(async () => 'queued');
  await flush();
  assert.deepEqual([bulkhead.active, bulkhead.queued], [1, 1]);
  await assert.rejects(bulkhead.execute(42), (e) => e instanceof TypeError && !(e instanceof BulkheadRejectedError));
  assert.deepEqual([bulkhead.active, bulkhead.queued], [1, 1]);
  assert.deepEqual(timers, [30000], 'only the real waiter started a timeout');
  hold.resolve('done');
  assert.deepEqual(await Promise.all([running, queued]), ['done', 'queued']);
  assert.deepEqual([bulkhead.active, bulkhead.queued], [0, 0]);
});

test('FallbackChain.execute rejects a non-function primary without calling a fallback', async () => {
  let fellBack = 0;
  const chain = new FallbackChain([() => (fellBack += 1)]);
  for (const [value, kind] of NOT_FUNCTIONS) {
    await assert.rejects(chain.execute(value, 'arg'), isOperationError('FallbackChain.execute', 'primary', kind));
  }
  assert.equal(fellBack, 0);
});
