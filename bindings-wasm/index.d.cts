// Type declarations of resilience-wasm for `require` (CommonJS). Generated from
// index.d.ts by `npm run sync-types`; edit index.d.ts, not this file.

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
  maxAttempts?: number | bigint;
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
  /** HTTP statuses worth retrying, each in 100..=599 (default, or null: none for policies; for withRetry core's 500, 502, 503, 504 — 408 and 429 are opt-in). */
  retryableStatusCodes?: readonly number[] | null;
  /** Seeds jitter for reproducible delays (an integer in 0..=2^64-1; bigint beyond 2^53). Default (or null): crypto.getRandomValues. */
  seed?: number | bigint | null;
  /**
   * The deadline of a whole execution, in ms from the start of attempt 1 (default, or null: none).
   * A wait that would reach it is not taken: the execution gives up with reason 'deadline'.
   */
  maxElapsedMs?: number | null;
  /**
   * How long one attempt may take, in ms (> 0; default, or null: no limit). The attempt's
   * AbortSignal is aborted with a TimeoutError when it expires; a timed-out attempt is retried.
   */
  attemptTimeoutMs?: number | null;
  /**
   * Retries a returned value the predicate calls a failure (an HTTP 503, an empty read); when the
   * retries run out the last value is returned. A predicate that throws accepts the value.
   */
  retryableResult?: (value: unknown) => boolean;
  /** A retry budget shared with other policies: a denied retry gives up with reason 'budget'. */
  budget?: RetryBudget;
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
  /** As core keeps them: sorted, without duplicates. */
  readonly retryableStatusCodes: readonly number[] | undefined;
  readonly seed: number | bigint | undefined;
  /** The delay in ms before retrying after failed attempt `attempt` (0 for attempt <= 0; huge attempts saturate). @throws ConfigError unless `attempt` is an integer. */
  calculateDelayMs(attempt: number | bigint): number;
  /** false once attempt >= maxAttempts (the filter is not asked then); otherwise whether `error` passes `retryableErrors`. @throws ConfigError unless `attempt` is an integer. */
  shouldRetry(error: unknown, attempt: number | bigint): boolean;
  /**
   * false once attempt >= maxAttempts; otherwise whether the status is in `retryableStatusCodes`.
   * A response without an integer `status` (or none at all) is not retryable. @throws ConfigError unless `attempt` is an integer.
   */
  shouldRetryResponse(response: HasStatus | null | undefined, attempt: number | bigint): boolean;
  /** Whether `error` passes the `retryableErrors` filter. */
  isRetryable(error: unknown): boolean;
  /** The deadline of an execution in ms, or undefined. */
  readonly maxElapsedMs: number | undefined;
  /** How long one attempt may take in ms, or undefined. */
  readonly attemptTimeoutMs: number | undefined;
  /** The retry budget the policy draws on, or undefined. */
  readonly budget: RetryBudget | undefined;
}

/** Why a retry sequence gave up. */
export type GiveUpReason = 'exhausted' | 'not_retryable' | 'deadline' | 'budget';

/** Attempt `attempt` failed (with `error`, or returned `result` judged a failure); the next runs after `delayMs`. */
export type RetryScheduledEvent = {
  readonly type: 'retry_scheduled';
  readonly attempt: number;
  readonly delayMs: number;
} & ({ readonly error: unknown; readonly result?: never } | { readonly result: unknown; readonly error?: never });

/** The retry sequence ended without success after `attempts` attempts (on a returned value, the value is still returned). */
export interface GaveUpEvent {
  readonly type: 'gave_up';
  readonly attempts: number;
  readonly reason: GiveUpReason;
}

/** A call through the breaker changed its state. */
export interface BreakerTransitionEvent {
  readonly type: 'breaker_transition';
  readonly from: CircuitState;
  readonly to: CircuitState;
}

/** The breaker did not admit a call. */
export interface BreakerRejectedEvent {
  readonly type: 'breaker_rejected';
  readonly retryAfterMs: number;
  readonly reason: BrokenCircuitReason;
}

/** A timeout expired and its call was cancelled (its AbortSignal aborted). */
export interface TimeoutEvent {
  readonly type: 'timeout';
  readonly strategy: 'total_timeout' | 'attempt_timeout';
  readonly afterMs: number;
}

