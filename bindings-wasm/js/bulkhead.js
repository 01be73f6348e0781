// Bulkhead: who holds a slot and who waits is core's decision; the glue
// parks waiters on promises and wakes the one core hands a slot to. Every
// slot is core's checked handle, given back exactly once.

import { BulkheadRejectedError } from './errors.js';
import { both, eventTypes, listenerOption } from './events.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { optionalFunction } from './options.js';
import { withoutStack } from './rejections.js';
import { defaultSleep } from './timers.js';

let layerOf;

/** Package-internal: a bulkhead as a pipeline layer (`env.emit`: the pipeline's listener). */
export function bulkheadLayer(bulkhead, env) {
  return layerOf(bulkhead, env);
}

/** At most `maxConcurrent` calls at once; up to `maxQueueSize` more wait FIFO for `timeoutMs`. */
export class Bulkhead {
  #core;
  #sleep;
  #timeoutMs;
  /** Queued waiters by ticket: the function that wakes each. */
  #waiters = new Map();
  #emit;

  constructor(options = {}) {
    this.#sleep = optionalFunction(options, 'sleep') ?? defaultSleep;
    this.#emit = listenerOption(options);
    this.#core = new native.BulkheadCore(options.maxConcurrent, options.maxQueueSize, options.timeoutMs);
    this.#timeoutMs = this.#core.timeout_ms();
  }

  /** Slots in use. */
  get active() {
    return this.#core.active();
  }

  /** Calls waiting for a slot. */
  get queued() {
    return this.#core.queued();
  }

  /**
   * Runs `fn()` once a slot is free. Rejects with BulkheadRejectedError when
   * the queue is full or the wait times out; otherwise settles like `fn()`.
   */
  execute(fn) {
    if (typeof fn !== 'function') return rejectOperation('Bulkhead.execute', 'fn', fn);
    return this.#execute(fn, this.#emit);
  }

  static {
    layerOf = (bulkhead, env) => {
      const emit = both(bulkhead.#emit, env.emit);
      return (inner) => (signal, op) => bulkhead.#execute(() => inner(signal, op), emit);
    };
  }

  async #execute(fn, emit) {
    const core = this.#core;
    // A held slot (>= 0), or a BulkheadAdmission.
    let slot = core.try_acquire();
    const { Queued, QueueFull } = native.BulkheadAdmission;
    if (slot === QueueFull) throw this.#rejected(emit, 'queue_full', 'the queue is full');
    if (slot === Queued) {
      try {
        slot = await this.#waitForSlot(core.queued_ticket());
      } catch (error) {
        if (emit !== undefined) emit({ type: eventTypes().bulkheadRejected, reason: error.reason });
        throw error;
      }
    }
    try {
      return await fn();
    } finally {
      this.#release(slot);
    }
  }

  #rejected(emit, reason, detail) {
    if (emit !== undefined) emit({ type: eventTypes().bulkheadRejected, reason });
    // No stack frames: a full bulkhead fails fast (rejections.js, withoutStack).
    return withoutStack(() => new BulkheadRejectedError(reason, detail));
  }

  #release(slot) {
    // The ticket (>= 0) of the waiter handed the slot, or a BulkheadHandover
    // (no waiter; never SlotMisuse here: each slot is released once).
    const ticket = this.#core.release(slot);
    if (ticket >= 0) this.#waiters.get(ticket)?.();
  }

  /** Waits until a release hands `ticket` the slot (resolves with that slot), or the timeout passes. */
  #waitForSlot(ticket) {
    const timer = new AbortController();
    return new Promise((resolve, reject) => {
      this.#waiters.set(ticket, () => {
        this.#waiters.delete(ticket);
        timer.abort();
        resolve(this.#core.slot_of_ticket(ticket));
      });
      Promise.resolve(this.#sleep(this.#timeoutMs, timer.signal)).then(
        () => this.#timedOut(ticket, resolve, reject),
        () => {
          // The timer was cancelled because the slot arrived.
        },
      );
    });
  }

  #timedOut(ticket, resolve, reject) {
    if (!this.#waiters.has(ticket)) return; // already woken
    this.#waiters.delete(ticket);
    if (this.#core.cancel(ticket) === native.BulkheadCancel.AlreadyGranted) {
      // A release handed over the slot first: use it (core never leaks it).
      resolve(this.#core.slot_of_ticket(ticket));
    } else {
      reject(new BulkheadRejectedError('timeout', `no slot within ${this.#timeoutMs} ms`));
    }
  }
}
