// Timeouts, attempt timeouts and deadlines, on virtual time: each timer is
// an injected sleep the test fires by hand, so no test waits and every
// cancellation is visible (the sleep's signal is aborted when the timer is
// no longer needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, RetryExecutor, RetryPolicy, Timeout, timeout, TimeoutError } from 'resilience-wasm';
import { deferred, flush, track } from './helpers/virtual-time.mjs';

/** An injected sleep whose timers the test fires by hand. */
function manualTimers() {
  const timers = [];
  const sleep = (ms, signal) => {
    const d = deferred();
    const timer = {
      ms,
      signal,
      fired: false,
      fire: () => {
        timer.fired = true;
        d.resolve();
      },
    };
    timers.push(timer);
    return d.promise;
  };
  /** Timers neither fired nor cancelled. */
  const live = () => timers.filter((t) => !t.fired && !t.signal?.aborted);
  return { timers, sleep, live };
}

test('timeout: a call that answers first settles, and its timer is cancelled', async () => {
  const { sleep, timers, live } = manualTimers();
  let seen;
  const value = await timeout(
    async (signal) => {
      seen = signal;
      return 'fast';
    },
    1000,
    { sleep },
  );
  assert.equal(value, 'fast');
  assert.equal(timers.length, 1);
  assert.equal(timers[0].ms, 1000);
  assert.deepEqual(live(), [], 'the timer was cancelled');
  assert.equal(seen.aborted, false);
});

test('timeout: a slow call rejects with a TimeoutError and its signal is aborted with it', async () => {
  const { sleep, timers } = manualTimers();
  let seen;
  const events = [];
  const t = track(
    timeout(
      (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
      250,
      { sleep, onEvent: (e) => events.push(e) },
    ),
  );
  await flush();
  assert.equal(t.settled, false);
  timers[0].fire();
  await t.done;
  assert.ok(t.error instanceof TimeoutError && t.error.name === 'TimeoutError');
  assert.equal(t.error.timeoutMs, 250);
  assert.match(t.error.message, /timed out after 250 ms/);
  assert.equal(seen.aborted, true);
  assert.equal(seen.reason, t.error);
  assert.deepEqual(events, [{ type: 'timeout', strategy: 'total_timeout', afterMs: 250 }]);
});

test('timeout: a late answer after the timeout is absorbed; a late rejection is not unhandled', async () => {
  const { sleep, timers } = manualTimers();
  const d = deferred();
  const t = track(timeout(() => d.promise, 10, { sleep }));
  await flush();
  timers[0].fire();
  await t.done;
  d.reject(new Error('too late'));
  await flush();
  assert.ok(t.error instanceof TimeoutError);
});

test('timeout: a synchronous answer starts no timer; a synchronous throw rejects with it', async () => {
  const { sleep, timers } = manualTimers();
  assert.equal(await timeout(() => 7, 10, { sleep }), 7);
  const mine = new Error('sync');
  await assert.rejects(
    timeout(
      () => {
        throw mine;
      },
      10,
      { sleep },
    ),
    (e) => e === mine,
  );
  assert.equal(timers.length, 0);
});

test("timeout: the caller's signal rejects with its reason and aborts the call's signal", async () => {
  const { sleep, live } = manualTimers();
  const controller = new AbortController();
  let seen;
  const t = track(
    timeout(
      (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
      1000,
      { sleep, signal: controller.signal },
    ),
  );
  await flush();
  const reason = new Error('navigated away');
  controller.abort(reason);
  await t.done;
  assert.equal(t.error, reason);
  assert.equal(seen.aborted, true);
  assert.deepEqual(live(), [], 'the timer was cancelled');
  // Already aborted: rejects at once, the function never runs.
  let ran = false;
  await assert.rejects(
    timeout(
      () => {
        ran = true;
      },
      10,
      { signal: controller.signal },
    ),
    (e) => e === reason,
  );
  assert.equal(ran, false);
});

test('timeout: core validates the timeout; a non-function rejects with a TypeError', async () => {
  assert.throws(() => timeout(async () => 1, 0), (e) => e instanceof ConfigError && e.parameter === 'timeoutMs' && e.kind === 'too_small');
  assert.throws(() => new Timeout({ timeoutMs: 1, scope: 'forever' }), (e) => e instanceof ConfigError && e.parameter === 'scope');
  await assert.rejects(timeout(undefined, 10), (e) => e instanceof TypeError && /timeout: fn must be a function/.test(e.message));
  await assert.rejects(new Timeout().execute(3), TypeError);
  const t = new Timeout({ timeoutMs: 1500, scope: 'attempt' });
  assert.deepEqual([t.timeoutMs, t.scope, new Timeout().timeoutMs, new Timeout().scope], [1500, 'attempt', 30000, 'total']);
});

test('timeout: the default timer is a real setTimeout, cleared when the call answers', async () => {
  assert.equal(await timeout(async () => 'ok', 60_000), 'ok');
  // A timer left behind would keep this process alive for a minute: the
  // leaks test (cancellation.test.mjs) checks the process exits promptly.
});

test('an attempt timeout aborts the attempt, which is retried; the last timeout rejects with a TimeoutError', async () => {
  const { sleep, timers } = manualTimers();
  const policy = new RetryPolicy({ maxAttempts: 2, attemptTimeoutMs: 100, baseDelayMs: 0, jitter: false });
  const events = [];
  const executor = new RetryExecutor(policy, { sleep, onEvent: (e) => events.push(e) });
  const signals = [];
  const t = track(
    executor.execute((attempt, signal) => {
      signals.push(signal);
      return new Promise(() => {});
    }),
  );
  await flush();
  timers[0].fire(); // attempt 1 times out
  await flush();
  timers[1].fire(); // the zero wait before attempt 2 (through the injected sleep)
  await flush();
  timers[2].fire(); // attempt 2 times out
  await t.done;
  assert.ok(t.error instanceof TimeoutError);
  assert.deepEqual(
    timers.map((x) => x.ms),
    [100, 0, 100],
  );
  assert.ok(signals.every((s) => s.aborted && s.reason instanceof TimeoutError));
  assert.deepEqual(
    events.map((e) => e.type),
    ['timeout', 'retry_scheduled', 'timeout', 'gave_up'],
  );
  assert.equal(events[1].error, signals[0].reason);
  assert.deepEqual(events[3], { type: 'gave_up', attempts: 2, reason: 'exhausted' });
});

test('an attempt that answers in time cancels its timer; the filter is never asked about a timeout', async () => {
  const { sleep, timers, live } = manualTimers();
  let asked = 0;
  const policy = new RetryPolicy({
    maxAttempts: 3,
    attemptTimeoutMs: 50,
    baseDelayMs: 0,
    retryableErrors: () => {
      asked += 1;
      return false;
    },
  });
  const executor = new RetryExecutor(policy, { sleep });
  let calls = 0;
  const t = track(
    executor.execute(async (attempt, signal) => {
      calls += 1;
      if (attempt === 1) return new Promise(() => {}); // times out
      assert.equal(signal.aborted, false);
      return 'second';
    }),
  );
  await flush();
  timers[0].fire();
  await flush();
  timers[1].fire(); // the wait
  await t.done;
  assert.equal(t.value, 'second');
  assert.equal(calls, 2);
  assert.equal(asked, 0, 'rule attempt_timeout_retryable: the filter judges the user errors only');
  assert.deepEqual(live(), []);
});

test('the deadline: a wait that would cross max_elapsed gives up with reason deadline', async () => {
  let now = 0;
  const slept = [];
  const gaveUp = [];
  const policy = new RetryPolicy({ maxAttempts: 10, baseDelayMs: 1000, backoff: 'fixed', jitter: false, maxElapsedMs: 2500 });
  const executor = new RetryExecutor(policy, {
    clock: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    onGiveUp: (attempts, reason) => gaveUp.push([attempts, reason]),
  });
  const down = new Error('down');
  await assert.rejects(
    executor.execute(async () => {
      now += 100;
      throw down;
    }),
    (e) => e === down,
  );
  assert.deepEqual(slept, [1000, 1000]);
  assert.deepEqual(gaveUp, [[3, 'deadline']]);
  assert.equal(policy.maxElapsedMs, 2500);
  assert.equal(policy.attemptTimeoutMs, undefined);
});

test('result predicates: a value judged a failure is retried; the last one resolves when retries run out', async () => {
  const events = [];
  const policy = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 10, jitter: false, retryableResult: (v) => v.status === 503 });
  const executor = new RetryExecutor(policy, { sleep: async () => {}, onEvent: (e) => events.push(e) });
  const answers = [{ status: 503 }, { status: 503 }, { status: 503 }];
  const got = await executor.execute(async (attempt) => answers[attempt - 1]);
  assert.equal(got, answers[2], 'the last value, the same object');
  assert.deepEqual(
    events.map((e) => [e.type, e.result ?? e.reason]),
    [
      ['retry_scheduled', answers[0]],
      ['retry_scheduled', answers[1]],
      ['gave_up', 'exhausted'],
    ],
  );
  assert.ok(!('error' in events[0]));
  // An accepted value ends it at once.
  assert.equal(await executor.execute(async () => ({ status: 200 })).then((r) => r.status), 200);
});

