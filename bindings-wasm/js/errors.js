// The errors the library creates. User errors never pass through here: they
// are rejected unchanged (the same object).

import { describe, inMilliseconds } from './render.js';

/** A circuit breaker refused the call; `retryAfterMs` is its remaining open time. */
export class BrokenCircuitError extends Error {
  constructor(retryAfterMs) {
    super();
    this.retryAfterMs = retryAfterMs;
  }

  // Built when read: an open breaker rejects many calls whose message nobody
  // reads, and formatting it up front costs ~1 µs per rejection (bench/js, S4).
  get message() {
    return `circuit breaker is open (retry after ${Math.ceil(this.retryAfterMs)} ms)`;
  }
}

/** A bulkhead refused the call: its queue was full, or the wait timed out. */
export class BulkheadRejectedError extends Error {
  constructor(reason, detail) {
    super(`bulkhead rejected the call: ${detail}`);
    this.reason = reason;
  }
}

/** An option was outside its allowed range. */
export class ConfigError extends Error {
  /** `gotText` renders `got` in the message when given (core's own rendering). */
  constructor(parameter, requirement, got, gotText = describe(got)) {
    super(`invalid ${parameter}: must be ${requirement}, got ${gotText}`);
    this.parameter = parameter;
    this.requirement = requirement;
    this.got = got;
  }
}

// Stable names that survive minification (`constructor.name` would not).
for (const [cls, name] of [
  [BrokenCircuitError, 'BrokenCircuitError'],
  [BulkheadRejectedError, 'BulkheadRejectedError'],
  [ConfigError, 'ConfigError'],
]) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

// Core names parameters as the Rust API does; JavaScript users know them by
// their option names.
const OPTION_NAMES = {
  max_attempts: 'maxAttempts',
  backoff: 'backoff',
  base_delay: 'baseDelayMs',
  max_delay: 'maxDelayMs',
  jitter: 'jitter',
  retryable_status_codes: 'retryableStatusCodes',
  seed: 'seed',
  failure_threshold: 'failureThreshold',
  recovery_timeout: 'recoveryTimeoutMs',
  half_open_max_calls: 'halfOpenMaxCalls',
  max_concurrent: 'maxConcurrent',
  max_queue_size: 'maxQueueSize',
  timeout: 'timeoutMs',
};

/** The JavaScript option name of a core parameter name. */
export function optionName(coreName) {
  return OPTION_NAMES[coreName] ?? coreName.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

/**
 * Runs `build` (a call into core that may throw core's ConfigError) and
 * re-throws such an error as a ConfigError naming the option as the user
 * spelt it, with the value the user gave (`given`: option name -> value).
 */
export function translatingConfigErrors(build, given) {
  try {
    return build();
  } catch (e) {
    if (e instanceof Error && e.name === 'ConfigError' && typeof e.parameter === 'string') {
      const parameter = optionName(e.parameter);
      const requirement = inJavaScriptTerms(e.requirement);
      if (Object.hasOwn(given, parameter)) throw new ConfigError(parameter, requirement, given[parameter]);
      // A default was out of range given the other options: core's rendering.
      const got = inJavaScriptTerms(e.got);
      throw new ConfigError(parameter, requirement, got, got);
    }
    throw e;
  }
}

/** A text of core's as this API says it: option names, and milliseconds. */
function inJavaScriptTerms(text) {
  return inMilliseconds(text.replace(/[a-z]+(?:_[a-z]+)+/g, optionName));
}
