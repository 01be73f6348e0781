// Typed events: plain objects with a `type` (core's event names, read once
// from core's EventKind) told to the `onEvent` listener of a strategy and of
// the pipeline running it. No listener, no event object: every emit site
// checks for a listener first, so the success path is unchanged.

import { native } from './native.js';
import { optionalFunction } from './options.js';

let names;

/** Core's event names: { retryScheduled: 'retry_scheduled', … }. */
export function eventTypes() {
  if (names === undefined) {
    const [retryScheduled, gaveUp, breakerTransition, breakerRejected, timeout, hedgeStarted, fallbackUsed, bulkheadRejected] =
      native.event_names();
    names = Object.freeze({
      retryScheduled,
      gaveUp,
      breakerTransition,
      breakerRejected,
      timeout,
      hedgeStarted,
      fallbackUsed,
      bulkheadRejected,
      // Core has no event kind for these two yet (its EventKind lists the
      // eight above): the names core would give them, kept here until it does.
      rateLimited: 'rate_limited',
      throttled: 'throttled',
    });
  }
  return names;
}

/** The `onEvent` option as a listener that never throws, or undefined. */
export function listenerOption(options) {
  return guard(optionalFunction(options, 'onEvent'));
}

function guard(listener) {
  if (listener === undefined) return undefined;
  return (event) => {
    try {
      listener(event);
    } catch (e) {
      // A failing listener is reported, never allowed to change the call.
      console.warn('resilience-wasm: onEvent threw', e);
    }
  };
}

/** One listener telling both (either may be undefined). */
export function both(first, second) {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return (event) => {
    first(event);
    second(event);
  };
}
