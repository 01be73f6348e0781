// An operation that throws at once (not a rejected promise) through every
// entry point: it reaches the fallback, the retry or the breaker as the same
// object with its stack untouched, every entry point still answers with a
// promise, and no rejection is ever reported as unhandled on the way
// (issue 13: the sync throw no longer goes through Promise.reject).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import {
  BrokenCircuitError,
  CircuitBreaker,
  FallbackChain,
  RetryExecutor,
  RetryPolicy,
  Timeout,
  circuitBreaker,
  fallback,
  pipeline,
  retry,
} from 'resilience-wasm';

/** Runs `body`, then lets every microtask and one macrotask run: the unhandled rejections Node reported meanwhile. */
async function unhandledDuring(body) {
  const seen = [];
  const listener = (reason) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

function thrower(error) {
  return (...args) => {
    thrower.lastArgs = args;
    throw error;
  };
}

test('a primary that throws at once reaches the fallback with the same arguments, and its error object is the one judged', async () => {
  const error = new Error('primary down');
  const stack = error.stack;
  const judged = [];
  const chain = new FallbackChain([(a, b) => `fallback ${a}${b}`], {
    isExpected: (e) => {
      judged.push(e);
      return true;
    },
  });
  const seen = await unhandledDuring(async () => {
    const answer = chain.execute(thrower(error), 'x', 'y');
    assert.ok(answer instanceof Promise);
    assert.equal(await answer, 'fallback xy');
  });
  assert.deepEqual(thrower.lastArgs, ['x', 'y']);
  assert.equal(judged.length, 1);
  assert.equal(judged[0], error);
  assert.equal(error.stack, stack);
  assert.deepEqual(seen, []);
});

test('every fallback throwing at once: the promise rejects with the last one, the same object', async () => {
  const last = new Error('last fallback down');
  const chain = new FallbackChain([thrower(new Error('first fallback down')), thrower(last)]);
  const seen = await unhandledDuring(async () => {
    await assert.rejects(chain.execute(thrower(new Error('primary'))), (e) => e === last);
    await assert.rejects(fallback(thrower(new Error('primary')), thrower(last))(), (e) => e === last);
  });
  assert.deepEqual(seen, []);
});

test('an unexpected error thrown at once is rejected as it is, no fallback called', async () => {
  const error = new TypeError('not expected');
  let called = false;
  const chain = new FallbackChain([() => (called = true)], { isExpected: () => false });
  const seen = await unhandledDuring(() => assert.rejects(chain.execute(thrower(error)), (e) => e === error));
  assert.equal(called, false);
  assert.deepEqual(seen, []);
});

test('fallback(fn, ...) and a pipeline with a fallback take a synchronous throw to the fallback', async () => {
  const error = new Error('down');
  const seen = await unhandledDuring(async () => {
    assert.equal(await fallback(thrower(error), () => 'wrapped')(), 'wrapped');
    const p = pipeline(new FallbackChain([() => 'piped']));
    assert.equal(await p.execute(thrower(error)), 'piped');
    // Through every layer between the fallback and the operation.
    const full = pipeline(
      new FallbackChain([() => 'after retries']),
      new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }),
      new CircuitBreaker({ failureThreshold: 100 }),
      new Timeout({ timeoutMs: 60000, scope: 'attempt' }),
    );
    let calls = 0;
    assert.equal(
      await full.execute(() => {
        calls += 1;
        throw error;
      }),
      'after retries',
    );
    assert.equal(calls, 2);
  });
  assert.deepEqual(seen, []);
  // The attempt timeout's timer never started (the operation answered at once).
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, 0);
});

test('a pipeline with no fallback rejects with the thrown object, and a plain value still comes back as a promise', async () => {
  const error = new Error('down');
  const p = pipeline(new RetryPolicy({ maxAttempts: 3, baseDelayMs: 0 }), new CircuitBreaker({ failureThreshold: 100 }));
  const seen = await unhandledDuring(async () => {
    await assert.rejects(p.execute(thrower(error)), (e) => e === error);
    const answer = p.execute(() => 7);
    assert.ok(answer instanceof Promise);
    assert.equal(await answer, 7);
  });
  assert.deepEqual(seen, []);
});

test('retry(fn) and circuitBreaker(fn) wrappers and their executors: a synchronous throw is the same object, never unhandled', async () => {
  const error = new Error('down');
  let calls = 0;
  const flaky = () => {
    calls += 1;
    if (calls < 3) throw error;
    return 'third time';
  };
  const seen = await unhandledDuring(async () => {
    assert.equal(await retry(flaky, { maxAttempts: 3, baseDelayMs: 0 })(), 'third time');
    const executor = new RetryExecutor(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }));
    await assert.rejects(executor.execute(thrower(error)), (e) => e === error);
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    await assert.rejects(breaker.execute(thrower(error)), (e) => e === error);
    await assert.rejects(circuitBreaker(thrower(error), { failureThreshold: 1 })(), (e) => e === error);
    await assert.rejects(breaker.execute(thrower(error)), (e) => e === error);
    assert.equal(breaker.state, 'open');
    await assert.rejects(breaker.execute(() => 1), BrokenCircuitError);
  });
  assert.deepEqual(seen, []);
});

test('a rejection nobody handles is still reported as unhandled, with the same object', () => {
  // In a child process: the test runner fails any test with an unhandled rejection.
  const script = `
    import { BrokenCircuitError, CircuitBreaker } from 'resilience-wasm';
    const error = new Error('nobody listens');
    const seen = [];
    process.on('unhandledRejection', (reason) => seen.push(reason));
    new CircuitBreaker().execute(() => { throw error; });
    const open = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 60000 });
    await open.execute(() => { throw new Error('opens it'); }).catch(() => {});
    open.execute(() => 1);
    setImmediate(() => console.log(JSON.stringify([seen.length, seen[0] === error, seen[1] instanceof BrokenCircuitError])));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out), [2, true, true]);
});

test("an open breaker's BrokenCircuitError: its class, reason and message, no frames, and Error.stackTraceLimit left as it was", async () => {
  const limit = Error.stackTraceLimit;
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 60000 });
  await breaker.execute(thrower(new Error('opens it'))).catch(() => {});
  const error = await breaker.execute(() => 1).catch((e) => e);
  assert.ok(error instanceof BrokenCircuitError);
  assert.ok(error instanceof Error);
  assert.equal(error.reason, 'open');
  assert.match(error.message, /^circuit breaker is open \(retry after \d+ ms\)$/);
  assert.equal(error.stack.split('\n')[0], `BrokenCircuitError: ${error.message}`);
  assert.equal(Error.stackTraceLimit, limit);
  // The user's own errors keep their frames.
  assert.ok(new Error('mine').stack.split('\n').length > 1);
});
