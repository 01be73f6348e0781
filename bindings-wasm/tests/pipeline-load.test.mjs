// A rate limiter and an adaptive throttle inside a pipeline: where core puts
// them, how the strategies around them treat their errors (core's rules
// `library_errors` and `rejection_hint`), what their listeners hear, and
// that nothing is left behind. Every clock is virtual: no real sleeps.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';

import {
  AdaptiveThrottle,
  Bulkhead,
  CircuitBreaker,
  FallbackChain,
  Hedge,
  pipeline,
  RateLimitedError,
  RateLimiter,
  RetryPolicy,
  ThrottledError,
  Timeout,
} from 'resilience-wasm';
import { withFakeTimers } from './helpers/fake-timers.mjs';
import { deferred, flush, track, VirtualTime } from './helpers/virtual-time.mjs';

/** A limiter of one cell per `perMs` whose cell someone else took at the clock's now. */
function exhaustedLimiter(clock, options = {}) {
  const limiter = new RateLimiter({ rate: 1, perMs: 1000, burst: 1, clock, ...options });
  assert.equal(limiter.tryAcquire(), true);
  return limiter;
}

/**
 * A seeded throttle that has seen `requests` requests and no accepts: it
 * sheds with probability requests / (requests + 1), and with this seed it
 * sheds the next draws.
 */
function rejectingThrottle(clock, options = {}, requests = 50) {
  const throttle = new AdaptiveThrottle({ k: 2, seed: 42, clock, ...options });
  for (let i = 0; i < requests; i += 1) throttle.tryAdmit();
  assert.equal(throttle.stats.accepts, 0);
  return throttle;
}

test('core places the limiter inside hedging and outside the bulkhead, the throttle innermost', () => {
  const limiter = new RateLimiter();
  const throttle = new AdaptiveThrottle();
  const p = pipeline(new RetryPolicy(), new CircuitBreaker(), new Hedge(), limiter, new Bulkhead(), throttle);
  assert.deepEqual(p.strategies, ['retry', 'breaker', 'hedging', 'rate_limiter', 'bulkhead', 'throttle']);
  assert.throws(() => pipeline(limiter, new Hedge()), { name: 'ConfigError', parameter: 'strategies', kind: 'out_of_order' });
  assert.throws(() => pipeline(limiter, limiter), { name: 'ConfigError', parameter: 'strategies', kind: 'duplicate' });
});

test("a limited attempt fails fast and the retry around it waits the limiter's exact wait, not its backoff", async () => {
  const vt = new VirtualTime();
  const events = [];
  const limiter = new RateLimiter({ rate: 10, perMs: 1000, burst: 1, clock: vt.clock });
  const p = pipeline(new RetryPolicy({ maxAttempts: 3, baseDelayMs: 10, jitter: 'none' }), limiter, {
    sleep: vt.sleep,
    clock: vt.clock,
    onEvent: (e) => events.push(e),
  });
  assert.equal(limiter.tryAcquire(), true); // someone else took this tenth of a second
  let runs = 0;
  const reply = await p.execute(async () => {
    runs += 1;
    return 'reply';
  });
  assert.equal(reply, 'reply');
  assert.equal(runs, 1, 'the limited attempt never ran the operation');
  assert.deepEqual(vt.sleepsNs, [100_000_000], 'the wait is the limiter’s 100 ms, not the 10 ms backoff');
  assert.deepEqual(
    events.map((e) => [e.type, e.retryAfterMs ?? e.delayMs]),
    [
      ['rate_limited', 100],
      ['retry_scheduled', 100],
    ],
  );
  assert.ok(events[1].error instanceof RateLimitedError, 'the retry was scheduled for the RateLimitedError');
});

test('a limited last attempt surfaces the RateLimitedError with its exact wait', async () => {
  const vt = new VirtualTime();
  const limiter = exhaustedLimiter(vt.clock);
  const p = pipeline(new RetryPolicy({ maxAttempts: 1 }), limiter, { sleep: vt.sleep, clock: vt.clock });
  await assert.rejects(
    p.execute(() => assert.fail('a limited attempt never runs')),
    (e) => e instanceof RateLimitedError && e.retryAfterMs === 1000 && e.reason === 'limited',
  );
  assert.deepEqual(vt.sleepsNs, []);
});

