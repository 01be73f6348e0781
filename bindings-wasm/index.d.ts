// Type declarations of resilience-wasm. No `any` in the public API.

/** Backoff strategies: the delay after failed attempt n. */
export type Backoff = 'fixed' | 'linear' | 'exponential' | 'fibonacci';

/** `true` is the original's proportional jitter (x0.75..1.25), `false` none. */
export type Jitter = boolean | 'none' | 'proportional' | 'full' | 'equal' | 'decorrelated';

/** A class of errors, for `instanceof` filters. */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/**
 * Which errors a strategy handles: a predicate, or an error class or classes
 * matched with `instanceof`. Anything else is a ConfigError when the strategy
 * is built. A predicate that throws never replaces your error: its exception
 * goes to `console.warn`, and it answers what the option says it answers.
 */
export type ErrorFilter = ((error: unknown) => boolean) | ErrorClass | readonly ErrorClass[];

/** Monotonic milliseconds (breaker) or wall-clock milliseconds since the epoch (Retry-After dates). */
export type Clock = () => number;

/** Waits `ms` milliseconds; may reject with `signal.reason` when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => PromiseLike<void> | void;

export interface RetryPolicyOptions {
  /** Total attempts, the first included: an integer >= 1 (default 3). */
  maxAttempts?: number;
  /** Default 'exponential'. */
  backoff?: Backoff;
  /** Default 1000 ms; a finite number >= 0. */
  baseDelayMs?: number;
  /** Cap on the un-jittered delay; default 60000 ms, >= baseDelayMs. */
  maxDelayMs?: number;
  /** Default true (proportional). */
  jitter?: Jitter;
  /** Errors worth retrying (default: every error except an AbortError). A throwing predicate means "not retryable". */
  retryableErrors?: ErrorFilter;
  /** HTTP statuses worth retrying (default: none for policies; for withRetry core's 500, 502, 503, 504 — 408 and 429 are opt-in). */
  retryableStatusCodes?: readonly number[];
  /** Seeds jitter for reproducible delays (an integer; bigint beyond 2^53). Default: crypto.getRandomValues. */
  seed?: number | bigint;
}

/** Anything with an HTTP status, such as a fetch Response. */
export interface HasStatus {
  readonly status: number;
}

/** How many times to try, and how long to wait in between. Every decision is taken by the Rust core. */
export class RetryPolicy {
  constructor(options?: RetryPolicyOptions);
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** The jitter mode's name (`true` reads 'proportional', `false` 'none'). */
  readonly jitter: Exclude<Jitter, boolean>;
  readonly retryableStatusCodes: readonly number[] | undefined;
  readonly seed: number | bigint | undefined;
  /** The delay in ms before retrying after failed attempt `attempt` (0 for attempt <= 0). @throws ConfigError unless `attempt` is an integer. */
  calculateDelayMs(attempt: number): number;
  /** false once attempt >= maxAttempts; otherwise whether `error` passes `retryableErrors`. @throws ConfigError unless `attempt` is an integer. */
  shouldRetry(error: unknown, attempt: number): boolean;
  /**
   * false once attempt >= maxAttempts; otherwise whether the status is in `retryableStatusCodes`.
   * A response without an integer `status` (or none at all) is not retryable. @throws ConfigError unless `attempt` is an integer.
   */
  shouldRetryResponse(response: HasStatus | null | undefined, attempt: number): boolean;
  /** Whether `error` passes the `retryableErrors` filter. */
  isRetryable(error: unknown): boolean;
}

/** Why a retry sequence gave up. */
export type GiveUpReason = 'exhausted' | 'not_retryable';

export interface RetryExecutorOptions {
  /** Called before each wait; an exception it throws is logged, never breaks the loop. */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
  /** Called once when the sequence gives up, before the last error is rejected. */
  onGiveUp?: (attempts: number, reason: GiveUpReason, error: unknown) => void;
  /** Aborting rejects at once with `signal.reason`, cancelling any pending wait. */
  signal?: AbortSignal;
  /** Replaces setTimeout-based sleeping (e.g. virtual time in tests). */
  sleep?: Sleep;
  /** Wall-clock ms since the epoch for HTTP-date Retry-After hints (default Date.now). */
  clock?: Clock;
}

/** Runs operations under a RetryPolicy. */
export class RetryExecutor {
  constructor(policy: RetryPolicy, options?: RetryExecutorOptions);
  readonly policy: RetryPolicy;
  /** Resolves with fn's value, or rejects with the last error unchanged (or `signal.reason`). A non-function `fn` rejects with a TypeError, never retried. */
  execute<T>(fn: (attempt: number) => T | PromiseLike<T>): Promise<T>;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive counted failures that open the breaker: an integer >= 1 (default 5). */
  failureThreshold?: number;
  /** How long the breaker stays open: ms, default 30000. */
  recoveryTimeoutMs?: number;
  /** Which errors count (default: all); others pass through uncounted. A throwing predicate means "counted". */
  isFailure?: ErrorFilter;
  /** Concurrent trial calls while half-open: an integer >= 1 (default 1). */
  halfOpenMaxCalls?: number;
  /** Monotonic ms (default performance.now). */
  clock?: Clock;
}

