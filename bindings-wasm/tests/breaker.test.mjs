// CircuitBreaker: states on an injected clock, the rejection error, error
// filtering, user errors unchanged, bad clocks, the wrapper.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BrokenCircuitError, CircuitBreaker, circuitBreaker, ConfigError, SnapshotError } from 'resilience-wasm';
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

// --- The failure-rate breaker, break backoff, isolation, metrics, snapshots (issue 9) ---

const ok = () => Promise.resolve('ok');
const down = () => Promise.reject(new Error('down'));
const settle = (p) => p.then(() => 'ok', (e) => e);

test('a failure-rate breaker over a time window trips at the ratio, only on a failure', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({
    failureRate: { ratio: 0.5, minimumThroughput: 4, samplingDurationMs: 1000, buckets: 10 },
    clock: time.clock,
  });
  for (const op of [down, down, ok]) await settle(breaker.execute(op));
  assert.equal(breaker.state, 'closed', 'below the minimum throughput');
  await settle(breaker.execute(ok));
  assert.equal(breaker.state, 'closed', 'a success never trips, even at the ratio');
  time.advanceMs(1000); // the first calls leave the window bucket by bucket
  await settle(breaker.execute(down));
  assert.equal(breaker.metrics.windowCalls, 1);
  assert.equal(breaker.state, 'closed');
});

test('a count window, slow calls on the injected clock', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({
    failureRate: { ratio: 1, minimumThroughput: 2, windowSize: 4 },
    slowCall: { durationMs: 100, ratio: 0.5 },
    clock: time.clock,
  });
  const slow = async () => {
    time.advanceMs(101);
    return 'slow';
  };
  await breaker.execute(ok);
  assert.equal(await breaker.execute(slow), 'slow', 'a slow call still returns its value');
  assert.equal(breaker.state, 'open', 'half the calls were slow (only a slow call or a failure can trip)');
  const m = breaker.metrics;
  assert.deepEqual([m.windowCalls, m.windowSlowCalls, m.slowCallRatio, m.windowFailures], [2, 1, 0.5, 0]);
});

test('metrics: a frozen plain object with every field', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 1000, clock: time.clock });
  await settle(breaker.execute(down));
  time.advanceMs(250);
  await settle(breaker.execute(ok));
  const m = breaker.metrics;
  assert.ok(Object.isFrozen(m));
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
  assert.deepEqual(m, {
    state: 'open',
    consecutiveFailures: 1,
    windowCalls: 0,
    windowFailures: 0,
    windowSlowCalls: 0,
    failureRatio: 0,
    slowCallRatio: 0,
    rejections: 1,
    openings: 1,
    timeInStateMs: 250,
    breakDurationMs: 1000,
  });
  assert.notEqual(breaker.metrics, m, 'each read is a new copy');
});

test('break backoff: each opening in a row lasts longer, capped; closing starts over', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({
    failureThreshold: 1,
    recoveryTimeoutMs: 1000,
    breakBackoff: { backoff: 'exponential', maxMs: 3000 },
    clock: time.clock,
  });
  const breaks = [];
  await settle(breaker.execute(down));
  for (let i = 0; i < 3; i += 1) {
    breaks.push((await settle(breaker.execute(ok))).retryAfterMs);
    time.advanceMs(breaks.at(-1));
    await settle(breaker.execute(down)); // the trial fails: open again, for longer
  }
  assert.deepEqual(breaks, [1000, 2000, 3000]);
  time.advanceMs(3000);
  assert.equal(await breaker.execute(ok), 'ok');
  await settle(breaker.execute(down));
  assert.equal((await settle(breaker.execute(ok))).retryAfterMs, 1000);
});

test('isolate(): every call is rejected with reason isolated and retryAfterMs Infinity, until close()', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({ clock: time.clock });
  breaker.isolate();
  assert.equal(breaker.state, 'isolated');
  let ran = false;
  const e = await settle(
    breaker.execute(() => {
      ran = true;
    }),
  );
  assert.ok(e instanceof BrokenCircuitError);
  assert.equal(ran, false);
  assert.equal(e.reason, 'isolated');
  assert.equal(e.retryAfterMs, Number.POSITIVE_INFINITY);
  assert.equal(e.message, 'circuit breaker is isolated (until close() or reset())');
  time.advanceMs(1e9);
  assert.equal(breaker.state, 'isolated', 'no time ends it');
  breaker.close();
  assert.equal(await breaker.execute(ok), 'ok');
  breaker.isolate();
  breaker.reset();
  assert.equal(breaker.state, 'closed', 'reset ends it too');
});

test('a busy half-open breaker rejects with reason trials_taken and retryAfterMs 0', async () => {
  const time = new VirtualTime();
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 10, clock: time.clock });
  await settle(breaker.execute(down));
  const open = await settle(breaker.execute(ok));
  assert.deepEqual([open.reason, open.retryAfterMs], ['open', 10]);
  time.advanceMs(10);
  let finish;
  const trial = breaker.execute(() => new Promise((resolve) => (finish = resolve)));
  const busy = await settle(breaker.execute(ok));
  assert.deepEqual([busy.reason, busy.retryAfterMs], ['trials_taken', 0]);
  assert.match(busy.message, /trial calls are taken/);
  finish('back');
  assert.equal(await trial, 'back');
  assert.equal(breaker.state, 'closed');
});

