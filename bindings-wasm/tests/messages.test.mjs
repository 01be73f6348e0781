// ConfigError messages: every option of every constructor (nested breaker
// options included), given hostile values, fails with a ConfigError that
// carries core's kind, names the option as this API spells it, keeps the
// value given, and whose message — core's, rendered for JavaScript — is
// short and speaks milliseconds only.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Bulkhead, CircuitBreaker, ConfigError, FallbackChain, RetryExecutor, RetryPolicy, withRetry } from 'resilience-wasm';

/** Far more than any message needs; a value printed in full would exceed it. */
const MAX_MESSAGE = 200;
/** A duration in seconds (or Rust's Debug units) anywhere in a message. */
const NOT_MS = /\d ?(?:s|µs|ns|secs?|seconds?)(?![\wµ])/;
const KINDS = ['wrong_type', 'not_an_integer', 'not_a_number', 'too_small', 'too_large', 'unknown_name', 'below_other', 'requires_other'];

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

/** Every option path, and how to build with just that option set. */
const rate = (extra) => ({ failureRate: { ratio: 0.5, ...extra } });
const OPTIONS = [
  ...['maxAttempts', 'backoff', 'baseDelayMs', 'maxDelayMs', 'jitter', 'retryableStatusCodes', 'seed', 'retryableErrors'].map((o) => [
    'RetryPolicy',
    o,
    (v) => new RetryPolicy({ [o]: v }),
  ]),
  ...['failureThreshold', 'recoveryTimeoutMs', 'halfOpenMaxCalls', 'isFailure', 'clock', 'failureRate', 'slowCall', 'breakBackoff', 'initialState'].map(
    (o) => ['CircuitBreaker', o, (v) => new CircuitBreaker({ [o]: v })],
  ),
  ['CircuitBreaker', 'failureRate.ratio', (v) => new CircuitBreaker({ failureRate: { ratio: v } })],
  ['CircuitBreaker', 'failureRate.minimumThroughput', (v) => new CircuitBreaker(rate({ minimumThroughput: v }))],
  ['CircuitBreaker', 'failureRate.samplingDurationMs', (v) => new CircuitBreaker(rate({ samplingDurationMs: v }))],
  ['CircuitBreaker', 'failureRate.buckets', (v) => new CircuitBreaker(rate({ buckets: v }))],
  ['CircuitBreaker', 'failureRate.windowSize', (v) => new CircuitBreaker(rate({ windowSize: v }))],
  ['CircuitBreaker', 'slowCall.durationMs', (v) => new CircuitBreaker({ ...rate(), slowCall: { durationMs: v, ratio: 1 } })],
  ['CircuitBreaker', 'slowCall.ratio', (v) => new CircuitBreaker({ ...rate(), slowCall: { durationMs: 1, ratio: v } })],
  ['CircuitBreaker', 'breakBackoff.backoff', (v) => new CircuitBreaker({ breakBackoff: { backoff: v, maxMs: 60000 } })],
  ['CircuitBreaker', 'breakBackoff.maxMs', (v) => new CircuitBreaker({ breakBackoff: { backoff: 'linear', maxMs: v } })],
  ...['maxConcurrent', 'maxQueueSize', 'timeoutMs', 'sleep'].map((o) => ['Bulkhead', o, (v) => new Bulkhead({ [o]: v })]),
  ...['onRetry', 'onGiveUp', 'signal', 'sleep', 'clock'].map((o) => ['RetryExecutor', o, (v) => new RetryExecutor(new RetryPolicy(), { [o]: v })]),
  ['FallbackChain', 'isExpected', (v) => new FallbackChain([], { isExpected: v })],
  ...['maxAttempts', 'baseDelayMs', 'retryableStatusCodes', 'onRetry'].map((o) => ['withRetry', o, (v) => withRetry(fetch, { [o]: v })]),
];

/** Asserts `run` throws a short, milliseconds-only ConfigError naming `parameter` and carrying `got`. */
function assertGoodConfigError(run, parameter, got, label) {
  let thrown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) return false; // accepted (e.g. 1e20 ms as a breaker timeout)
  if (thrown?.name === 'SnapshotError') return false; // initialState: an object core cannot read
  assert.ok(thrown instanceof ConfigError, `${label}: a ConfigError, got ${thrown}`);
  // An option object (failureRate …) may be refused for one of its fields.
  assert.ok(thrown.parameter === parameter || thrown.parameter.startsWith(`${parameter}.`), `${label}: ${thrown.parameter}`);
  assert.ok(KINDS.includes(thrown.kind), `${label}: kind ${thrown.kind}`);
  if (thrown.parameter === parameter && parameter !== 'retryableStatusCodes') assert.ok(Object.is(thrown.got, got), `${label}: got is the value given`);
  assert.ok(thrown.message.startsWith(`invalid ${thrown.parameter}: must be `), `${label}: ${thrown.message.slice(0, 100)}`);
  assert.ok(thrown.message.length <= MAX_MESSAGE, `${label}: ${thrown.message.length} characters: ${thrown.message.slice(0, 300)}`);
  assert.doesNotMatch(thrown.message, NOT_MS, label);
  return true;
}

test('every option, given a hostile value, is a short ConfigError in milliseconds naming it', () => {
  let rejected = 0;
  for (const [name, option, build] of OPTIONS) {
    for (const [i, value] of HOSTILE.entries()) {
      const label = `${name} ${option}: HOSTILE[${i}]`;
      if (assertGoodConfigError(() => build(value), option, value, label)) rejected += 1;
    }
  }
  assert.ok(rejected > 550, `${rejected} rejections checked`);
});

