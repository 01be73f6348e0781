// Sleeping and cancellation. Every wait here removes the listener it added
// and clears the timer it started, whichever way it ends.

/** setTimeout fires at once for delays beyond this (2^31 - 1 ms). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Sleeps `ms` through setTimeout; aborting `signal` rejects with its reason. */
export function defaultSleep(ms, signal) {
  const wait = Math.min(ms, MAX_TIMEOUT_MS);
  if (signal === undefined) {
    return new Promise((resolve) => setTimeout(resolve, wait));
  }
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, wait);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves on a later macrotask, so that timers, I/O and abort events queued
 * meanwhile run first: a zero-delay retry storm must not starve the event
 * loop (an `AbortSignal.timeout` could not fire). setImmediate where there is
 * one (Node); else a MessageChannel message (browsers, where a nested
 * setTimeout(0) waits >= 4 ms); else setTimeout(0).
 */
export const nextMacrotask = pickMacrotask();

function pickMacrotask() {
  if (typeof setImmediate === 'function') return () => new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    let channel;
    const waiting = [];
    return () =>
      new Promise((resolve) => {
        if (channel === undefined) {
          channel = new MessageChannel();
          // One message per waiter, delivered in order: resolve the oldest.
          channel.port1.onmessage = () => waiting.shift()?.();
        }
        waiting.push(resolve);
        channel.port2.postMessage(null);
      });
  }
  return () => new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Settles like `value` (a promise or a plain value), unless `signal` aborts
 * first: then rejects at once with `signal.reason`. A late settlement of
 * `value` is absorbed (no unhandled rejection).
 */
export function raceAbort(value, signal) {
  if (signal.aborted) {
    Promise.resolve(value).catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(value).then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Whether an error is a cancellation, which is never retried. */
export function isAbortError(error) {
  return error !== null && typeof error === 'object' && error.name === 'AbortError';
}

let never;

/**
 * A signal that never aborts: what an attempt gets when nothing can cancel
 * it (no timeout, no caller's signal), so the user's function always has
 * one to pass on (to fetch, say) at no cost per call.
 */
export function neverAborted() {
  never ??= new AbortController().signal;
  return never;
}

/**
 * A controller aborted when `outer` aborts (with its reason), and a
 * function that removes the listener this added. `outer` may be undefined;
 * callers check an already-aborted `outer` first.
 */
export function childController(outer) {
  const controller = new AbortController();
  if (outer === undefined) return { controller, unlink: noop };
  const onAbort = () => controller.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => outer.removeEventListener('abort', onAbort) };
}

function noop() {}

/**
 * Starts a timer of `ms` through `sleep` (injected) or setTimeout; calls
 * `fire` when it expires. Returns a function that cancels it (clearing the
 * timer, or aborting the injected sleep's signal) — idempotent.
 */
export function startTimer(ms, sleep, fire) {
  if (sleep === undefined) {
    const timer = setTimeout(fire, Math.min(ms, MAX_TIMEOUT_MS));
    return () => clearTimeout(timer);
  }
  const cancel = new AbortController();
  let slept;
  try {
    slept = Promise.resolve(sleep(ms, cancel.signal));
  } catch (error) {
    slept = Promise.reject(error);
  }
  slept.then(
    () => {
      if (!cancel.signal.aborted) fire();
    },
    () => {
      // Cancelled (or a sleep that failed): the timer never fires.
    },
  );
  return () => cancel.abort();
}
