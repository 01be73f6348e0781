// ConfigError messages: every option of every constructor, given hostile
// values, fails with a ConfigError whose message is short and speaks
// milliseconds only (core renders some bounds in seconds; the glue converts).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Bulkhead, CircuitBreaker, ConfigError, FallbackChain, RetryExecutor, RetryPolicy, withRetry } from 'resilience-wasm';

/** Far more than any message needs; a value printed in full would exceed it. */
const MAX_MESSAGE = 200;
/** A duration in seconds (or Rust's Debug units) anywhere in a message. */
const NOT_MS = /\d ?(?:s|µs|ns|secs?|seconds?)(?![\wµ])/;

const HOSTILE = [
  1e300,
  -1e300,
  1e20,
  1e22,
  1e23,
  Number.MAX_VALUE,
  Number.POSITIVE_INFINITY,
  Number.NaN,
  -0.5,
  2n ** 1000n,
  -(2n ** 64n),
  'x'.repeat(10_000),
  Array.from({ length: 10_000 }, () => 1e300),
  Object.create(null),
  { toString: () => 'y'.repeat(10_000) },
  Symbol('s'),
  true,
  null,
];

const CONSTRUCTORS = {
  RetryPolicy: [(o) => new RetryPolicy(o), ['maxAttempts', 'backoff', 'baseDelayMs', 'maxDelayMs', 'jitter', 'retryableStatusCodes', 'seed', 'retryableErrors']],
  CircuitBreaker: [(o) => new CircuitBreaker(o), ['failureThreshold', 'recoveryTimeoutMs', 'halfOpenMaxCalls', 'isFailure', 'clock']],
  Bulkhead: [(o) => new Bulkhead(o), ['maxConcurrent', 'maxQueueSize', 'timeoutMs', 'sleep']],
  RetryExecutor: [(o) => new RetryExecutor(new RetryPolicy(), o), ['onRetry', 'onGiveUp', 'signal', 'sleep', 'clock']],
  FallbackChain: [(o) => new FallbackChain([], o), ['isExpected']],
  withRetry: [(o) => withRetry(fetch, o), ['maxAttempts', 'baseDelayMs', 'retryableStatusCodes', 'onRetry']],
};

/** Asserts `run` throws a short, milliseconds-only ConfigError naming `parameter`. */
function assertGoodConfigError(run, parameter, label) {
  let thrown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) return false; // accepted (e.g. 1e20 ms as a breaker timeout)
  assert.ok(thrown instanceof ConfigError, `${label}: a ConfigError, got ${thrown}`);
  assert.equal(thrown.parameter, parameter, label);
  assert.ok(thrown.message.length <= MAX_MESSAGE, `${label}: ${thrown.message.length} characters: ${thrown.message.slice(0, 300)}`);
  assert.doesNotMatch(thrown.message, NOT_MS, label);
  return true;
}

test('every option, given a hostile value, is a short ConfigError in milliseconds naming it', () => {
  let rejected = 0;
  for (const [name, [build, options]] of Object.entries(CONSTRUCTORS)) {
    for (const option of options) {
      for (const [i, value] of HOSTILE.entries()) {
        const label = `${name} ${option}: HOSTILE[${i}]`;
        if (assertGoodConfigError(() => build({ [option]: value }), option, label)) rejected += 1;
      }
    }
  }
  assert.ok(rejected > 400, `${rejected} rejections checked`);
});

test('policy methods: a hostile attempt is a short ConfigError', () => {
  const policy = new RetryPolicy();
  for (const [i, value] of HOSTILE.entries()) {
    for (const run of [() => policy.calculateDelayMs(value), () => policy.shouldRetry(new Error(), value), () => policy.shouldRetryResponse({ status: 503 }, value)]) {
      assert.ok(assertGoodConfigError(run, 'attempt', `HOSTILE[${i}]`));
    }
  }
});

test('the longest-delay bound is said in milliseconds', () => {
  for (const option of ['baseDelayMs', 'maxDelayMs']) {
    assert.throws(
      () => new RetryPolicy({ baseDelayMs: 0, [option]: 1e20, maxDelayMs: 1e20 }),
      (e) =>
        e instanceof ConfigError &&
        e.parameter === option &&
        e.requirement === 'at most 18446744073709.551615 ms (about 584 years)' &&
        e.message === `invalid ${option}: must be at most 18446744073709.551615 ms (about 584 years), got 100000000000000000000`,
    );
  }
});

test('huge and long values are cut, saying how long they were', () => {
  const cases = [
    [{ seed: 2n ** 1000n }, 'seed', /got 10715086071862673209484250490600018105\d*…n \(302 digits\)$/],
    [{ backoff: 'x'.repeat(10_000) }, 'backoff', /got "x+… \(10000 characters\)$/],
    [{ retryableStatusCodes: Array.from({ length: 10_000 }, (_, i) => 70_000 + i) }, 'retryableStatusCodes', /got \[70000, 70001, 70002, 70003, … \(10000 items\)\]$/],
    [{ maxAttempts: 1e300 }, 'maxAttempts', /got 1e\+300$/],
    [{ backoff: Object.create(null) }, 'backoff', /got \[object Object\]$/],
    [{ retryableErrors: [TypeError, function check() {}, 'x'] }, 'retryableErrors', /got \[function TypeError, function check, "x"\]$/],
  ];
  for (const [options, parameter, message] of cases) {
    assert.throws(() => new RetryPolicy(options), (e) => e instanceof ConfigError && e.parameter === parameter && message.test(e.message), parameter);
  }
});