/** Hedged attempt `attempt` (2 or more) started. */
export interface HedgeStartedEvent {
  readonly type: 'hedge_started';
  readonly attempt: number;
}

/** Fallback number `index` (0-based) is being called. */
export interface FallbackUsedEvent {
  readonly type: 'fallback_used';
  readonly index: number;
}

/** The bulkhead refused the call. */
export interface BulkheadRejectedEvent {
  readonly type: 'bulkhead_rejected';
  readonly reason: 'queue_full' | 'timeout';
}

/** A rate limiter refused cells. */
export interface RateLimitedEvent {
  readonly type: 'rate_limited';
  readonly retryAfterMs: number;
  readonly reason: RateLimitedReason;
}

/** An adaptive throttle shed a request. */
export interface ThrottledEvent {
  readonly type: 'throttled';
  readonly retryAfterMs: number;
  readonly probability: number;
}

/** What a strategy did: plain objects told to `onEvent`, discriminated by `type`. */
export type ResilienceEvent =
  | RetryScheduledEvent
  | GaveUpEvent
  | BreakerTransitionEvent
  | BreakerRejectedEvent
  | TimeoutEvent
  | HedgeStartedEvent
  | FallbackUsedEvent
  | BulkheadRejectedEvent
  | RateLimitedEvent
  | ThrottledEvent;

/** A listener of events; an exception it throws is logged (console.warn), never changes the call. */
export type EventListener = (event: ResilienceEvent) => void;

export interface RetryExecutorOptions {
  /** Called before each wait; an exception it throws is logged, never breaks the loop. */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
  /** Called once when the sequence gives up, before the last error is rejected. */
  onGiveUp?: (attempts: number, reason: GiveUpReason, error: unknown) => void;
  /** Aborting rejects at once with `signal.reason`, cancelling any pending wait. */
  signal?: AbortSignal;
  /** Replaces setTimeout-based sleeping (e.g. virtual time in tests). */
  sleep?: Sleep;
  /**
   * Ms since the epoch, monotonic: for HTTP-date Retry-After hints and the deadline
   * (default performance.timeOrigin + performance.now()).
   */
  clock?: Clock;
  /** Told every retry scheduled and the give-up (with its reason), and each attempt timeout. */
  onEvent?: EventListener;
}

/** Runs operations under a RetryPolicy. */
export class RetryExecutor {
  constructor(policy: RetryPolicy, options?: RetryExecutorOptions);
  readonly policy: RetryPolicy;
  /**
   * Resolves with fn's value, or rejects with the last error unchanged (or `signal.reason`); a
   * value `retryableResult` rejects is retried, and the last one resolves when the retries run out.
   * `signal` is the attempt's: aborted when the attempt times out or the execution is aborted.
   * A non-function `fn` rejects with a TypeError, never retried.
   */
  execute<T>(fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>): Promise<T>;
}

/** A breaker's state; 'isolated' is held open by `isolate()` until `close()` or `reset()`. */
export type CircuitState = 'closed' | 'open' | 'half_open' | 'isolated';

/**
 * Trip on a failure ratio over the calls of the last `samplingDurationMs`
 * (a time window in `buckets` buckets; Polly's advanced breaker, cockatiel's
 * SamplingBreaker). With neither field the window is 30000 ms in 10 buckets.
 */
export interface TimeWindowFailureRate {
  /** The failed share of the window's calls that opens the breaker: in (0, 1] (exactly at it trips). */
  ratio: number;
  /** Calls the window needs before it can trip: an integer >= 1 (default 100). */
  minimumThroughput?: number;
  /** How far back the window reaches, in ms (default 30000). */
  samplingDurationMs?: number;
  /** Buckets the window is split into (a bucket leaves whole): an integer in 1..=1000 (default 10). */
  buckets?: number;
  windowSize?: never;
}

/** Trip on a failure ratio over the last `windowSize` calls (resilience4j's count window). */
export interface CountWindowFailureRate {
  /** The failed share of the window's calls that opens the breaker: in (0, 1]. */
  ratio: number;
  /** Calls the window needs before it can trip: an integer >= 1 (default 100). */
  minimumThroughput?: number;
  /** How many of the latest calls count: an integer in 1..=1000000. */
  windowSize: number;
  samplingDurationMs?: never;
  buckets?: never;
}

