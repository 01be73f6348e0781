// Typed events: plain objects with a `type` (core's event names, read once
// from core's EventKind) told to the `onEvent` listener of a strategy and of
// the pipeline running it. No listener, no event object: every emit site
// checks for a listener first, so the success path is unchanged.

import { native } from './native.js';
import { optionalFunction } from './options.js';

let names;

/**
 * Core's event names keyed by their camelCase (`retry_scheduled` as
 * `retryScheduled`): every kind core's EventKind lists, read from core.
 */
export function eventTypes() {
  names ??= Object.freeze(Object.fromEntries(native.event_names().map((n) => [camel(n), n])));
  return names;
}

function camel(name) {
  return name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
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
