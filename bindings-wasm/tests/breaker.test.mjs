// CircuitBreaker: states on an injected clock, the rejection error, error
// filtering, user errors unchanged, bad clocks, the wrapper.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BrokenCircuitError, CircuitBreaker, circuitBreaker, ConfigError } from 'resilience-wasm';
import { VirtualTime } from './helpers/virtual-time.mjs';

const fail = (error) => () => Promise.reject(error);

test('opens at the threshold, rejects with BrokenCircuitError, probes after the timeout', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({ failureThreshold: 2, recoveryTimeoutMs: 1000, clock: time.clock });
  assert.equal(breaker.state, 'closed');
  const down = new Error('down');
  await assert.rejects(breaker.execute(fail(down)), (e) => e === down);
  assert.equal(breaker.failureCount, 1);
  await assert.rejects(breaker.execute(fail(down)), (e) => e === down);
  assert.equal(breaker.state, 'open');
  time.advanceMs(250);
  let ran = false;
  await assert.rejects(
    breaker.execute(() => {
      ran = true;
    }),
    (e) => {
      assert.ok(e instanceof BrokenCircuitError && e instanceof Error);
      assert.equal(e.name, 'BrokenCircuitError');
      assert.equal(e.retryAfterMs, 750);
      assert.match(e.message, /circuit breaker is open/);
      return true;
    },
  );
  assert.equal(ran, false, 'a rejected call never runs');
  time.advanceMs(750);
  assert.equal(breaker.state, 'half_open');
  assert.equal(await breaker.execute(async () => 'back'), 'back');
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.failureCount, 0);
});

test('a failed trial re-opens with a fresh timestamp', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 100, clock: time.clock });
  await assert.rejects(breaker.execute(fail(new Error('x'))));
  time.advanceMs(100);
  await assert.rejects(breaker.execute(fail(new Error('still down'))));
  assert.equal(breaker.state, 'open');
  time.advanceMs(99);
  assert.equal(breaker.state, 'open');
  time.advanceMs(1);
  assert.equal(breaker.state, 'half_open');
});

test('errors outside isFailure pass through and do not count; reset closes', async () => {
  const time = new VirtualTime();
  class Ignored extends Error {}
  const breaker = new CircuitBreaker({ failureThreshold: 1, isFailure: (e) => !(e instanceof Ignored), clock: time.clock });
  const ignored = new Ignored('not a failure');
  await assert.rejects(breaker.execute(fail(ignored)), (e) => e === ignored);
  assert.equal(breaker.state, 'closed');
  await assert.rejects(breaker.execute(fail(new Error('counted'))));
  assert.equal(breaker.state, 'open');
  breaker.reset();
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.failureCount, 0);
});

test('a throwing isFailure counts the error (fails safe), is reported, and the user error still surfaces', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const breaker = new CircuitBreaker({
    failureThreshold: 1,
    isFailure: () => {
      throw new Error('predicate bug');
    },
  });
  const down = new Error('down');
  await assert.rejects(breaker.execute(fail(down)), (e) => e === down);
  assert.equal(breaker.state, 'open');
  assert.equal(warn.mock.callCount(), 1);
});

test('the default clock is performance.now (no clock option)', async (t) => {
  // performance.now is replaced by a virtual one: the remaining open time is
  // then exact, whatever the machine's speed.
  let nowMs = 1000;
  t.mock.method(performance, 'now', () => nowMs);
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 60000 });
  await assert.rejects(breaker.execute(fail(new Error('x'))));
  nowMs += 12_345;
  await assert.rejects(breaker.execute(() => 1), (e) => e instanceof BrokenCircuitError && e.retryAfterMs === 60000 - 12_345);
  nowMs += 60000;
  assert.equal(breaker.state, 'half_open');
});

test('a clock that throws on acquire surfaces its error instead of guessing the time', async () => {
  const broken = new Error('clock broke');
  let broke = false;
  const breaker = new CircuitBreaker({
    failureThreshold: 1,
    clock: () => {
      if (broke) throw broken;
      return 0;
    },
  });
  await assert.rejects(breaker.execute(fail(new Error('x'))));
  broke = true;
  await assert.rejects(breaker.execute(() => 1), (e) => e === broken);
  assert.throws(() => breaker.state, (e) => e === broken);
});

test('a clock that fails while a failure is recorded: the user error passes unchanged, the clock error is reported', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  for (const [name, badReading] of [
    ['throws', () => {
      throw new Error('clockboom');
    }],
    ['returns a non-number', () => 'soon'],
  ]) {
    for (const user of [new Error('x'), Object.freeze(new Error('frozen'))]) {
      warn.mock.resetCalls();
      // The clock goes bad once the operation runs, i.e. after acquire: it
      // fails when the failure that opens the breaker is stamped.
      let bad = false;
      const breaker = new CircuitBreaker({ failureThreshold: 1, clock: () => (bad ? badReading() : 0) });
      const failing = () => {
        bad = true;
        return Promise.reject(user);
      };
      await assert.rejects(breaker.execute(failing), (e) => e === user, `${name}: the user's error, unchanged`);
      assert.deepEqual(Object.getOwnPropertyNames(user).sort(), ['message', 'stack'], `${name}: not mutated`);
      bad = false;
      assert.equal(breaker.state, 'open', `${name}: the failure still counts`);
      assert.equal(warn.mock.callCount(), 1, `${name}: the clock error is reported`);
      const reported = warn.mock.calls[0].arguments.at(-1);
      assert.ok(reported instanceof Error && reported !== user, `${name}: the clock's error is what is reported`);
    }
  }
});

test('bad options are ConfigErrors naming the option', () => {
  for (const [options, parameter] of [
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ failureThreshold: 2.5 }, 'failureThreshold'],
    [{ recoveryTimeoutMs: -5 }, 'recoveryTimeoutMs'],
    [{ halfOpenMaxCalls: 0 }, 'halfOpenMaxCalls'],
    [{ isFailure: true }, 'isFailure'],
    [{ isFailure: 'TypeError' }, 'isFailure'],
    [{ clock: 5 }, 'clock'],
  ]) {
    assert.throws(() => new CircuitBreaker(options), (e) => e instanceof ConfigError && e.parameter === parameter);
  }
});

test('circuitBreaker() wraps a function and exposes its breaker', async () => {
  const time = new VirtualTime();
  const calls = [];
  const wrapped = circuitBreaker(
    async (x) => {
      calls.push(x);
      throw new Error('down');
    },
    { failureThreshold: 2, clock: time.clock },
  );
  await assert.rejects(wrapped(1));
  await assert.rejects(wrapped(2));
  await assert.rejects(wrapped(3), BrokenCircuitError);
  assert.deepEqual(calls, [1, 2]);
  assert.equal(wrapped.breaker.state, 'open');
});
