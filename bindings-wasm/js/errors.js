// The errors the library creates. User errors never pass through here: they
// are rejected unchanged (the same object).

/** A circuit breaker refused the call; `retryAfterMs` is its remaining open time. */
export class BrokenCircuitError extends Error {
  /**
   * `reason`: 'open' (the break has not passed), 'trials_taken' (half-open,
   * every trial slot busy), 'isolated' (held open by `isolate()`;
   * `retryAfterMs` is then Infinity: only `close()` or `reset()` ends it) or
   * 'permits_exhausted' (65 536 calls in flight at once).
   */
  constructor(retryAfterMs, reason = 'open') {
    super();
    this.retryAfterMs = retryAfterMs;
    this.reason = reason;
  }

  // Built when read: an open breaker rejects many calls whose message nobody
  // reads, and formatting it up front costs ~1 µs per rejection (bench/js, S4).
  get message() {
    switch (this.reason) {
      case 'isolated':
        return 'circuit breaker is isolated (until close() or reset())';
      case 'trials_taken':
        return `circuit breaker is half-open and its trial calls are taken (retry after ${Math.ceil(this.retryAfterMs)} ms)`;
      case 'permits_exhausted':
        return 'circuit breaker has too many calls in flight';
      default:
        return `circuit breaker is open (retry after ${Math.ceil(this.retryAfterMs)} ms)`;
    }
  }
}

/** A bulkhead refused the call: its queue was full, or the wait timed out. */
export class BulkheadRejectedError extends Error {
  constructor(reason, detail) {
    super(`bulkhead rejected the call: ${detail}`);
    this.reason = reason;
  }
}

/**
 * An option broke one of core's rules. `kind` is core's name of the rule
 * broken ('wrong_type', 'not_an_integer', 'not_a_number', 'too_small',
 * 'too_large', 'unknown_name', 'below_other', 'requires_other'),
 * `parameter` the option as this API spells it, `got` the value given.
 * The message is core's (milliseconds, short whatever the value).
 */
export class ConfigError extends Error {
  constructor(message, { kind, parameter, got } = {}) {
    super(message);
    this.kind = kind;
    this.parameter = parameter;
    this.got = got;
  }
}

/**
 * A breaker's `initialState` could not be read: `reason` is 'malformed'
 * (not a snapshot: truncated, edited, another format) or
 * 'unsupported_version' (written by a newer release; `version` says which).
 * No breaker is built: never a silently closed one.
 */
export class SnapshotError extends Error {
  constructor(message, { reason, version } = {}) {
    super(message);
    this.reason = reason;
    if (version !== undefined) this.version = version;
  }
}

/**
 * A call or attempt did not finish within its timeout; its AbortSignal was
 * aborted with this error. `timeoutMs` is the timeout that expired.
 */
export class TimeoutError extends Error {
  constructor(timeoutMs) {
    super(`timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A rate limiter had no cell for the call. `retryAfterMs` is exactly how
 * long until the cells conform (Infinity when more were asked for at once
 * than the burst allows: `reason` 'exceeds_burst', never, so no wait).
 */
export class RateLimitedError extends Error {
  constructor(retryAfterMs, reason = 'limited') {
    super(
      reason === 'exceeds_burst'
        ? 'rate limited: more cells asked for at once than the burst allows'
        : `rate limited (retry after ${Math.ceil(retryAfterMs)} ms)`,
    );
    this.retryAfterMs = retryAfterMs;
    this.reason = reason;
  }
}

/**
 * An adaptive throttle shed the request locally (the backend has been
 * rejecting). `probability` is the rejection probability it was drawn
 * against; `retryAfterMs` the time until the oldest bucket of history
 * leaves the window: a suggested wait.
 */
export class ThrottledError extends Error {
  constructor(retryAfterMs, probability) {
    super(`request throttled locally (rejection probability ${Number(probability).toFixed(3)}, retry after ${Math.ceil(retryAfterMs)} ms)`);
    this.retryAfterMs = retryAfterMs;
    this.probability = probability;
  }
}

// Stable names that survive minification (`constructor.name` would not).
for (const [cls, name] of [
  [BrokenCircuitError, 'BrokenCircuitError'],
  [BulkheadRejectedError, 'BulkheadRejectedError'],
  [ConfigError, 'ConfigError'],
  [SnapshotError, 'SnapshotError'],
  [TimeoutError, 'TimeoutError'],
  [RateLimitedError, 'RateLimitedError'],
  [ThrottledError, 'ThrottledError'],
]) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}
