// Edges of the public API that the topic suites do not reach: synchronous
// throws, read-back getters, a default pushed out of range by another
// option, an option that throws when read, a throwing onGiveUp, a bad
// signal, a body that refuses to cancel.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CircuitBreaker, ConfigError, FallbackChain, RetryExecutor, RetryPolicy, withRetry } from 'resilience-wasm';

test('an operation that throws synchronously is a counted breaker failure, rejected unchanged', async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  const boom = new Error('sync boom');
  const call = breaker.execute(() => {
    throw boom;
  });
  assert.ok(call instanceof Promise, 'a promise, never a synchronous throw');
  await assert.rejects(call, (e) => e === boom);
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.failureCount, 1);
});

test('a fallback that throws synchronously hands over to the next one', async () => {
  const chain = new FallbackChain([
    () => {
      throw new Error('sync miss');
    },
    (id) => `fallback ${id}`,
  ]);
  assert.equal(await chain.execute(() => Promise.reject(new Error('down')), 7), 'fallback 7');
});

test('a chain reports its fallbacks in order, as a copy', () => {
  const a = () => 'a';
  const b = () => 'b';
  const chain = new FallbackChain([a, b]);
  const listed = chain.fallbacks;
  assert.deepEqual(listed, [a, b]);
  listed.pop();
  assert.deepEqual(chain.fallbacks, [a, b]);
});

test('a policy reports its seed', () => {
  assert.equal(new RetryPolicy({ seed: 42 }).seed, 42);
  assert.equal(new RetryPolicy().seed, undefined);
});

test('a default pushed out of range by another option is reported in option names', () => {
  // baseDelayMs above the default maxDelayMs (60 s): the error is about maxDelayMs, which was not given.
  assert.throws(
    () => new RetryPolicy({ baseDelayMs: 120_000 }),
    (e) => e instanceof ConfigError && e.parameter === 'maxDelayMs' && !/_/.test(e.requirement) && !/_/.test(e.message),
  );
});

test('an error thrown while reading an option passes through unchanged', () => {
  // Reading an option runs the user's getter: its exception is not ours to replace.
  const mine = new RangeError('not a backoff');
  const options = {
    get backoff() {
      throw mine;
    },
  };
  assert.throws(() => new RetryPolicy(options), (e) => e === mine);
  const nested = {
    failureRate: {
      ratio: 0.5,
      get minimumThroughput() {
        throw mine;
      },
    },
  };
  assert.throws(() => new CircuitBreaker(nested), (e) => e === mine);
});

test('an option is a value core judges: its toString is never called', () => {
  // Options go to core as values (src/value.rs calls no user code): an object
  // is not a backoff name, whatever its toString would say.
  let called = 0;
  const backoff = {
    toString() {
      called += 1;
      return 'fixed';
    },
  };
  assert.throws(
    () => new RetryPolicy({ backoff }),
    (e) => e instanceof ConfigError && e.kind === 'wrong_type' && e.parameter === 'backoff',
  );
  assert.equal(called, 0);
});

test('an onGiveUp that throws is reported and does not replace the error', async (t) => {
  const warned = t.mock.method(console, 'warn', () => {});
  const down = new Error('down');
  const executor = new RetryExecutor(new RetryPolicy({ maxAttempts: 1 }), {
    onGiveUp: () => {
      throw new Error('listener bug');
    },
  });
  await assert.rejects(executor.execute(() => Promise.reject(down)), (e) => e === down);
  assert.equal(warned.mock.callCount(), 1);
  assert.match(String(warned.mock.calls[0].arguments[0]), /onGiveUp threw/);
});

test('a signal option that is not an AbortSignal is a ConfigError naming it', () => {
  assert.throws(
    () => new RetryExecutor(new RetryPolicy(), { signal: { aborted: false } }),
    (e) => e instanceof ConfigError && e.parameter === 'signal',
  );
});

test('a retried response whose body refuses to cancel is still retried', async () => {
  let calls = 0;
  const fetchFn = async () => {
    calls += 1;
    if (calls === 1) {
      return {
        status: 503,
        headers: new Headers(),
        body: {
          cancel() {
            throw new TypeError('body is locked');
          },
        },
      };
    }
    return new Response('ok', { status: 200 });
  };
  const resilientFetch = withRetry(fetchFn, { baseDelayMs: 0 });
  const response = await resilientFetch('https://api.example.test/');
  assert.equal(response.status, 200);
  assert.equal(calls, 2);
});
