// Replaces the global setTimeout/clearTimeout while `body` runs: timers fire
// on the next macrotask instead of after their delay, and every delay asked
// for is recorded. No real waiting in tests.

export async function withFakeTimers(body) {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const timers = { delays: [], pending: new Set(), cleared: 0 };
  globalThis.setTimeout = (fn, delay, ...args) => {
    timers.delays.push(delay);
    const handle = setImmediate(() => {
      timers.pending.delete(handle);
      fn(...args);
    });
    timers.pending.add(handle);
    return handle;
  };
  globalThis.clearTimeout = (handle) => {
    if (timers.pending.delete(handle)) {
      clearImmediate(handle);
      timers.cleared += 1;
    } else realClear(handle);
  };
  try {
    return await body(timers);
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
}
