// Hedging beyond the conformance timings: cancellation, events, misuse.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, Hedge, hedge } from 'resilience-wasm';
import { deferred, flush, track } from './helpers/virtual-time.mjs';

test('a zero delay starts every copy at once; the first answer wins and the others are aborted', async () => {
  const copies = [];
  const events = [];
  const t = track(
    hedge(
      (signal, attempt) => {
        const d = deferred();
        copies.push({ attempt, signal, d });
        return d.promise;
      },
      { delayMs: 0, maxHedgedAttempts: 2, onEvent: (e) => events.push(e) },
    ),
  );
  await flush();
  assert.deepEqual(
    copies.map((c) => c.attempt),
    [1, 2, 3],
  );
  copies[1].d.resolve('second');
  await t.done;
  assert.equal(t.value, 'second');
  assert.deepEqual(
    copies.map((c) => c.signal.aborted),
    [true, false, true],
  );
  assert.deepEqual(events, [
    { type: 'hedge_started', attempt: 2 },
    { type: 'hedge_started', attempt: 3 },
  ]);
  // Late answers change nothing.
  copies[0].d.resolve('late');
  copies[2].d.reject(new Error('late'));
  await flush();
});

test("the caller's signal aborts every copy and rejects with its reason", async () => {
  const controller = new AbortController();
  const copies = [];
  const h = new Hedge({ delayMs: 0, maxHedgedAttempts: 1 });
  const t = track(
    h.execute(
      (signal) => {
        copies.push(signal);
        return new Promise(() => {});
      },
      { signal: controller.signal },
    ),
  );
  await flush();
  const reason = new Error('stop');
  controller.abort(reason);
  await t.done;
  assert.equal(t.error, reason);
  assert.ok(copies.every((s) => s.aborted && s.reason === reason));
  await assert.rejects(h.execute(async () => 1, { signal: controller.signal }), (e) => e === reason);
});

test('every copy failing surfaces the last failure; a synchronous throw is a failed copy', async () => {
  const last = new Error('second');
  let n = 0;
  await assert.rejects(
    hedge(
      () => {
        n += 1;
        if (n === 1) throw new Error('first');
        return Promise.reject(last);
      },
      { delayMs: 1000 },
    ),
    (e) => e === last,
  );
  assert.equal(n, 2, 'a failure starts the next copy at once, without waiting for the delay');
});

test('isFailureResult: a bad value is not an answer; a predicate that throws accepts the value', async (t) => {
  let n = 0;
  assert.equal(
    await hedge(async () => (++n === 1 ? 'bad' : 'good'), { delayMs: 1000, isFailureResult: (v) => v === 'bad' }),
    'good',
  );
  const warned = t.mock.method(console, 'warn', () => {});
  assert.equal(
    await hedge(async () => 'kept', {
      isFailureResult: () => {
        throw new Error('bug');
      },
    }),
    'kept',
  );
  assert.match(String(warned.mock.calls[0].arguments[0]), /isFailureResult threw; the value is an answer/);
});

test('the default timer starts the hedge after the delay, and is cleared when the answer comes', async () => {
  // A delay long enough that the hedge never starts: the answer clears the timer.
  assert.equal(await hedge(async () => 'fast', { delayMs: 60_000 }), 'fast');
});

test('core validates the options; a non-function rejects with a TypeError', async () => {
  assert.throws(() => new Hedge({ maxHedgedAttempts: 11 }), (e) => e instanceof ConfigError && e.parameter === 'maxHedgedAttempts');
  assert.throws(() => new Hedge({ delayMs: -1 }), (e) => e instanceof ConfigError && e.parameter === 'delayMs' && /^invalid delayMs: /.test(e.message));
  await assert.rejects(hedge('nope'), TypeError);
  await assert.rejects(new Hedge().execute(null), TypeError);
  const h = new Hedge();
  assert.deepEqual([h.delayMs, h.maxHedgedAttempts], [2000, 1]);
});
