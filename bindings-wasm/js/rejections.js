// The cheap ways to hand a failure back as a promise (measured in bench/js,
// S4 and S5; see the README, "Size and speed").

/**
 * A promise that rejects with `error` one microtask from now. The caller
 * attaches its handler before then, so Node never counts it as a possibly
 * unhandled rejection: ~0.3 µs where `Promise.reject(error)` costs ~0.9 µs.
 * One that nobody handles is still reported as unhandled, as before.
 */
export function rejectLater(error) {
  return new Promise((_, reject) => {
    queueMicrotask(() => reject(error));
  });
}

/** Whether this engine lets the stack depth be set (V8: Node, Chromium). */
const stackDepthSettable = (() => {
  const d = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
  return d !== undefined && d.writable === true && typeof d.value === 'number';
})();

/**
 * `build()`'s error with no stack frames captured: a library rejection that
 * fails fast (an open breaker, a refused cell, a full bulkhead, a shed
 * request). Capturing the frames is most of the cost of such a rejection
 * (~2–8 µs with async frames, against ~0.7 µs without); what identifies one
 * is its class, `reason` and `retryAfterMs`, not the caller's frames. The
 * user's own errors never pass through here.
 */
export function withoutStack(build) {
  if (!stackDepthSettable) return build();
  const depth = Error.stackTraceLimit;
  if (typeof depth !== 'number' || depth === 0) return build();
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = depth;
  }
}