test('toJSON() is the snapshot as a plain object; initialState takes it, its text, or a breaker', async () => {
  const time = new VirtualTime();
  const options = { failureRate: { ratio: 0.5, minimumThroughput: 2, windowSize: 10 }, recoveryTimeoutMs: 5000 };
  const breaker = new CircuitBreaker({ ...options, clock: time.clock });
  await settle(breaker.execute(ok));
  await settle(breaker.execute(down));
  time.advanceMs(2000);
  const saved = breaker.toJSON();
  assert.equal(Object.getPrototypeOf(saved), Object.prototype);
  assert.deepEqual(saved, {
    format: 'resilience.circuit_breaker',
    version: 1,
    state: 'open',
    consecutive_failures: 1,
    openings_in_a_row: 1,
    break_ms: 5000,
    break_remaining_ms: 3000,
    window: { kind: 'count', size: 10, calls: 'of' },
  });
  assert.equal(JSON.stringify(breaker), JSON.stringify(saved));
  for (const initialState of [saved, JSON.stringify(saved), breaker]) {
    const restarted = new CircuitBreaker({ ...options, initialState, clock: () => 1e6 });
    assert.equal(restarted.state, 'open');
    assert.equal((await settle(restarted.execute(ok))).retryAfterMs, 3000);
    assert.equal(restarted.metrics.windowCalls, 2, 'the same-shaped window comes back');
  }
});

test('an initialState core cannot read is a SnapshotError, never a closed breaker', () => {
  const saved = new CircuitBreaker({ failureThreshold: 1 }).toJSON();
  const cyclic = { ...saved };
  cyclic.self = cyclic;
  for (const [initialState, reason] of [
    ['not json', 'malformed'],
    [JSON.stringify(saved).slice(0, 40), 'malformed'],
    [{ ...saved, version: 2 }, 'unsupported_version'],
    [{ ...saved, state: 'ajar' }, 'malformed'],
    [{ ...saved, consecutive_failures: -1 }, 'malformed'],
    [{ ...saved, format: 'cockatiel' }, 'malformed'],
    [{}, 'malformed'],
    [cyclic, 'malformed'],
    [{ ...saved, consecutive_failures: 1n }, 'malformed'],
  ]) {
    assert.throws(
      () => new CircuitBreaker({ initialState }),
      (e) => e instanceof SnapshotError && e instanceof Error && e.name === 'SnapshotError' && e.reason === reason && e.message.includes('snapshot'),
      String(initialState).slice(0, 40),
    );
  }
  assert.throws(() => new CircuitBreaker({ initialState: { ...saved, version: 2 } }), (e) => e.version === 2);
  for (const wrong of [null, 42, true]) {
    assert.throws(
      () => new CircuitBreaker({ initialState: wrong }),
      (e) => e instanceof ConfigError && e.kind === 'wrong_type' && e.parameter === 'initialState',
    );
  }
});

test('nested options are named as the API spells them', () => {
  for (const [options, parameter, kind] of [
    [{ failureRate: { ratio: 0 } }, 'failureRate.ratio', 'too_small'],
    [{ failureRate: { ratio: 0.5, minimumThroughput: 0 } }, 'failureRate.minimumThroughput', 'too_small'],
    [{ failureRate: { ratio: 0.5, buckets: 1001 } }, 'failureRate.buckets', 'too_large'],
    [{ failureRate: { ratio: 0.5, samplingDurationMs: 0 } }, 'failureRate.samplingDurationMs', 'too_small'],
    [{ failureRate: { ratio: 0.5, windowSize: 2.5 } }, 'failureRate.windowSize', 'not_an_integer'],
    [{ failureRate: { ratio: 0.5, windowSize: 10, buckets: 2 } }, 'failureRate.windowSize', 'conflicts_with'],
    [{ failureRate: 'fast' }, 'failureRate', 'wrong_type'],
    [{ failureRate: { ratio: 0.5 }, slowCall: { durationMs: 10, ratio: 2 } }, 'slowCall.ratio', 'too_large'],
    [{ slowCall: { durationMs: 10, ratio: 0.5 } }, 'slowCall', 'requires_other'],
    [{ breakBackoff: { backoff: 'linear', maxMs: 10 } }, 'breakBackoff.maxMs', 'below_other'],
    [{ breakBackoff: { backoff: 'cubic', maxMs: 60000 } }, 'breakBackoff.backoff', 'unknown_name'],
    [{ breakBackoff: { maxMs: 60000 } }, 'breakBackoff.backoff', 'wrong_type'],
  ]) {
    assert.throws(
      () => new CircuitBreaker(options),
      (e) => e instanceof ConfigError && e.parameter === parameter && e.kind === kind && e.message.startsWith(`invalid ${parameter}: must be `),
      JSON.stringify(options),
    );
  }
  // The other window is named as the options spell it.
  assert.throws(
    () => new CircuitBreaker({ failureRate: { ratio: 0.5, windowSize: 10, samplingDurationMs: 1000 } }),
    { message: 'invalid failureRate.windowSize: must be left out when failureRate.samplingDurationMs is set' },
  );
});

