// Bulkhead: who holds a slot and who waits is core's decision; the glue
// parks waiters on promises and wakes the one core hands a slot to.

import { BulkheadRejectedError, translatingConfigErrors } from './errors.js';
import { native } from './native.js';
import { rejectOperation } from './operations.js';
import { numberFor, optionalFunction } from './options.js';
import { defaultSleep } from './timers.js';

/** At most `maxConcurrent` calls at once; up to `maxQueueSize` more wait FIFO for `timeoutMs`. */
export class Bulkhead {
  #core;
  #sleep;
  #timeoutMs;
  /** Queued waiters by ticket: the function that wakes each. */
  #waiters = new Map();

  constructor(options = {}) {
    this.#sleep = optionalFunction(options, 'sleep') ?? defaultSleep;
    this.#core = translatingConfigErrors(
      () =>
        new native.BulkheadCore(
          numberFor(options.maxConcurrent),
          numberFor(options.maxQueueSize),
          numberFor(options.timeoutMs),
        ),
      options,
    );
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
    return this.#execute(fn);
  }

  async #execute(fn) {
    // A BulkheadAdmission, or else (>= 0) the ticket of a place in the queue.
    const admission = this.#core.try_acquire();
    const { Acquired, QueueFull } = native.BulkheadAdmission;
    if (admission === QueueFull) throw new BulkheadRejectedError('queue_full', 'the queue is full');
    if (admission !== Acquired) await this.#waitForSlot(admission);
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #release() {
    // The ticket (>= 0) of the waiter handed the slot, or BulkheadHandover.NoWaiter.
    const ticket = this.#core.release();
    if (ticket !== native.BulkheadHandover.NoWaiter) this.#waiters.get(ticket)?.();
  }

  /** Waits until a release hands `ticket` the slot, or the timeout passes. */
  #waitForSlot(ticket) {
    const timer = new AbortController();
    return new Promise((resolve, reject) => {
      this.#waiters.set(ticket, () => {
        this.#waiters.delete(ticket);
        timer.abort();
        resolve();
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
    if (this.#core.cancel(ticket)) {
      reject(new BulkheadRejectedError('timeout', `no slot within ${this.#timeoutMs} ms`));
    } else {
      // A release handed over the slot first: use it (core never leaks it).
      resolve();
    }
  }
}