/** The failure-rate trip rule: a time window or a count window (not both). */
export type FailureRate = TimeWindowFailureRate | CountWindowFailureRate;

/** Slow calls trip too (needs `failureRate`, whose window they share). */
export interface SlowCall {
  /** A call that takes longer than this (ms, on the breaker's clock) is slow; exactly this long is not. */
  durationMs: number;
  /** The slow share of the window's calls that opens the breaker: in (0, 1]. */
  ratio: number;
}

/** The open period grows over consecutive openings (reset when the breaker closes). */
export interface BreakBackoff {
  /** Opening n lasts this backoff of `recoveryTimeoutMs` for attempt n. */
  backoff: Backoff;
  /** The longest open period, in ms (>= recoveryTimeoutMs). */
  maxMs: number;
}

/** A time window in a snapshot: `[age in buckets, calls, failures, slow calls]` per bucket. */
export interface TimeWindowSnapshot {
  readonly kind: 'time';
  readonly bucket_ns: number;
  readonly buckets: ReadonlyArray<readonly [number, number, number, number]>;
}

/** A count window in a snapshot: one letter per call, oldest first (o ok, f failed, s slow, x slow and failed). */
export interface CountWindowSnapshot {
  readonly kind: 'count';
  readonly size: number;
  readonly calls: string;
}

/**
 * A breaker's state as core's versioned snapshot document (the same document
 * in every language), times relative to the moment it was taken.
 */
export interface BreakerSnapshot {
  readonly format: 'resilience.circuit_breaker';
  readonly version: number;
  readonly state: CircuitState;
  readonly consecutive_failures: number;
  readonly openings_in_a_row: number;
  readonly break_ms: number;
  readonly break_remaining_ms: number;
  readonly window: TimeWindowSnapshot | CountWindowSnapshot | null;
}

/** What a breaker has seen (a frozen copy: read `metrics` again for a newer one). */
export interface BreakerMetrics {
  readonly state: CircuitState;
  /** Counted failures in a row. */
  readonly consecutiveFailures: number;
  /** Calls in the failure-rate window (0 without one). */
  readonly windowCalls: number;
  readonly windowFailures: number;
  readonly windowSlowCalls: number;
  /** windowFailures / windowCalls (0 for an empty window). */
  readonly failureRatio: number;
  /** windowSlowCalls / windowCalls (0 for an empty window). */
  readonly slowCallRatio: number;
  /** Calls rejected since the breaker was created. */
  readonly rejections: number;
  /** Times it opened since it was created. */
  readonly openings: number;
  /** Time since the state began, in ms (open → half-open by time alone is no new state). */
  readonly timeInStateMs: number;
  /** The current (or next) open period, in ms. */
  readonly breakDurationMs: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive counted failures that open the breaker: an integer >= 1 (default 5). Ignored with `failureRate`. */
  failureThreshold?: number;
  /** How long the breaker stays open: ms, default 30000 (the first open period with `breakBackoff`). */
  recoveryTimeoutMs?: number;
  /** Which errors count (default: all); others pass through uncounted. A throwing predicate means "counted". */
  isFailure?: ErrorFilter;
  /** Returned values that count as failures (an HTTP 503); the value is still returned. A throwing predicate means "counted". */
  isFailureResult?: (value: unknown) => boolean;
  /** Told each transition and rejection. */
  onEvent?: EventListener;
  /** Concurrent trial calls while half-open: an integer >= 1 (default 1). */
  halfOpenMaxCalls?: number;
  /** Trip on a failure ratio over a window instead of consecutive failures. */
  failureRate?: FailureRate;
  /** Slow calls trip too (with `failureRate`). */
  slowCall?: SlowCall;
  /** Grow the open period over consecutive openings. */
  breakBackoff?: BreakBackoff;
  /**
   * Start where another breaker was: what its `toJSON()` returned (or that
   * object's JSON text). A document that cannot be read throws SnapshotError.
   */
  initialState?: BreakerSnapshot | string;
  /** Monotonic ms (default performance.now); read on every call with a time window or slow calls. */
  clock?: Clock;
  /**
   * Share the breaker across processes through this store (a `RedisStore`
   * of `resilience-wasm/redis`, Node only), under `name`. Calls are still
   * decided here; the store syncs in the background.
   */
  store?: SharedStore;
  /** The name the breaker is shared under (with `store`; 1..=200 bytes, no control characters). */
  name?: string;
}