test('policy methods: a hostile attempt is accepted (integers saturate) or a short ConfigError naming attempt', () => {
  const policy = new RetryPolicy();
  let rejected = 0;
  for (const [i, value] of HOSTILE.entries()) {
    for (const run of [() => policy.calculateDelayMs(value), () => policy.shouldRetry(new Error(), value), () => policy.shouldRetryResponse({ status: 503 }, value)]) {
      if (assertGoodConfigError(run, 'attempt', value, `HOSTILE[${i}]`)) rejected += 1;
      else assert.ok(typeof value === 'bigint' || Number.isInteger(value), `HOSTILE[${i}] is an integer`);
    }
  }
  assert.equal(rejected, 3 * HOSTILE.filter((v) => typeof v !== 'bigint' && !Number.isInteger(v)).length);
});

test('the longest-duration bound is said in milliseconds, one bound for every duration', () => {
  const bound = 'a number of milliseconds in 0..=18446744073709.551615';
  for (const [build, parameter] of [
    [(v) => new RetryPolicy({ baseDelayMs: v, maxDelayMs: v }), 'baseDelayMs'],
    [(v) => new RetryPolicy({ baseDelayMs: 0, maxDelayMs: v }), 'maxDelayMs'],
    [(v) => new CircuitBreaker({ recoveryTimeoutMs: v }), 'recoveryTimeoutMs'],
    [(v) => new Bulkhead({ timeoutMs: v }), 'timeoutMs'],
    [(v) => new CircuitBreaker({ failureRate: { ratio: 1, samplingDurationMs: v } }), 'failureRate.samplingDurationMs'],
    [(v) => new CircuitBreaker({ failureRate: { ratio: 1 }, slowCall: { durationMs: v, ratio: 1 } }), 'slowCall.durationMs'],
    [(v) => new CircuitBreaker({ breakBackoff: { backoff: 'fixed', maxMs: v } }), 'breakBackoff.maxMs'],
  ]) {
    assert.doesNotThrow(() => build(18446744073709), parameter);
    for (const [value, shown] of [
      [1e20, '100000000000000000000'],
      [2 ** 64, '18446744073709551616'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
    ]) {
      assert.throws(
        () => build(value),
        (e) => e instanceof ConfigError && e.kind === 'too_large' && e.parameter === parameter && e.message === `invalid ${parameter}: must be ${bound}, got ${shown}`,
        `${parameter} = ${value}`,
      );
    }
  }
});

test('huge and long values stay short in messages (core renders them)', () => {
  const cases = [
    [{ seed: 2n ** 1000n }, 'seed', 'too_large', /got an integer above 2\^127$/],
    [{ backoff: 'x'.repeat(10_000) }, 'backoff', 'unknown_name', /got "x{32}…"$/],
    [{ retryableStatusCodes: Array.from({ length: 10_000 }, (_, i) => 70_000 + i) }, 'retryableStatusCodes', 'too_large', /got 70000$/],
    [{ maxAttempts: 1e300 }, 'maxAttempts', 'too_large', /got an integer above 2\^127$/],
    [{ maxAttempts: 2.5e-300 }, 'maxAttempts', 'not_an_integer', /got 2\.5e-300$/],
    [{ backoff: Object.create(null) }, 'backoff', 'wrong_type', /got a value of type object$/],
    [{ jitter: [true] }, 'jitter', 'wrong_type', /got a value of type array$/],
    [{ retryableErrors: [TypeError, function check() {}, 'x'] }, 'retryableErrors', 'wrong_type', /got \[function TypeError, function check, "x"\]$/],
  ];
  for (const [options, parameter, kind, message] of cases) {
    assert.throws(
      () => new RetryPolicy(options),
      (e) => e instanceof ConfigError && e.parameter === parameter && e.kind === kind && message.test(e.message) && e.message.length <= MAX_MESSAGE,
      parameter,
    );
  }
});

test('every kind of core rule reaches JavaScript with its name', () => {
  const cases = [
    [() => new RetryPolicy({ maxAttempts: '3' }), 'wrong_type', 'maxAttempts'],
    [() => new RetryPolicy({ maxAttempts: 2.5 }), 'not_an_integer', 'maxAttempts'],
    [() => new RetryPolicy({ baseDelayMs: Number.NaN }), 'not_a_number', 'baseDelayMs'],
    [() => new RetryPolicy({ maxAttempts: 0 }), 'too_small', 'maxAttempts'],
    [() => new RetryPolicy({ maxAttempts: 2 ** 32 }), 'too_large', 'maxAttempts'],
    [() => new RetryPolicy({ jitter: 'lots' }), 'unknown_name', 'jitter'],
    [() => new RetryPolicy({ baseDelayMs: 2000, maxDelayMs: 1000 }), 'below_other', 'maxDelayMs'],
    [() => new CircuitBreaker({ slowCall: { durationMs: 100, ratio: 0.5 } }), 'requires_other', 'slowCall'],
  ];
  for (const [build, kind, parameter] of cases) {
    assert.throws(build, (e) => e instanceof ConfigError && e.kind === kind && e.parameter === parameter, kind);
  }
  assert.throws(
    () => new CircuitBreaker({ slowCall: { durationMs: 100, ratio: 0.5 } }),
    (e) => e.message === 'invalid slowCall: must be set together with failureRate',
  );
  assert.throws(
    () => new RetryPolicy({ baseDelayMs: 2000, maxDelayMs: 1000 }),
    (e) => e.message === 'invalid maxDelayMs: must be >= baseDelayMs (2000), got 1000' && e.got === 1000,
  );
});
