// Timeouts: core validates the timeout (rule `timeout`); the glue races the
// call against one timer and, when the timer wins, aborts the call's
// AbortSignal with a TimeoutError — the call is cancelled, the timer and
// every listener are gone either way (as core's async `timeout` drops the
// future: an answer ready when the timer fires wins).

import { TimeoutError } from './errors.js';
import { both, eventTypes, listenerOption } from './events.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction, optionalSignal, wrongType } from './options.js';
import { rejectLater } from './rejections.js';
import { childController, startTimer } from './timers.js';

/** Timeout scopes and the strategy names core gives them. */
const SCOPES = Object.freeze({ total: 'total_timeout', attempt: 'attempt_timeout' });

/**
 * Runs `call(signal)` against a timer of `ms` (through `sleep` when given):
 * settles like the call, or rejects with a TimeoutError (after aborting the
 * call's signal with it and calling `expired(error)`) when the timer fires
 * first, or with `outer.reason` when `outer` aborts first. A call that
 * answers synchronously never starts the timer.
 */
export function runTimed(call, outer, ms, sleep, expired) {
  if (outer?.aborted) return Promise.reject(outer.reason);
  const { controller, unlink } = childController(outer);
  let result;
  try {
    result = call(controller.signal);
  } catch (error) {
    unlink();
    // Handled by the caller at once: no rejected promise waiting for a handler.
    return rejectLater(error);
  }
  if (result === null || (typeof result !== 'object' && typeof result !== 'function') || typeof result.then !== 'function') {
    unlink();
    return Promise.resolve(result);
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const signal = controller.signal;
    const finish = () => {
      done = true;
      cancelTimer();
      if (outer !== undefined) {
        unlink();
        signal.removeEventListener('abort', onAbort);
      }
    };
    // The caller's signal aborted (linked to ours): reject with its reason.
    // Without a caller's signal only our timer aborts ours: no listener.
    const onAbort = () => {
      if (done) return;
      finish();
      reject(signal.reason);
    };
    if (outer !== undefined) signal.addEventListener('abort', onAbort, { once: true });
    const cancelTimer = startTimer(ms, sleep, () => {
      if (done) return;
      const error = new TimeoutError(ms);
      finish();
      expired?.(error);
      controller.abort(error);
      reject(error);
    });
    Promise.resolve(result).then(
      (value) => {
        if (done) return;
        finish();
        resolve(value);
      },
      (error) => {
        if (done) return;
        finish();
        reject(error);
      },
    );
  });
}

let internals;

/** A timeout strategy: a call (or, with `scope: 'attempt'`, each attempt in a pipeline) may take `timeoutMs`. */
export class Timeout {
  #ms;
  #kind;
  #emit;
  #sleep;

  constructor(options = {}) {
    const core = new native.TimeoutCore(options.timeoutMs);
    this.#ms = core.timeout_ms();
    core.free();
    const scope = options.scope ?? 'total';
    if (!Object.hasOwn(SCOPES, scope)) throw wrongType('scope', "'total' or 'attempt'", scope);
    this.#kind = SCOPES[scope];
    this.#emit = listenerOption(options);
    this.#sleep = optionalFunction(options, 'sleep');
  }

  static {
    internals = {
      kind: (t) => t.#kind,
      layer: (t, env) => {
        const emit = both(t.#emit, env.emit);
        const sleep = t.#sleep ?? env.sleep;
        return (inner) => (signal, op) => t.#run((s) => inner(s, op), signal, emit, sleep);
      },
    };
  }

  /** How long a call may take, in ms. */
  get timeoutMs() {
    return this.#ms;
  }

  /** 'total' (the whole call) or 'attempt' (each attempt, inside a pipeline's retry and breaker). */
  get scope() {
    return this.#kind === SCOPES.total ? 'total' : 'attempt';
  }

  /**
   * Runs `fn(signal)`; rejects with a TimeoutError (and aborts `signal`
   * with it) when it takes longer than `timeoutMs`, or with the reason of
   * the `signal` option once that aborts.
   */
  execute(fn, options) {
    if (typeof fn !== 'function') return rejectOperation('Timeout.execute', 'fn', fn);
    return this.#run(fn, options === undefined ? undefined : optionalSignal(options, 'signal'), this.#emit, this.#sleep);
  }

  #run(call, signal, emit, sleep) {
    const expired =
      emit === undefined ? undefined : () => emit({ type: eventTypes().timeout, strategy: this.#kind, afterMs: this.#ms });
    return runTimed(call, signal, this.#ms, sleep, expired);
  }
}

/** Package-internal: a timeout's strategy name (core's). */
export function timeoutKind(t) {
  return internals.kind(t);
}

/**
 * Package-internal: a timeout as a pipeline layer; `env` is the pipeline's
 * listener and sleep (the timeout's own, when it has them, come first).
 */
export function timeoutLayer(t, env) {
  return internals.layer(t, env);
}

/**
 * Runs `fn(signal)` with a timeout of `ms`: settles like `fn`, or rejects
 * with a TimeoutError when it takes longer (its signal aborted with that
 * error). Options: `signal`, `onEvent`, `sleep`.
 */
export function timeout(fn, ms, options = {}) {
  if (typeof fn !== 'function') return rejectOperation('timeout', 'fn', fn);
  return new Timeout({ ...options, timeoutMs: ms }).execute(fn, { signal: options.signal });
}
