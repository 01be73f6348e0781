// The rate limiter and the adaptive throttle as pipeline layers. Where they
// sit is core's rule `pipeline_order` (the limiter inside hedging, so each
// attempt and each hedged copy asks for its own cell, and outside the
// bulkhead, so a limited call takes no slot; the throttle innermost, so it
// counts exactly the requests the backend sees). Each layer asks core,
// turns a refusal into the library's error and, for the retry around it,
// records core's rule `rejection_hint` on that error.

import { both } from './events.js';
import { rejectionHints } from './library.js';
import { limiterAcquired, limiterInternals, throttleInternals } from './load.js';

/** Records core's hint (ms; NaN: none) on `error` for the retry around the layer. */
function hinted(error, hintMs) {
  if (!Number.isNaN(hintMs)) rejectionHints.set(error, hintMs);
  return Promise.reject(error);
}

/**
 * Package-internal: a rate limiter as a pipeline layer. Each run takes one
 * cell now or fails fast with a RateLimitedError whose exact wait is core's
 * hint (the retry outside waits exactly that); it never waits itself.
 */
export function limiterLayer(limiter, env) {
  const { core, emit: own, ask, refused } = limiterInternals(limiter);
  const emit = both(own, env.emit);
  return (inner) => (signal, op) => {
    const answer = ask();
    if (!limiterAcquired(answer)) return hinted(refused(answer, emit), core.rejection_hint_ms());
    return inner(signal, op);
  };
}

/**
 * Package-internal: an adaptive throttle as a pipeline layer. Each run is
 * shed with a ThrottledError (its suggested wait is no hint unless core
 * says so: the retry's own backoff paces it) or admitted, and the answer
 * is recorded as `isAccepted` judges it. A run that failed once its
 * signal was aborted (a timeout, a lost hedge) records nothing: that error
 * is the cancellation's, the backend's answer never came (a value that
 * still arrives is the backend's answer, and is recorded).
 */
export function throttleLayer(throttle, env) {
  const { core, emit: own, admit, report } = throttleInternals(throttle);
  const emit = both(own, env.emit);
  return (inner) => (signal, op) => {
    const shed = admit(emit);
    if (shed !== undefined) return hinted(shed, core.rejection_hint_ms());
    let result;
    try {
      result = inner(signal, op);
    } catch (error) {
      // The operation threw at once: recorded as a rejection is, and left to
      // the layer around, which catches a synchronous throw (calls.js).
      if (!signal?.aborted) report(false, error);
      throw error;
    }
    return Promise.resolve(result).then(
      (value) => {
        report(true, value);
        return value;
      },
      (error) => {
        if (!signal?.aborted) report(false, error);
        throw error;
      },
    );
  };
}