/** A store breakers, rate limiters and retry budgets can be shared through: `RedisStore` of `resilience-wasm/redis`. */
export interface SharedStore {
  readonly prefix: string;
}

/** Fails fast while a dependency is down, and probes it when it may be back. */
export class CircuitBreaker {
  /** @throws ConfigError for an option out of range, SnapshotError for an `initialState` that cannot be read. */
  constructor(options?: CircuitBreakerOptions);
  /** Rejects with BrokenCircuitError while open or isolated; otherwise settles like fn(). A non-function `fn` rejects with a TypeError, uncounted. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  readonly state: CircuitState;
  readonly failureCount: number;
  /** A frozen plain object, taken now. */
  readonly metrics: BreakerMetrics;
  /** Back to closed with no failures, an empty window and the first open period; calls in flight count for nothing. */
  reset(): void;
  /** Holds the breaker open (state 'isolated'; rejections carry reason 'isolated') until close() or reset(). */
  isolate(): void;
  /** Closes the breaker, an isolated one too (the same as reset()). */
  close(): void;
  /** The snapshot document as a plain object (JSON.stringify(breaker) writes it). */
  toJSON(): BreakerSnapshot;
}

export interface FallbackChainOptions {
  /** Which primary errors the fallbacks handle (default: all); others are rejected at once. A throwing predicate means "not expected". */
  isExpected?: ErrorFilter;
  /** Told each fallback used (its index). */
  onEvent?: EventListener;
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
  /** Told each rejection. */
  onEvent?: EventListener;
}

/** At most maxConcurrent calls at once; up to maxQueueSize more wait FIFO. */
export class Bulkhead {
  constructor(options?: BulkheadOptions);
  /** Rejects with BulkheadRejectedError when the queue is full or the wait times out. A non-function `fn` rejects with a TypeError and takes no slot. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  readonly active: number;
  readonly queued: number;
}

export interface TimeoutOptions {
  /** How long a call may take: ms > 0 (default 30000). */
  timeoutMs?: number;
  /** In a pipeline: 'total' (the whole call, outside the retry; default) or 'attempt' (each attempt, inside the breaker). */
  scope?: 'total' | 'attempt';
  /** Told each timeout. */
  onEvent?: EventListener;
  /** Replaces setTimeout for the timer (aborted when the call settles first). */
  sleep?: Sleep;
}