test("a shed request is paced by the retry's own backoff; the operation never runs while shed", async () => {
  const vt = new VirtualTime();
  const events = [];
  const throttle = rejectingThrottle(vt.clock);
  const p = pipeline(new RetryPolicy({ maxAttempts: 3, baseDelayMs: 100, jitter: 'none' }), throttle, {
    sleep: vt.sleep,
    clock: vt.clock,
    onEvent: (e) => events.push(e),
  });
  const error = await p.execute(() => assert.fail('a shed request never runs')).catch((e) => e);
  assert.ok(error instanceof ThrottledError, `${error}`);
  // The throttle suggests waiting until its history leaves the window (seconds); core's
  // rule rejection_hint makes that no hint: the retry waits its own backoff.
  assert.ok(error.retryAfterMs > 1000, `${error.retryAfterMs}`);
  assert.deepEqual(vt.sleepsNs, [100_000_000, 200_000_000]);
  const shed = events.filter((e) => e.type === 'throttled');
  assert.equal(shed.length, 3);
  assert.deepEqual(shed.at(-1), { type: 'throttled', retryAfterMs: error.retryAfterMs, probability: error.probability });
  // Each shed request still counts as a request of the window (core's rule).
  assert.equal(throttle.stats.requests, 53);
  assert.deepEqual(events.at(-1), { type: 'gave_up', attempts: 3, reason: 'exhausted' });
});

test("an admitted request is recorded as the throttle's isAccepted judges it, through core's rule", async (t) => {
  const clock = () => 0;
  const judged = [];
  const throttle = new AdaptiveThrottle({
    clock,
    isAccepted: (outcome) => {
      judged.push(outcome);
      return outcome.ok && outcome.value !== 503;
    },
  });
  const p = pipeline(throttle);
  assert.equal(await p.execute(async () => 200), 200);
  assert.equal(await p.execute(async () => 503), 503, 'a value not accepted is still returned');
  const down = new Error('down');
  await assert.rejects(p.execute(() => Promise.reject(down)), (e) => e === down);
  assert.deepEqual(judged, [
    { ok: true, value: 200 },
    { ok: true, value: 503 },
    { ok: false, error: down },
  ]);
  assert.deepEqual([throttle.stats.requests, throttle.stats.accepts], [3, 1]);

  // A predicate that throws: core's rule failing_predicate says "not accepted"; the value still returns.
  const warned = t.mock.method(console, 'warn', () => {});
  const buggy = new AdaptiveThrottle({
    clock,
    isAccepted: () => {
      throw new Error('bug');
    },
  });
  assert.equal(await pipeline(buggy).execute(() => 'value'), 'value');
  assert.deepEqual([buggy.stats.requests, buggy.stats.accepts], [1, 0]);
  assert.match(String(warned.mock.calls[0].arguments[0]), /isAccepted threw; the call counts as not accepted/);
});

test("an attempt cancelled by its timeout is not judged: the error is the cancellation's, not the backend's", async () => {
  const vt = new VirtualTime();
  const judged = [];
  const throttle = new AdaptiveThrottle({ clock: vt.clock, isAccepted: (o) => judged.push(o) > 0 });
  const p = pipeline(new Timeout({ timeoutMs: 50, scope: 'attempt' }), throttle, { sleep: vt.sleep, clock: vt.clock });
  const hang = (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  await assert.rejects(p.execute(hang), { name: 'TimeoutError' });
  assert.deepEqual(judged, []);
  assert.deepEqual([throttle.stats.requests, throttle.stats.accepts], [1, 0]);
});

test("neither a limited nor a shed call is the breaker's failure", async () => {
  const clock = () => 0;
  const breaker = new CircuitBreaker({ failureThreshold: 1, clock });
  const limited = pipeline(breaker, exhaustedLimiter(clock));
  await assert.rejects(limited.execute(() => 1), RateLimitedError);
  const shed = pipeline(breaker, rejectingThrottle(clock));
  await assert.rejects(shed.execute(() => 1), ThrottledError);
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.failureCount, 0);
  // The same breaker still counts the operation's own failure.
  await assert.rejects(pipeline(breaker).execute(() => Promise.reject(new Error('down'))), /down/);
  assert.equal(breaker.state, 'open');
});

test('a fallback answers for a limited call and for a shed one', async () => {
  const clock = () => 0;
  const events = [];
  const chain = () => new FallbackChain([async () => 'cached']);
  const onEvent = (e) => events.push(e.type);
  assert.equal(await pipeline(chain(), exhaustedLimiter(clock), { onEvent }).execute(() => 'live'), 'cached');
  assert.equal(await pipeline(chain(), rejectingThrottle(clock), { onEvent }).execute(() => 'live'), 'cached');
  assert.deepEqual(events, ['rate_limited', 'fallback_used', 'throttled', 'fallback_used']);
});

