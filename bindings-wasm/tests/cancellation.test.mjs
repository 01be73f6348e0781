// Cancellation releases everything: a losing hedge and a timed-out attempt
// leave no timer and no listener behind, so a Node process that used them
// exits as soon as its work is done (each scenario runs in a child process
// whose slow operations honour their AbortSignal by clearing an hour-long
// timer; a timer or listener left behind would keep the child alive until
// the test's generous kill).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PKG = fileURLToPath(new URL('..', import.meta.url));

function runChild(code) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: PKG, encoding: 'utf8', timeout: 60_000 });
  return r;
}

/** An operation that takes an hour unless its signal aborts (then it clears its timer and rejects). */
const SLOW = `
const slow = (signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, 3_600_000, 'slow');
  signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
});
const listeners = new Map();
const realAdd = EventTarget.prototype.addEventListener;
const realRemove = EventTarget.prototype.removeEventListener;
EventTarget.prototype.addEventListener = function (type, fn, o) { listeners.set(fn, this); return realAdd.call(this, type, fn, o); };
EventTarget.prototype.removeEventListener = function (type, fn, o) { listeners.delete(fn); return realRemove.call(this, type, fn, o); };
`;

test('a losing hedge is cancelled: its signal fires, no timer or listener is left, the process exits', () => {
  const r = runChild(`${SLOW}
import { hedge } from 'resilience-wasm';
const outer = new AbortController();
let n = 0;
const answer = await hedge((signal) => (++n === 1 ? slow(signal) : Promise.resolve('hedged')), { delayMs: 5, signal: outer.signal });
// The outer signal's listener is removed; the loser's own listener fired once (once: true).
const left = [...listeners.values()].filter((target) => target === outer.signal);
console.log(answer, n, left.length);
`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'hedged 2 0');
});

test('a timed-out attempt is cancelled and retried; nothing is left; the process exits', () => {
  const r = runChild(`${SLOW}
import { RetryExecutor, RetryPolicy, timeout, pipeline, CircuitBreaker } from 'resilience-wasm';
const outer = new AbortController();
const executor = new RetryExecutor(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, attemptTimeoutMs: 5 }), { signal: outer.signal });
const first = await executor.execute((attempt, signal) => (attempt === 1 ? slow(signal) : 'retried'));
const second = await timeout((signal) => slow(signal), 5).catch((e) => e.name);
const third = await pipeline(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, attemptTimeoutMs: 5 }), new CircuitBreaker())
  .execute((signal) => slow(signal), { signal: outer.signal }).catch((e) => e.name);
const left = [...listeners.values()].filter((target) => target === outer.signal);
console.log(first, second, third, left.length);
`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'retried TimeoutError TimeoutError 0');
});