test('a clock that jumps far ahead once delays recovery by one recovery timeout, and retryAfterMs says so', async () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 1000, clock: () => now });
  now = 1e300; // one absurd reading
  await settle(breaker.execute(down));
  now = 5000; // normal again
  assert.equal((await settle(breaker.execute(ok))).retryAfterMs, 1000);
  now = 5999;
  assert.equal((await settle(breaker.execute(ok))).retryAfterMs, 1);
  now = 6000;
  assert.equal(breaker.state, 'half_open');
  assert.equal(await breaker.execute(ok), 'ok');
});

test('with a time window the clock is read for every report; a clock failing then is reported, the outcome kept', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  let reads = 0;
  let bad = false;
  const clock = () => {
    reads += 1;
    if (bad) throw new Error('clock broke');
    return 0;
  };
  const breaker = new CircuitBreaker({ failureRate: { ratio: 0.5, minimumThroughput: 10 }, clock });
  for (let i = 0; i < 5; i += 1) await breaker.execute(ok);
  assert.equal(reads, 5, 'one reading per call');
  const breaking = async () => {
    bad = true;
    return 'ok';
  };
  assert.equal(await breaker.execute(breaking), 'ok', 'the value, unchanged');
  const userError = new Error('down');
  const failing = () => {
    bad = true;
    return Promise.reject(userError);
  };
  assert.equal(await settle(breaker.execute(failing)), userError, 'the error, unchanged');
  assert.equal(warn.mock.callCount(), 2);
  assert.match(warn.mock.calls[0].arguments[0], /clock threw while recording an outcome/);
  assert.equal(warn.mock.calls[0].arguments[1].message, 'clock broke');
  bad = false;
  assert.equal(breaker.metrics.windowCalls, 7, 'the outcomes counted at the last good reading');
  // A reading that is not a number is a broken clock too.
  const odd = new CircuitBreaker({ failureRate: { ratio: 0.5 }, slowCall: { durationMs: 10, ratio: 1 }, clock: () => 'soon' });
  await assert.rejects(odd.execute(ok), (e) => e instanceof TypeError && e.message === 'clock() must return a number of milliseconds');
});

test('slow calls: the clock is read when a call starts; a clock failing then rejects the call before it runs', async () => {
  let now = 0;
  let reads = 0;
  let bad = false;
  const clock = () => {
    reads += 1;
    if (bad) throw new Error('clock broke');
    return now;
  };
  const breaker = new CircuitBreaker({ failureRate: { ratio: 0.5, minimumThroughput: 1 }, slowCall: { durationMs: 100, ratio: 0.5 }, clock });
  await breaker.execute(async () => {
    now += 100;
  });
  assert.equal(reads, 2, 'at the start and at the end');
  assert.equal(breaker.state, 'closed', 'exactly the duration is not slow');
  bad = true;
  let ran = false;
  await assert.rejects(
    breaker.execute(() => {
      ran = true;
    }),
    /clock broke/,
  );
  assert.equal(ran, false);
  bad = false;
  await breaker.execute(async () => {
    now += 101;
  });
  assert.equal(breaker.state, 'open', 'one slow call of two trips at ratio 0.5');
});

test('a permit reports once; every way a call ends gives its permit back', async () => {
  const { createRequire } = await import('node:module');
  const raw = createRequire(import.meta.url)('../dist/node/resilience_wasm.js');
  const core = new raw.BreakerCore(1e6, undefined, undefined, { ratio: 1, windowSize: 5 }, undefined, undefined, undefined, () => 0);
  for (let i = 0; i < 100; i += 1) {
    const token = core.acquire(undefined);
    assert.ok(token >= 0);
    const answer = [core.record_success(token, undefined), core.record_error(token, raw.FilterVerdict.Yes, undefined)];
    assert.deepEqual(answer, [raw.BreakerReport.Recorded, raw.BreakerReport.PermitMisuse], 'a token reports once');
  }
  assert.equal(core.tokens_outstanding(), 0);
  // Through the public API, every way a call can end gives its permit back.
  const breaker = new CircuitBreaker({ failureRate: { ratio: 1, minimumThroughput: 1e6 }, isFailure: TypeError });
  for (let i = 0; i < 50; i += 1) {
    await breaker.execute(ok);
    await settle(breaker.execute(down));
    await settle(breaker.execute(() => Promise.reject(new RangeError('ignored'))));
    await settle(
      breaker.execute(() => {
        throw new TypeError('sync');
      }),
    );
  }
  // Per round: the success and the TypeError count; errors outside isFailure are not calls of the window.
  assert.equal(breaker.metrics.windowCalls, 100);
  core.free();
});