/** A timeout strategy (for `pipeline`, or on its own). */
export class Timeout {
  /** @throws ConfigError for a timeout that is not a duration above zero. */
  constructor(options?: TimeoutOptions);
  readonly timeoutMs: number;
  readonly scope: 'total' | 'attempt';
  /**
   * Runs `fn(signal)`: settles like it, or rejects with a TimeoutError (aborting `signal` with it)
   * when it takes longer than `timeoutMs`, or with the reason of the `signal` option once it aborts.
   */
  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

/**
 * Runs `fn(signal)` with a timeout of `ms`: settles like it, or rejects with a TimeoutError when it
 * takes longer (its signal aborted with that error). @throws ConfigError for a bad `ms`.
 */
export function timeout<T>(
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  ms: number,
  options?: Omit<TimeoutOptions, 'timeoutMs'> & { signal?: AbortSignal },
): Promise<T>;

export interface HedgeOptions {
  /** How long an attempt may go unanswered before the next copy starts: ms >= 0 (default 2000; 0 starts every copy at once). */
  delayMs?: number;
  /** Copies started beyond the first, at most: an integer in 1..=10 (default 1). */
  maxHedgedAttempts?: number;
  /** Returned values that are failures, not answers. A throwing predicate means "an answer". */
  isFailureResult?: (value: unknown) => boolean;
  /** Told each hedged copy started. */
  onEvent?: EventListener;
  /** Replaces setTimeout for the hedge timer (aborted when it is not needed). */
  sleep?: Sleep;
  /** Monotonic ms (default performance.now). */
  clock?: Clock;
}

/** Hedging: after `delayMs` without an answer, start another copy; the first acceptable answer wins and the others are cancelled. */
export class Hedge {
  /** @throws ConfigError for an option out of range. */
  constructor(options?: HedgeOptions);
  readonly delayMs: number;
  readonly maxHedgedAttempts: number;
  /**
   * Runs `fn(signal, attempt)` hedged: settles like the first acceptable answer; every other copy
   * still running has its signal aborted. When every copy failed, settles like the last to fail.
   */
  execute<T>(fn: (signal: AbortSignal, attempt: number) => T | PromiseLike<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

/** Runs `fn(signal, attempt)` hedged (see Hedge). @throws ConfigError for an option out of range. */
export function hedge<T>(
  fn: (signal: AbortSignal, attempt: number) => T | PromiseLike<T>,
  options?: HedgeOptions & { signal?: AbortSignal },
): Promise<T>;

/** A strategy a pipeline can hold (each at most once). */
export type PipelineStrategy =
  | FallbackChain
  | Timeout
  | RetryPolicy
  | RetryExecutor
  | CircuitBreaker
  | Hedge
  | RateLimiter
  | Bulkhead
  | AdaptiveThrottle;

/** The names core gives a pipeline's strategies, outer to inner. */
export type StrategyName =
  | 'fallback'
  | 'total_timeout'
  | 'retry'
  | 'breaker'
  | 'attempt_timeout'
  | 'hedging'
  | 'rate_limiter'
  | 'bulkhead'
  | 'throttle';

export interface PipelineOptions {
  /** Told every event of every strategy of the pipeline (the strategies' own listeners hear theirs too). */
  onEvent?: EventListener;
  /** The sleep of a retry policy's waits, timeouts and hedge timers (a strategy's own comes first). */
  sleep?: Sleep;
  /** The clock of a retry policy's deadline and of hedging (a strategy's own comes first). */
  clock?: Clock;
}

/** Strategies composed in one order, outer to inner. */
export class Pipeline {
  /** Core's names of the strategies, outer to inner (a retry policy's attempt timeout included). */
  readonly strategies: readonly StrategyName[];
  /**
   * Runs `fn(signal)` through every strategy; `signal` is the attempt's (aborted by a timeout, a lost
   * hedge, or the `signal` option). Rejects with the operation's error unchanged, or the library's
   * (BrokenCircuitError, TimeoutError, BulkheadRejectedError, RateLimitedError, ThrottledError).
   */
  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

/**
 * Composes strategies outer to inner, in core's order (fallback → total timeout → retry → breaker →
 * attempt timeout → hedging → rate limiter → bulkhead → throttle), each at most once; options last.
 * A RateLimiter takes one cell per attempt (per hedged copy) or fails fast with RateLimitedError,
 * which a retry outside waits out exactly; an AdaptiveThrottle sheds with ThrottledError (paced by
 * the retry's own backoff) or records whether the backend accepted the attempt.
 * @throws ConfigError for strategies out of order, twice, or not strategies.
 */
export function pipeline(...strategies: PipelineStrategy[]): Pipeline;
export function pipeline(...args: [...strategies: PipelineStrategy[], options: PipelineOptions]): Pipeline;

export interface RetryBudgetOptions {
  /** How long a first attempt or a retry counts: ms in 1000..=60000 (default 10000). */
  ttlMs?: number;
  /** Retries allowed per second whatever the traffic: an integer >= 0 (default 10). */
  minRetriesPerSec?: number;
  /** Retries allowed per first attempt: in (0, 1] (default 0.2). */
  retryRatio?: number;
  /** Monotonic ms (default performance.now). */
  clock?: Clock;
  /**
   * Share it across processes through this store (a `RedisStore` of
   * `resilience-wasm/redis`, Node only), under `name`. Calls are still
   * decided here, from tokens leased from the fleet in the background.
   */
  store?: SharedStore;
  /** The name it is shared under (with `store`; 1..=200 bytes, no control characters). */
  name?: string;
  /** Retries leased from the fleet at a time (with `store`): an integer >= 1 (default: a quarter of `minRetriesPerSec`, rounded up, at least 1). */
  leaseSize?: number;
}

/** A retry budget shared by many RetryPolicy objects (one per downstream). */
export class RetryBudget {
  /** @throws ConfigError for an option out of range. */
  constructor(options?: RetryBudgetOptions);
  readonly ttlMs: number;
  readonly minRetriesPerSec: number;
  readonly retryRatio: number;
  /** Retries the budget would grant now. */
  readonly available: number;
  /** Counts a first attempt (policies with this budget do it themselves). */
  deposit(): void;
  /** Claims one retry if the budget allows it (policies with this budget do it themselves). */
  tryWithdraw(): boolean;
}

/** How a call through an adaptive throttle ended, for `isAccepted`. */
export type ThrottleOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export interface AdaptiveThrottleOptions {
  /** The multiplier K: a finite number > 0 (default 2). */
  k?: number;
  /** How much history counts: ms >= 1000 (default 120000). */
  windowMs?: number;
  /** Seeds the rejection draws (an integer in 0..=2^64-1). Default (or null): crypto.getRandomValues. */
  seed?: number | bigint | null;
  /** Whether the backend accepted a call (default: it did not throw). A throwing predicate means "not accepted". */
  isAccepted?: (outcome: ThrottleOutcome) => boolean;
  /** Monotonic ms (default performance.now; in a pipeline too: the throttle keeps its own clock). */
  clock?: Clock;
  /** Told each request shed (a `throttled` event), in a pipeline too. */
  onEvent?: EventListener;
}

/** The window of an adaptive throttle. */
export interface ThrottleStats {
  readonly requests: number;
  readonly accepts: number;
  /** max(0, (requests − k·accepts) / (requests + 1)). */
  readonly probability: number;
}

/** Adaptive client-side throttling (Google SRE book): sheds requests locally while the backend rejects. */
export class AdaptiveThrottle {
  /** @throws ConfigError for an option out of range. */
  constructor(options?: AdaptiveThrottleOptions);
  readonly k: number;
  readonly windowMs: number;
  readonly stats: ThrottleStats;
  /** Whether a request may be sent now (it counts as a request either way). */
  tryAdmit(): boolean;
  /** The backend answered an admitted request. */
  record(accepted: boolean): void;
  /** Runs `fn()` unless shed (then rejects with ThrottledError, `fn` not run); records whether it was accepted. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
}

export interface RateLimiterOptions {
  /** Cells per `perMs`: an integer >= 1 (default 100). */
  rate?: number;
  /** The period: ms > 0 (default 1000). */
  perMs?: number;
  /** Cells that may be taken at once: an integer >= 1 (default 10). */
  burst?: number;
  /** Monotonic ms (default performance.now; in a pipeline too: the limiter keeps its own clock). */
  clock?: Clock;
  /** Replaces setTimeout for `acquire`'s waits. */
  sleep?: Sleep;
  /** Told each refusal not waited out (`tryAcquire`, `execute`, a pipeline's attempt; a `rate_limited` event). */
  onEvent?: EventListener;
  /**
   * Share it across processes through this store (a `RedisStore` of
   * `resilience-wasm/redis`, Node only), under `name`. Calls are still
   * decided here, from tokens leased from the fleet in the background.
   */
  store?: SharedStore;
  /** The name it is shared under (with `store`; 1..=200 bytes, no control characters). */
  name?: string;
  /** Cells leased from the fleet at a time (with `store`): an integer in 1..=burst (default: a quarter of the burst, rounded up). */
  leaseSize?: number;
}

/** A GCRA rate limiter: `rate` cells per `perMs`, up to `burst` at once. */
export class RateLimiter {
  /** @throws ConfigError for an option out of range. */
  constructor(options?: RateLimiterOptions);
  readonly rate: number;
  readonly perMs: number;
  readonly burst: number;
  /** Takes `n` cells (default 1) if they conform now. @throws ConfigError unless `n` is an integer >= 0. */
  tryAcquire(n?: number | bigint): boolean;
  /** Waits until `n` cells (default 1) conform and takes them; rejects with RateLimitedError ('exceeds_burst') for more than `burst`. */
  acquire(n?: number | bigint, options?: { signal?: AbortSignal }): Promise<void>;
  /** Runs `fn()` if a cell conforms now, else rejects with RateLimitedError (`retryAfterMs`: the exact wait). */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
}

/** `fn` paced by `limiter`: each call waits for a cell, then runs. @throws TypeError unless `fn` is a function. */
export function rateLimited<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  limiter: RateLimiter,
): (...args: A) => Promise<T>;

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

/** Why a breaker refused a call. */
export type BrokenCircuitReason = 'open' | 'trials_taken' | 'isolated' | 'permits_exhausted';

/** A circuit breaker refused the call. Built without stack frames when a breaker rejects (README, "Size and speed"). */
export class BrokenCircuitError extends Error {
  constructor(retryAfterMs: number, reason?: BrokenCircuitReason);
  readonly name: 'BrokenCircuitError';
  /** Remaining open time in ms: 0 while half-open trials are busy, Infinity while isolated (until close() or reset()). */
  readonly retryAfterMs: number;
  /** 'open', 'trials_taken' (half-open, every trial slot busy), 'isolated', or 'permits_exhausted' (65 536 calls in flight). */
  readonly reason: BrokenCircuitReason;
}

/** A call or attempt did not finish within its timeout. */
export class TimeoutError extends Error {
  constructor(timeoutMs: number);
  readonly name: 'TimeoutError';
  /** The timeout that expired, in ms. */
  readonly timeoutMs: number;
}

/** Why a rate limiter refused: not yet, or never (more cells than the burst). */
export type RateLimitedReason = 'limited' | 'exceeds_burst';

/** A rate limiter had no cell for the call. */
export class RateLimitedError extends Error {
  constructor(retryAfterMs: number, reason?: RateLimitedReason);
  readonly name: 'RateLimitedError';
  /** Exactly how long until the cells conform (Infinity for 'exceeds_burst'). */
  readonly retryAfterMs: number;
  readonly reason: RateLimitedReason;
}

/** An adaptive throttle shed the request locally. */
export class ThrottledError extends Error {
  constructor(retryAfterMs: number, probability: number);
  readonly name: 'ThrottledError';
  /** A suggested wait: until the oldest bucket of history leaves the window. */
  readonly retryAfterMs: number;
  /** The rejection probability the request was drawn against. */
  readonly probability: number;
}

/** A bulkhead refused the call. */
export class BulkheadRejectedError extends Error {
  /** `detail` completes the message "bulkhead rejected the call: …". */
  constructor(reason: 'queue_full' | 'timeout', detail: string);
  readonly name: 'BulkheadRejectedError';
  readonly reason: 'queue_full' | 'timeout';
}

/** The rule a value broke (core's names, the same in every language). */
export type ConfigErrorKind =
  | 'wrong_type'
  | 'not_an_integer'
  | 'not_a_number'
  | 'too_small'
  | 'too_large'
  | 'unknown_name'
  | 'below_other'
  | 'requires_other';

export interface ConfigErrorDetails {
  kind: ConfigErrorKind;
  parameter: string;
  got?: unknown;
}

/** An option broke one of core's rules. The message is core's: milliseconds, and short whatever the value. */
export class ConfigError extends Error {
  constructor(message: string, details: ConfigErrorDetails);
  readonly name: 'ConfigError';
  /** Which rule was broken. */
  readonly kind: ConfigErrorKind;
  /** The option, as spelt in this API (e.g. 'maxAttempts', 'failureRate.ratio'). */
  readonly parameter: string;
  /** The value given (undefined when the option was left to its default). */
  readonly got: unknown;
}

/** Why a snapshot could not be read. */
export type SnapshotErrorReason = 'malformed' | 'unsupported_version';

export interface SnapshotErrorDetails {
  reason: SnapshotErrorReason;
  version?: number;
}

/** A breaker's `initialState` could not be read; no breaker was built (never a silently closed one). */
export class SnapshotError extends Error {
  constructor(message: string, details: SnapshotErrorDetails);
  readonly name: 'SnapshotError';
  /** 'malformed' (not a snapshot: truncated, edited, another format) or 'unsupported_version' (from a newer release). */
  readonly reason: SnapshotErrorReason;
  /** The document's version, for 'unsupported_version'. */
  readonly version?: number;
}
