// Error filters (retryableErrors, isFailure, isExpected): what is accepted
// is checked when the strategy is built; a filter that throws at call time
// never replaces the user's error — its exception is reported through
// console.warn and it answers per option: not retryable, counted, not expected.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CircuitBreaker, circuitBreaker, ConfigError, FallbackChain, retry, RetryExecutor, RetryPolicy } from 'resilience-wasm';
import { VirtualTime } from './helpers/virtual-time.mjs';

const BUILDERS = {
  retryableErrors: (filter) => new RetryPolicy({ retryableErrors: filter }),
  isFailure: (filter) => new CircuitBreaker({ isFailure: filter }),
  isExpected: (filter) => new FallbackChain([], { isExpected: filter }),
};

test('each filter accepts a predicate, an error class, or an array of error classes', () => {
  function LegacyError() {}
  for (const [option, build] of Object.entries(BUILDERS)) {
    for (const filter of [(e) => e instanceof TypeError, TypeError, class Custom extends Error {}, [TypeError, LegacyError], []]) {
      assert.doesNotThrow(() => build(filter), `${option}: ${String(filter).slice(0, 30)}`);
    }
  }
});

test('anything else is a ConfigError naming the option, at construction', () => {
  const bad = ['TypeError', 42, true, null, {}, [TypeError, 'RangeError'], [(e) => true], Symbol('x')];
  for (const [option, build] of Object.entries(BUILDERS)) {
    for (const filter of bad) {
      assert.throws(
        () => build(filter),
        (e) =>
          e instanceof ConfigError &&
          e.parameter === option &&
          e.message.startsWith(`invalid ${option}: must be a predicate (error) => boolean, an error class or an array of error classes, got `),
        `${option}: ${String(filter)}`,
      );
    }
  }
  // The wrappers build the same strategies.
  assert.throws(() => retry(async () => 1, { retryableErrors: 'TypeError' }), (e) => e instanceof ConfigError && e.parameter === 'retryableErrors');
  assert.throws(() => circuitBreaker(async () => 1, { isFailure: 42 }), (e) => e instanceof ConfigError && e.parameter === 'isFailure');
});

const predicateBug = new Error('predicate bug');
const throwing = () => {
  throw predicateBug;
};
/** An error class whose `instanceof` check throws (a hostile Symbol.hasInstance). */
class Hostile extends Error {
  static [Symbol.hasInstance]() {
    throw predicateBug;
  }
}

/** Asserts one console.warn naming `option`, carrying the predicate's exception. */
function assertReported(warn, option) {
  assert.equal(warn.mock.callCount(), 1, 'reported once');
  const args = warn.mock.calls[0].arguments;
  assert.match(args[0], new RegExp(`^resilience-wasm: ${option} threw; `));
  assert.equal(args.at(-1), predicateBug);
}

test('retryableErrors that throws: not retryable; the user error surfaces at once, unchanged', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  for (const filter of [throwing, Hostile, [Hostile]]) {
    warn.mock.resetCalls();
    const time = new VirtualTime();
    const gaveUp = [];
    const executor = new RetryExecutor(new RetryPolicy({ maxAttempts: 5, retryableErrors: filter }), {
      sleep: time.sleep,
      onGiveUp: (attempts, reason, error) => gaveUp.push([attempts, reason, error]),
    });
    const userError = new Error('down');
    let calls = 0;
    await assert.rejects(
      executor.execute(() => {
        calls += 1;
        return Promise.reject(userError);
      }),
      (e) => e === userError,
    );
    assert.equal(calls, 1, 'not retried');
    assert.deepEqual(time.sleepsNs, [], 'never slept');
    assert.deepEqual(gaveUp, [[1, 'not_retryable', userError]]);
    assertReported(warn, 'retryableErrors');
  }
});

test('retryableErrors that throws: the policy queries answer false', (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const policy = new RetryPolicy({ retryableErrors: throwing });
  assert.equal(policy.isRetryable(new Error('x')), false);
  assertReported(warn, 'retryableErrors');
  warn.mock.resetCalls();
  assert.equal(policy.shouldRetry(new Error('x'), 1), false);
  assertReported(warn, 'retryableErrors');
});

test('isFailure that throws: counted as a failure; the user error surfaces unchanged', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  for (const filter of [throwing, Hostile]) {
    warn.mock.resetCalls();
    const breaker = new CircuitBreaker({ failureThreshold: 2, isFailure: filter });
    const userError = new Error('down');
    await assert.rejects(breaker.execute(() => Promise.reject(userError)), (e) => e === userError);
    assert.equal(breaker.failureCount, 1, 'counted');
    assertReported(warn, 'isFailure');
    // A synchronous throw of the operation takes the same path.
    await assert.rejects(
      breaker.execute(() => {
        throw userError;
      }),
      (e) => e === userError,
    );
    assert.equal(breaker.state, 'open');
  }
});

test('isExpected that throws: not expected, no fallback runs; the primary error surfaces unchanged', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  for (const filter of [throwing, Hostile]) {
    warn.mock.resetCalls();
    let fellBack = 0;
    const chain = new FallbackChain([() => (fellBack += 1)], { isExpected: filter });
    const primaryError = new Error('primary down');
    await assert.rejects(chain.execute(() => Promise.reject(primaryError)), (e) => e === primaryError);
    assert.equal(fellBack, 0);
    assertReported(warn, 'isExpected');
  }
});

test('a filter that does not throw is not reported', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const breaker = new CircuitBreaker({ isFailure: TypeError });
  await assert.rejects(breaker.execute(() => Promise.reject(new RangeError('uncounted'))));
  assert.equal(breaker.failureCount, 0);
  assert.equal(warn.mock.callCount(), 0);
});
