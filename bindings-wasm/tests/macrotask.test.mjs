// How a zero-delay retry waits one macrotask in each kind of runtime:
// setImmediate (Node), else a MessageChannel message (browsers), else
// setTimeout(0). The choice is made when the module loads, so each case
// loads a fresh copy of the timers module under the globals of that runtime
// (kept in place for the whole test, restored after it).
import assert from 'node:assert/strict';
import { test } from 'node:test';

let copies = 0;

/** A fresh js/timers.js, with `globals` in place until the test ends. */
async function timersIn(t, globals) {
  const saved = Object.keys(globals).map((k) => [k, Object.getOwnPropertyDescriptor(globalThis, k)]);
  t.after(() => {
    for (const [k, d] of saved) {
      if (d === undefined) delete globalThis[k];
      else Object.defineProperty(globalThis, k, d);
    }
  });
  for (const [k, v] of Object.entries(globals)) {
    if (v === undefined) delete globalThis[k];
    else globalThis[k] = v;
  }
  copies += 1;
  return import(`../js/timers.js?runtime=${copies}`);
}

/** A MessageChannel stand-in: each message is delivered on a later timer. */
class FakeChannel {
  static created = 0;
  static posted = 0;
  constructor() {
    FakeChannel.created += 1;
    this.port1 = { onmessage: null };
    this.port2 = {
      postMessage: () => {
        FakeChannel.posted += 1;
        setTimeout(() => this.port1.onmessage?.({ data: null }), 0);
      },
    };
  }
}

test('without setImmediate, waiters are woken by channel messages, oldest first, over one channel', async (t) => {
  const { nextMacrotask } = await timersIn(t, { setImmediate: undefined, MessageChannel: FakeChannel });
  const order = [];
  await Promise.all([1, 2, 3].map((n) => nextMacrotask().then(() => order.push(n))));
  await nextMacrotask();
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(FakeChannel.created, 1, 'one channel serves every wait');
  assert.equal(FakeChannel.posted, 4, 'one message per wait');
});

test('with neither setImmediate nor MessageChannel, a zero-delay wait is a setTimeout(0)', async (t) => {
  const { nextMacrotask } = await timersIn(t, { setImmediate: undefined, MessageChannel: undefined });
  const order = [];
  setTimeout(() => order.push('timer queued first'), 0);
  await nextMacrotask().then(() => order.push('wait'));
  assert.deepEqual(order, ['timer queued first', 'wait']);
});