test('a result predicate that throws accepts the value, and is reported', async (t) => {
  const warned = t.mock.method(console, 'warn', () => {});
  const policy = new RetryPolicy({
    retryableResult: () => {
      throw new Error('predicate bug');
    },
  });
  assert.equal(await new RetryExecutor(policy).execute(async () => 'kept'), 'kept');
  assert.equal(warned.mock.callCount(), 1);
  assert.match(String(warned.mock.calls[0].arguments[0]), /retryableResult threw; the value is accepted/);
  assert.throws(() => new RetryPolicy({ retryableResult: 3 }), (e) => e instanceof ConfigError && e.parameter === 'retryableResult');
});

test('the attempt gets a signal that never aborts when nothing can cancel it', async () => {
  const seen = [];
  await new RetryExecutor(new RetryPolicy()).execute((attempt, signal) => seen.push(signal));
  await new RetryExecutor(new RetryPolicy({ retryableResult: () => false })).execute((attempt, signal) => seen.push(signal));
  assert.equal(seen[0], seen[1]);
  assert.equal(seen[0].aborted, false);
});

test('an onEvent listener that throws is reported and changes nothing', async (t) => {
  const warned = t.mock.method(console, 'warn', () => {});
  const executor = new RetryExecutor(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }), {
    sleep: async () => {},
    onEvent: () => {
      throw new Error('listener bug');
    },
  });
  let n = 0;
  assert.equal(await executor.execute(async () => (n++ === 0 ? Promise.reject(new Error('x')) : 'ok')), 'ok');
  assert.equal(warned.mock.callCount(), 1);
  assert.match(String(warned.mock.calls[0].arguments[0]), /onEvent threw/);
});

test('an injected sleep that throws or rejects never fires the timer: the call decides', async () => {
  const throwing = () => {
    throw new Error('sleep bug');
  };
  const rejecting = () => Promise.reject(new Error('sleep bug'));
  for (const sleep of [throwing, rejecting]) {
    const d = deferred();
    const t = track(timeout(() => d.promise, 10, { sleep }));
    await flush();
    assert.equal(t.settled, false);
    d.resolve('answered');
    await t.done;
    assert.equal(t.value, 'answered');
  }
});
