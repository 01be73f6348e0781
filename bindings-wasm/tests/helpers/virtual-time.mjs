// Virtual time for tests: a clock that only moves when slept on or advanced,
// kept in integer nanoseconds so expected values compare exactly.

export class VirtualTime {
  /** Current time in integer nanoseconds. */
  nowNs = 0;
  /** Every requested sleep, in nanoseconds (rounded from the ms given). */
  sleepsNs = [];

  /** A clock option: milliseconds since the virtual origin. */
  clock = () => this.nowNs / 1e6;

  /** A sleep option: records the delay and advances time at once. */
  sleep = async (ms) => {
    const ns = Math.round(ms * 1e6);
    this.sleepsNs.push(ns);
    this.nowNs += ns;
  };

  advanceMs(ms) {
    this.nowNs += Math.round(ms * 1e6);
  }
}

/** Runs every pending microtask and I/O callback. */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve/reject, for operations the test completes by hand. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Observes a promise's settlement without awaiting it. */
export function track(promise) {
  const t = { settled: false, value: undefined, error: undefined, rejected: false };
  t.done = promise.then(
    (v) => Object.assign(t, { settled: true, value: v }),
    (e) => Object.assign(t, { settled: true, rejected: true, error: e }),
  );
  return t;
}
