// RetryPolicy and RetryExecutor: defaults, decisions from core, errors kept
// unchanged, callbacks, virtual time and the default setTimeout sleeper.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ConfigError, retry, RetryExecutor, RetryPolicy } from 'resilience-wasm';
import { VirtualTime } from './helpers/virtual-time.mjs';
import { withFakeTimers } from './helpers/fake-timers.mjs';

describe('RetryPolicy', () => {
  test('has the original defaults', () => {
    const p = new RetryPolicy();
    assert.equal(p.maxAttempts, 3);
    assert.equal(p.backoff, 'exponential');
    assert.equal(p.baseDelayMs, 1000);
    assert.equal(p.maxDelayMs, 60000);
    assert.equal(p.jitter, 'proportional');
    assert.equal(new RetryPolicy({ jitter: false }).jitter, 'none');
    assert.equal(p.retryableStatusCodes, undefined);
  });

  test('backoff strategies, the cap, and no overflow', () => {
    const delays = (backoff) =>
      [1, 2, 3, 4, 5].map((n) => new RetryPolicy({ backoff, jitter: false, baseDelayMs: 100 }).calculateDelayMs(n));
    assert.deepEqual(delays('fixed'), [100, 100, 100, 100, 100]);
    assert.deepEqual(delays('linear'), [100, 200, 300, 400, 500]);
    assert.deepEqual(delays('exponential'), [100, 200, 400, 800, 1600]);
    assert.deepEqual(delays('fibonacci'), [100, 100, 200, 300, 500]);
    const p = new RetryPolicy({ jitter: false, maxDelayMs: 5000 });
    assert.equal(p.calculateDelayMs(10000), 5000);
    assert.equal(p.calculateDelayMs(0), 0);
    assert.equal(p.calculateDelayMs(-1), 0);
  });

  test('proportional jitter stays in [0.75, 1.25) of the capped delay and varies', () => {
    const p = new RetryPolicy({ baseDelayMs: 1000, maxDelayMs: 1000 });
    const seen = new Set();
    for (let i = 0; i < 500; i += 1) {
      const d = p.calculateDelayMs(5);
      assert.ok(d >= 750 && d < 1250, `${d}`);
      seen.add(d);
    }
    assert.ok(seen.size > 400, 'jitter from crypto.getRandomValues varies');
  });

  test('unseeded policies draw different sequences; a seed (number or bigint) repeats', () => {
    const seq = (o) => {
      const p = new RetryPolicy(o);
      return [1, 2, 3, 4].map((n) => p.calculateDelayMs(n));
    };
    assert.notDeepEqual(seq({}), seq({}));
    assert.deepEqual(seq({ seed: 42 }), seq({ seed: 42 }));
    assert.deepEqual(seq({ seed: 42 }), seq({ seed: 42n }));
    assert.notDeepEqual(seq({ seed: 42 }), seq({ seed: 43 }));
    assert.deepEqual(seq({ seed: 2n ** 64n - 1n }), seq({ seed: 2n ** 64n - 1n }));
  });

  test('shouldRetry: the attempt limit first, then the error filter (classes or predicate)', () => {
    const byClass = new RetryPolicy({ maxAttempts: 3, retryableErrors: [TypeError] });
    assert.equal(byClass.shouldRetry(new TypeError(), 1), true);
    assert.equal(byClass.shouldRetry(new RangeError(), 1), false);
    assert.equal(byClass.shouldRetry(new TypeError(), 3), false);
    const byPredicate = new RetryPolicy({ retryableErrors: (e) => e.code === 'EAGAIN' });
    assert.equal(byPredicate.shouldRetry({ code: 'EAGAIN' }, 1), true);
    assert.equal(byPredicate.shouldRetry({ code: 'EPERM' }, 1), false);
    assert.equal(new RetryPolicy().shouldRetry('anything', 2), true);
  });

  test('retryableErrors: a bare error class is a class, not a predicate', () => {
    class Transient extends Error {}
    class NotAnError {}
    for (const [filter, yes, no] of [
      [TypeError, new TypeError(), new RangeError()],
      [Error, new RangeError(), { message: 'not an error' }],
      [Transient, new Transient(), new Error()],
      [NotAnError, new NotAnError(), new Error()],
    ]) {
      const p = new RetryPolicy({ retryableErrors: filter });
      assert.equal(p.shouldRetry(yes, 1), true, `${filter.name} matches its instances`);
      assert.equal(p.shouldRetry(no, 1), false, `${filter.name} rejects others`);
      assert.equal(p.isRetryable(yes), true);
    }
    // Predicates keep working, arrow or plain function.
    assert.equal(new RetryPolicy({ retryableErrors: (e) => e === 1 }).isRetryable(1), true);
    assert.equal(new RetryPolicy({ retryableErrors: function isTwo(e) { return e === 2; } }).isRetryable(1), false);
    // An array holds constructors, ES5 ones too; an arrow function in it would throw at `instanceof`.
    function LegacyError() {}
    assert.equal(new RetryPolicy({ retryableErrors: [LegacyError] }).isRetryable(new LegacyError()), true);
    assert.throws(() => new RetryPolicy({ retryableErrors: [TypeError, (e) => true] }), (e) => e instanceof ConfigError && e.parameter === 'retryableErrors');
  });

  test('a bare error class filters what the executor retries', async () => {
    class Transient extends Error {}
    const time = new VirtualTime();
    const executor = new RetryExecutor(new RetryPolicy({ retryableErrors: Transient }), { sleep: time.sleep });
    const fatal = new RangeError('fatal');
    let calls = 0;
    await assert.rejects(
      executor.execute(() => {
        calls += 1;
        throw calls === 1 ? new Transient('once') : fatal;
      }),
      (e) => e === fatal,
    );
    assert.equal(calls, 2, 'the Transient was retried, the RangeError was not');
  });

  test("attempt arguments: core's rule — integers (any size, saturated), else a ConfigError naming attempt", () => {
    const p = new RetryPolicy({ jitter: false, retryableStatusCodes: [503] });
    for (const [bad, kind] of [
      [Number.NaN, 'not_a_number'],
      [2.5, 'not_an_integer'],
      [Number.POSITIVE_INFINITY, 'not_an_integer'],
      ['1', 'wrong_type'],
      [undefined, 'wrong_type'],
      [null, 'wrong_type'],
    ]) {
      for (const [method, call] of [
        ['calculateDelayMs', () => p.calculateDelayMs(bad)],
        ['shouldRetry', () => p.shouldRetry(new Error(), bad)],
        ['shouldRetryResponse', () => p.shouldRetryResponse({ status: 503 }, bad)],
      ]) {
        assert.throws(
          call,
          (e) => e instanceof ConfigError && e.parameter === 'attempt' && e.kind === kind && e.message.startsWith('invalid attempt: must be an integer, got '),
          `${method}(${String(bad)})`,
        );
      }
    }
    assert.equal(p.calculateDelayMs(-3), 0, 'integers <= 0 are fine: no delay');
    assert.equal(p.calculateDelayMs(2 ** 53), 60000, 'a huge attempt is just a very late one');
    assert.equal(p.calculateDelayMs(2n ** 100n), 60000, 'bigints too');
    assert.equal(p.shouldRetry(new Error(), 2 ** 53 - 1), false);
    assert.equal(p.shouldRetry(new Error(), -(2n ** 80n)), true);
  });

  test('shouldRetryResponse: a response without an integer status is not retryable', () => {
    const p = new RetryPolicy({ retryableStatusCodes: [503] });
    for (const response of [{ status: '503' }, { status: 503.5 }, { status: Number.NaN }, { status: true }, {}, null, undefined, 503]) {
      assert.equal(p.shouldRetryResponse(response, 1), false, String(response?.status ?? response));
    }
    assert.equal(p.shouldRetryResponse({ status: 503 }, 1), true);
    assert.equal(p.shouldRetryResponse({ status: 503n }, 1), true, 'a bigint status is an integer');
  });

  test('shouldRetryResponse: listed statuses only, never without a list', () => {
    const p = new RetryPolicy({ retryableStatusCodes: [503] });
    assert.equal(p.shouldRetryResponse({ status: 503 }, 1), true);
    assert.equal(p.shouldRetryResponse({ status: 500 }, 1), false);
    assert.equal(p.shouldRetryResponse({ status: 503 }, 3), false);
    assert.equal(new RetryPolicy().shouldRetryResponse({ status: 503 }, 1), false);
  });

  test("bad options are ConfigErrors: core's kind, the option in camelCase, core's message", () => {
    const cases = [
      [{ maxAttempts: 0 }, 'maxAttempts', 'too_small', /must be an integer in 1\.\.=4294967295, got 0$/],
      [{ maxAttempts: 1.5 }, 'maxAttempts', 'not_an_integer', /got 1\.5$/],
      [{ maxAttempts: '3' }, 'maxAttempts', 'wrong_type', /got "3"$/],
      [{ maxAttempts: null }, 'maxAttempts', 'wrong_type', /got null$/],
      [{ maxAttempts: 3n }, undefined],
      [{ baseDelayMs: -1 }, 'baseDelayMs', 'too_small', /must be a number of milliseconds in 0\.\.=18446744073709\.551615, got -1$/],
      [{ baseDelayMs: Number.NaN }, 'baseDelayMs', 'not_a_number', /got NaN$/],
      [{ baseDelayMs: 2000, maxDelayMs: 1000 }, 'maxDelayMs', 'below_other', /must be >= baseDelayMs \(2000\), got 1000$/],
      [{ backoff: 'cubic' }, 'backoff', 'unknown_name', /must be one of fixed, linear, exponential, fibonacci, got "cubic"$/],
      [{ backoff: 1 }, 'backoff', 'wrong_type', /got 1$/],
      [{ jitter: 'lots' }, 'jitter', 'unknown_name', /got "lots"$/],
      [{ jitter: 1 }, 'jitter', 'wrong_type', /must be true, false or one of none, proportional, full, equal, decorrelated, got 1$/],
      [{ seed: -1 }, 'seed', 'too_small', /must be an integer in 0\.\.=18446744073709551615, got -1$/],
      [{ seed: 2n ** 64n }, 'seed', 'too_large', /must be an integer in 0\.\.=18446744073709551615, got 18446744073709551616$/],
      [{ seed: 0.5 }, 'seed', 'not_an_integer', /got 0\.5$/],
      [{ retryableStatusCodes: [503, 70000] }, 'retryableStatusCodes', 'too_large', /must be an integer in 100\.\.=599, got 70000$/],
      [{ retryableStatusCodes: ['503'] }, 'retryableStatusCodes', 'wrong_type', /got "503"$/],
      [{ retryableStatusCodes: 503 }, 'retryableStatusCodes', 'wrong_type', /must be a collection of integers in 100\.\.=599, got 503$/],
      [{ retryableErrors: 'TypeError' }, 'retryableErrors', 'wrong_type', /must be a predicate/],
    ];
    for (const [options, parameter, kind, message] of cases) {
      const label = JSON.stringify(options, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
      if (parameter === undefined) {
        assert.doesNotThrow(() => new RetryPolicy(options), label);
        continue;
      }
      assert.throws(
        () => new RetryPolicy(options),
        (e) =>
          e instanceof ConfigError &&
          e instanceof Error &&
          e.name === 'ConfigError' &&
          e.parameter === parameter &&
          e.kind === kind &&
          message.test(e.message),
        label,
      );
    }
  });

  test('retryableStatusCodes reads as core keeps them: sorted, without duplicates; null means none', () => {
    assert.deepEqual(new RetryPolicy({ retryableStatusCodes: [503, 500, 503] }).retryableStatusCodes, [500, 503]);
    assert.ok(Object.isFrozen(new RetryPolicy({ retryableStatusCodes: [503] }).retryableStatusCodes));
    assert.equal(new RetryPolicy({ retryableStatusCodes: null }).retryableStatusCodes, undefined);
  });
});

describe('RetryExecutor', () => {
  const flaky = (failures, error = () => new Error('flaky')) => {
    const errors = [];
    let calls = 0;
    const fn = async (attempt) => {
      calls += 1;
      assert.equal(attempt, calls, 'the attempt number is passed');
      if (calls <= failures) {
        errors.push(error());
        throw errors.at(-1);
      }
      return `ok after ${calls}`;
    };
    return { fn, errors, calls: () => calls };
  };

  test('retries with the policy delays on virtual time, telling onRetry each one', async () => {
    const time = new VirtualTime();
    const seen = [];
    const executor = new RetryExecutor(new RetryPolicy({ jitter: false, baseDelayMs: 100 }), {
      sleep: time.sleep,
      onRetry: (attempt, error, delayMs) => seen.push([attempt, error.message, delayMs]),
    });
    const { fn } = flaky(2);
    assert.equal(await executor.execute(fn), 'ok after 3');
    assert.deepEqual(seen, [
      [1, 'flaky', 100],
      [2, 'flaky', 200],
    ]);
    assert.deepEqual(time.sleepsNs, [100e6, 200e6]);
  });

  test('rejects with the last error, the same object, when attempts run out', async () => {
    const time = new VirtualTime();
    const { fn, errors, calls } = flaky(10);
    const executor = new RetryExecutor(new RetryPolicy({ maxAttempts: 4 }), { sleep: time.sleep });
    await assert.rejects(executor.execute(fn), (e) => e === errors[3]);
    assert.equal(calls(), 4);
    assert.equal(time.sleepsNs.length, 3);
  });

  test('a non-retryable error is rejected at once, unchanged', async () => {
    const time = new VirtualTime();
    const { fn, errors, calls } = flaky(10, () => new RangeError('fatal'));
    const policy = new RetryPolicy({ retryableErrors: [TypeError] });
    await assert.rejects(new RetryExecutor(policy, { sleep: time.sleep }).execute(fn), (e) => e === errors[0]);
    assert.equal(calls(), 1);
    assert.deepEqual(time.sleepsNs, []);
  });

  test('non-Error rejections and synchronous throws are retried and surfaced unchanged', async () => {
    const time = new VirtualTime();
    const thrown = { reason: 'plain object' };
    let calls = 0;
    const executor = new RetryExecutor(new RetryPolicy(), { sleep: time.sleep });
    await assert.rejects(
      executor.execute(() => {
        calls += 1;
        throw thrown;
      }),
      (e) => e === thrown,
    );
    assert.equal(calls, 3);
    assert.equal(await executor.execute(() => 7), 7, 'a plain value is a success');
  });

  test('a throwing onRetry is logged and never breaks the loop', async (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    const time = new VirtualTime();
    const executor = new RetryExecutor(new RetryPolicy(), {
      sleep: time.sleep,
      onRetry: () => {
        throw new Error('callback bug');
      },
    });
    assert.equal(await executor.execute(flaky(2).fn), 'ok after 3');
    assert.equal(warn.mock.callCount(), 2);
  });

  test('onGiveUp tells why, once', async () => {
    const time = new VirtualTime();
    const gaveUp = [];
    const executor = new RetryExecutor(new RetryPolicy({ retryableErrors: [TypeError] }), {
      sleep: time.sleep,
      onGiveUp: (attempts, reason) => gaveUp.push([attempts, reason]),
    });
    await assert.rejects(executor.execute(flaky(9, () => new TypeError('x')).fn));
    await assert.rejects(executor.execute(flaky(9, () => new RangeError('x')).fn));
    assert.deepEqual(gaveUp, [
      [3, 'exhausted'],
      [1, 'not_retryable'],
    ]);
  });

  test('the default sleeper uses setTimeout, clamped to 2^31-1 ms; a zero delay waits a macrotask, not a timer', async () => {
    await withFakeTimers(async (timers) => {
      const executor = new RetryExecutor(new RetryPolicy({ jitter: false, baseDelayMs: 5e9, maxDelayMs: 5e9 }));
      assert.equal(await executor.execute(flaky(1).fn), 'ok after 2');
      assert.deepEqual(timers.delays, [2_147_483_647]);
      timers.delays.length = 0;
      const zero = new RetryExecutor(new RetryPolicy({ baseDelayMs: 0 }));
      assert.equal(await zero.execute(flaky(2).fn), 'ok after 3');
      assert.deepEqual(timers.delays, [], 'setTimeout(0) would wait >= 1 ms');
    });
  });

  test('a zero delay yields to the event loop: a callback queued before the failure runs before the retry', async () => {
    for (const signal of [undefined, new AbortController().signal]) {
      const order = [];
      const executor = new RetryExecutor(new RetryPolicy({ baseDelayMs: 0, maxAttempts: 2 }), { signal });
      const run = executor.execute(async (attempt) => {
        order.push(`attempt ${attempt}`);
        if (attempt === 1) {
          setImmediate(() => order.push('macrotask'));
          throw new Error('once');
        }
        return 'ok';
      });
      assert.equal(await run, 'ok');
      assert.deepEqual(order, ['attempt 1', 'macrotask', 'attempt 2'], signal ? 'with a signal' : 'without a signal');
    }
  });

  test('an abort scheduled with setTimeout fires during a zero-delay retry storm', async (t) => {
    // Each zero-delay retry waits one macrotask, so the timer phase runs and
    // the abort lands after a bounded number of attempts. Before, retries
    // chained microtasks and the timer could only fire once all attempts ran.
    const maxAttempts = 200_000;
    const controller = new AbortController();
    const reason = new Error('deadline');
    setTimeout(() => controller.abort(reason), 0);
    let calls = 0;
    const executor = new RetryExecutor(new RetryPolicy({ baseDelayMs: 0, maxAttempts }), { signal: controller.signal });
    await assert.rejects(
      executor.execute(() => {
        calls += 1;
        throw new Error('always');
      }),
      (e) => e === reason,
    );
    assert.ok(calls < maxAttempts / 10, `aborted after ${calls} of ${maxAttempts} attempts`);
    t.diagnostic(`aborted after ${calls} attempts`);
  });

  test('AbortSignal.timeout ends a zero-delay retry storm with its TimeoutError', async () => {
    const signal = AbortSignal.timeout(1);
    let calls = 0;
    const executor = new RetryExecutor(new RetryPolicy({ baseDelayMs: 0, maxAttempts: 200_000 }), { signal });
    await assert.rejects(
      executor.execute(async () => {
        calls += 1;
        throw new Error('always');
      }),
      (e) => e === signal.reason && e.name === 'TimeoutError',
    );
    assert.ok(calls < 20_000, `aborted after ${calls} attempts`);
  });

  test('a policy is required', () => {
    assert.throws(() => new RetryExecutor({ maxAttempts: 3 }), (e) => e instanceof ConfigError && e.parameter === 'policy');
  });

  test('retry() wraps a function, passing its arguments', async () => {
    const time = new VirtualTime();
    let calls = 0;
    const add = retry(
      async (a, b) => {
        calls += 1;
        if (calls < 2) throw new Error('once');
        return a + b;
      },
      { sleep: time.sleep, maxAttempts: 2 },
    );
    assert.equal(await add(2, 3), 5);
    assert.ok(add.executor instanceof RetryExecutor);
    assert.equal(add.executor.policy.maxAttempts, 2);
  });
});

test('concurrent executions on one policy each keep their own retry sequence', async () => {
  const policy = new RetryPolicy({ jitter: false, baseDelayMs: 100, maxAttempts: 4 });
  const seen = new Map();
  let tick;
  const gate = () => new Promise((resolve) => (tick = setImmediate(resolve)));
  const runs = Array.from({ length: 50 }, (_, id) => {
    const delays = [];
    seen.set(id, delays);
    const executor = new RetryExecutor(policy, {
      sleep: gate, // every run waits on the event loop, so their sequences interleave
      onRetry: (_attempt, _error, delayMs) => delays.push(delayMs),
    });
    let calls = 0;
    return executor.execute(async () => {
      calls += 1;
      if (calls <= 1 + (id % 3)) throw new Error(`run ${id}`);
      return id;
    });
  });
  assert.deepEqual(await Promise.all(runs), [...seen.keys()]);
  for (const [id, delays] of seen) assert.deepEqual(delays, [100, 200, 400].slice(0, 1 + (id % 3)), `run ${id}`);
  clearImmediate(tick);
});

test('a default that the other options make invalid is named, with core rendering the values in ms', () => {
  assert.throws(
    () => new RetryPolicy({ baseDelayMs: 100000 }),
    (e) =>
      e instanceof ConfigError &&
      e.parameter === 'maxDelayMs' &&
      e.kind === 'below_other' &&
      e.got === undefined &&
      e.message === 'invalid maxDelayMs: must be >= baseDelayMs (100000), got 60000',
  );
});