/** Fails fast while a dependency is down, and probes it when it may be back. */
export class CircuitBreaker {
  constructor(options?: CircuitBreakerOptions);
  /** Rejects with BrokenCircuitError while open; otherwise settles like fn(). A non-function `fn` rejects with a TypeError, uncounted. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  readonly state: CircuitState;
  readonly failureCount: number;
  reset(): void;
}

export interface FallbackChainOptions {
  /** Which primary errors the fallbacks handle (default: all); others are rejected at once. A throwing predicate means "not expected". */
  isExpected?: ErrorFilter;
}

/** Primary first, then each fallback in order with the same arguments. */
export class FallbackChain<A extends unknown[] = unknown[], T = unknown> {
  /** @throws TypeError unless `fallbacks` is an array of functions. */
  constructor(fallbacks?: ReadonlyArray<(...args: A) => T | PromiseLike<T>>, options?: FallbackChainOptions);
  readonly fallbacks: ReadonlyArray<(...args: A) => T | PromiseLike<T>>;
  /** The first success; else the last fallback's error (the primary's if unexpected or no fallbacks). A non-function `primary` rejects with a TypeError. */
  execute(primary: (...args: A) => T | PromiseLike<T>, ...args: A): Promise<T>;
}

export interface BulkheadOptions {
  /** Calls at once: an integer >= 1 (default 10). */
  maxConcurrent?: number;
  /** Waiters: an integer >= 0 (default 100). */
  maxQueueSize?: number;
  /** How long a waiter waits: ms, default 30000. */
  timeoutMs?: number;
  /** Replaces setTimeout for the wait's timeout (aborted when the slot arrives). */
  sleep?: Sleep;
}

/** At most maxConcurrent calls at once; up to maxQueueSize more wait FIFO. */
export class Bulkhead {
  constructor(options?: BulkheadOptions);
  /** Rejects with BulkheadRejectedError when the queue is full or the wait times out. A non-function `fn` rejects with a TypeError and takes no slot. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  readonly active: number;
  readonly queued: number;
}

export type RetryOptions = RetryPolicyOptions & RetryExecutorOptions;

/** `fn` retried per the options; the executor is the wrapper's `executor` property. @throws TypeError unless `fn` is a function. */
export function retry<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  options?: RetryOptions,
): ((...args: A) => Promise<T>) & { readonly executor: RetryExecutor };

/** `fn` behind a circuit breaker; the breaker is the wrapper's `breaker` property. @throws TypeError unless `fn` is a function. */
export function circuitBreaker<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  options?: CircuitBreakerOptions,
): ((...args: A) => Promise<T>) & { readonly breaker: CircuitBreaker };

/** `fn`, falling back to each of `fallbacks` in order when it fails. @throws TypeError unless `fn` and every fallback are functions. */
export function fallback<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  ...fallbacks: Array<(...args: A) => T | PromiseLike<T>>
): (...args: A) => Promise<T>;

/** What withRetry needs of a response. */
export interface ResponseLike extends HasStatus {
  readonly headers?: { get(name: string): string | null };
  readonly body?: { cancel(reason?: unknown): PromiseLike<void> | void } | null;
}

export interface WithRetryOptions extends RetryOptions {
  /** Wait at least the server's Retry-After (capped at maxDelayMs). Default true. */
  honorRetryAfter?: boolean;
}

/**
 * A fetch that retries network errors and retryable statuses. Resolves with
 * the first non-retryable response, or the last response when retries run out.
 * @throws TypeError unless `fetch` is a function.
 */
export function withRetry<A extends unknown[], R extends ResponseLike>(
  fetch: (...args: A) => PromiseLike<R>,
  options?: WithRetryOptions,
): (...args: A) => Promise<R>;

/** A circuit breaker refused the call. */
export class BrokenCircuitError extends Error {
  constructor(retryAfterMs: number);
  readonly name: 'BrokenCircuitError';
  /** Remaining open time in ms (0 while half-open trials are busy). */
  readonly retryAfterMs: number;
}

/** A bulkhead refused the call. */
export class BulkheadRejectedError extends Error {
  /** `detail` completes the message "bulkhead rejected the call: …". */
  constructor(reason: 'queue_full' | 'timeout', detail: string);
  readonly name: 'BulkheadRejectedError';
  readonly reason: 'queue_full' | 'timeout';
}

/** An option was outside its allowed range. Messages speak milliseconds and stay short whatever the value. */
export class ConfigError extends Error {
  /** The message reads "invalid {parameter}: must be {requirement}, got {got, or gotText}". */
  constructor(parameter: string, requirement: string, got: unknown, gotText?: string);
  readonly name: 'ConfigError';
  /** The option, as spelt in this API (e.g. 'maxAttempts'). */
  readonly parameter: string;
  /** The allowed range, e.g. 'an integer in 1..=4294967295'. */
  readonly requirement: string;
  /** The rejected value. */
  readonly got: unknown;
}