test('each hedged copy asks the limiter for its own cell; a limited copy has failed and the other wins', async () => {
  const vt = new VirtualTime();
  const events = [];
  const limiter = new RateLimiter({ rate: 1, perMs: 1000, burst: 1, clock: vt.clock });
  const p = pipeline(new Hedge({ delayMs: 0, maxHedgedAttempts: 1 }), limiter, {
    sleep: vt.sleep,
    clock: vt.clock,
    onEvent: (e) => events.push(e.type),
  });
  const answer = deferred();
  let runs = 0;
  const t = track(
    p.execute(() => {
      runs += 1;
      return answer.promise;
    }),
  );
  await flush();
  assert.equal(t.settled, false, 'the limited copy alone does not end the call');
  answer.resolve('first');
  await t.done;
  assert.equal(t.value, 'first');
  assert.equal(runs, 1);
  assert.deepEqual(events, ['hedge_started', 'rate_limited']);
});

test("the strategies' own listeners hear their events in a pipeline, with core's fields", async () => {
  const clock = () => 0;
  const own = [];
  const all = [];
  const limiter = exhaustedLimiter(clock, { onEvent: (e) => own.push(e) });
  const throttle = rejectingThrottle(clock, { onEvent: (e) => own.push(e) });
  own.length = 0; // what the listener heard while the history was seeded
  const onEvent = (e) => all.push(e);
  const limited = await pipeline(limiter, { onEvent }).execute(() => 1).catch((e) => e);
  const shed = await pipeline(throttle, { onEvent }).execute(() => 1).catch((e) => e);
  const expected = [
    { type: 'rate_limited', retryAfterMs: limited.retryAfterMs, reason: 'limited' },
    { type: 'throttled', retryAfterMs: shed.retryAfterMs, probability: shed.probability },
  ];
  assert.equal(limited.retryAfterMs, 1000);
  assert.ok(shed.probability > 0.9, `${shed.probability}`);
  assert.deepEqual(own, expected);
  assert.deepEqual(all, expected);
});

test('a listener that throws is reported and never changes the call', async (t) => {
  const warned = t.mock.method(console, 'warn', () => {});
  const vt = new VirtualTime();
  const boom = () => {
    throw new Error('listener bug');
  };
  const limiter = exhaustedLimiter(vt.clock, { onEvent: boom });
  const p = pipeline(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, jitter: 'none' }), limiter, {
    sleep: vt.sleep,
    clock: vt.clock,
    onEvent: boom,
  });
  assert.equal(await p.execute(() => 'after the wait'), 'after the wait');
  assert.deepEqual(vt.sleepsNs, [1_000_000_000]);
  const shed = pipeline(rejectingThrottle(vt.clock, { onEvent: boom }), { onEvent: boom });
  await assert.rejects(shed.execute(() => 1), ThrottledError);
  const messages = warned.mock.calls.map((c) => String(c.arguments[0]));
  assert.ok(messages.length >= 4, messages.join('\n'));
  assert.ok(messages.every((m) => /onEvent threw/.test(m)), messages.join('\n'));
});

test('nothing is left behind: no timer pending, no abort listener on the caller’s signal', async () => {
  await withFakeTimers(async (timers) => {
    // No sleep option: the strategies' timers are setTimeout's (faked: no real waiting).
    const controller = new AbortController();
    const { signal } = controller;
    // (A Timeout would fire at once on these timers: the timeout suites cover its timer.)
    const strategies = () => [
      new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, jitter: 'none' }),
      new Hedge({ delayMs: 50, maxHedgedAttempts: 1 }),
    ];
    // Limited on every attempt: the retry waits the limiter's exact wait once, then gives up.
    const limited = pipeline(...strategies(), exhaustedLimiter(() => 0), new AdaptiveThrottle({ seed: 1, clock: () => 0 }));
    await assert.rejects(limited.execute(async () => 'never', { signal }), RateLimitedError);
    assert.ok(timers.delays.includes(1000), `the retry slept the limiter's 1000 ms: ${timers.delays}`);
    // Admitted and answered.
    const open = pipeline(...strategies(), new RateLimiter({ clock: () => 0 }), new AdaptiveThrottle({ seed: 1, clock: () => 0 }));
    assert.equal(await open.execute(async () => 'ok', { signal }), 'ok');
    await flush();
    assert.equal(timers.pending.size, 0, 'every timer fired or was cleared');
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });
});
