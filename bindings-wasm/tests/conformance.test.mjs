// Runs every conformance vector in ../../tests/conformance (format:
// tests/README.md). An unknown kind, op, outcome, expectation or config key
// fails the run, so no vector is skipped silently.
//
// Breaker and bulkhead vectors run twice: through the public API (execute,
// state, metrics, toJSON, initialState …) and through the native token path
// the glue drives (BreakerCore / BulkheadCore: the same permit tokens and
// slots, checked by core). Steps the public API cannot express — reporting
// a permit twice, a permit or slot of another breaker or bulkhead — are
// misuses that change nothing by contract; they run on the token path only.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  AdaptiveThrottle,
  BrokenCircuitError,
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  ConfigError,
  FallbackChain,
  Hedge,
  pipeline,
  RateLimitedError,
  RateLimiter,
  RetryBudget,
  RetryExecutor,
  RetryPolicy,
  SnapshotError,
  ThrottledError,
  Timeout,
  TimeoutError,
  withRetry,
} from 'resilience-wasm';
import { deferred, flush, track, VirtualTime } from './helpers/virtual-time.mjs';

const VECTORS = fileURLToPath(new URL('../../tests/conformance/', import.meta.url));
// The raw wasm module the package loaded (the same instance: same path).
const raw = createRequire(import.meta.url)('../dist/node/resilience_wasm.js');

// --- Values (tests/README.md "Values") ----------------------------------------

const SPECIAL_FLOATS = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/**
 * A vector value as a JavaScript user would pass it: `{"int": "…"}` is a
 * number when the number holds it exactly (2^64 does), else a bigint (as a
 * JS user passes 2^64 - 1); `{"float": …}` the special floats; the rest as is.
 */
function value(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return Array.isArray(v) ? v.map(value) : v;
  if ('int' in v) {
    const n = Number(v.int);
    return BigInt(n) === BigInt(v.int) ? n : BigInt(v.int);
  }
  if ('float' in v && v.float in SPECIAL_FLOATS) return SPECIAL_FLOATS[v.float];
  throw new Error(`unknown encoded value ${JSON.stringify(v)}`);
}

/** Fails on a key of `object` outside `known`: a vector field this runner would ignore. */
function onlyKnownKeys(object, known, what) {
  for (const key of Object.keys(object ?? {})) assert.ok(known.includes(key), `unknown ${what} key ${key}`);
}

// --- Options ---------------------------------------------------------------------

const POLICY_KEYS = [
  'max_attempts',
  'backoff',
  'base_delay_ms',
  'max_delay_ms',
  'jitter',
  'seed',
  'retryable_status_codes',
  'max_elapsed_ms',
  'attempt_timeout_ms',
];

/** JS options of a vector's policy object. */
function policyOptions(p = {}, extra = {}) {
  onlyKnownKeys(p, POLICY_KEYS, 'policy');
  const o = { ...extra };
  if ('max_attempts' in p) o.maxAttempts = value(p.max_attempts);
  if ('backoff' in p) o.backoff = value(p.backoff);
  if ('base_delay_ms' in p) o.baseDelayMs = value(p.base_delay_ms);
  if ('max_delay_ms' in p) o.maxDelayMs = value(p.max_delay_ms);
  if ('jitter' in p) o.jitter = value(p.jitter);
  if ('seed' in p) o.seed = value(p.seed);
  if ('retryable_status_codes' in p) o.retryableStatusCodes = value(p.retryable_status_codes);
  if ('max_elapsed_ms' in p) o.maxElapsedMs = value(p.max_elapsed_ms);
  if ('attempt_timeout_ms' in p) o.attemptTimeoutMs = value(p.attempt_timeout_ms);
  return o;
}

/** The raw policy core of a vector's policy (the core the executor drives), with an optional budget handle. */
function policyCore(policy, budget) {
  const p = policyOptions(policy);
  return new raw.RetryPolicyCore(
    p.maxAttempts,
    p.backoff,
    p.baseDelayMs,
    p.maxDelayMs,
    p.jitter,
    p.retryableStatusCodes,
    p.seed,
    p.maxElapsedMs,
    p.attemptTimeoutMs,
    budget,
  );
}

/** Core's give-up reasons by RetryAnswer code. */
const GIVE_UP = () => ({
  [raw.RetryAnswer.GiveUpExhausted]: 'exhausted',
  [raw.RetryAnswer.GiveUpNotRetryable]: 'not_retryable',
  [raw.RetryAnswer.GiveUpDeadline]: 'deadline',
  [raw.RetryAnswer.GiveUpBudget]: 'budget',
});

/** Options of a load-control component: each vector key as the JS option. */
const LOAD_KEYS = {
  budget: { ttl_ms: 'ttlMs', min_retries_per_sec: 'minRetriesPerSec', retry_ratio: 'retryRatio' },
  throttle: { k: 'k', window_ms: 'windowMs', seed: 'seed' },
  limiter: { rate: 'rate', per_ms: 'perMs', burst: 'burst' },
};

function loadOptions(component, c = {}, extra = {}) {
  const keys = LOAD_KEYS[component];
  onlyKnownKeys(c, Object.keys(keys), `${component} config`);
  const o = { ...extra };
  for (const [key, option] of Object.entries(keys)) if (key in c) o[option] = value(c[key]);
  return o;
}

/**
 * An `events` throttle's `history` (tests/README.md): `accepts` requests
 * admitted and reported accepted, then the rest asked for and not reported;
 * the window then holds exactly these counts.
 */
function seedHistory(throttle, history) {
  onlyKnownKeys(history, ['requests', 'accepts'], 'throttle history');
  for (let i = 0; i < history.accepts; i += 1) {
    assert.equal(throttle.tryAdmit(), true, 'an accepted request of the history is admitted');
    throttle.record(true);
  }
  for (let i = history.accepts; i < history.requests; i += 1) throttle.tryAdmit();
  const { requests, accepts } = throttle.stats;
  assert.deepEqual({ requests, accepts }, history, 'the throttle holds the history');
}

/** A virtual clock (ms) for load control: `advance` and `set_clock` steps. */
function clockStep(clock, s) {
  if (s.op === 'advance') clock.ms += s.ms;
  else if (s.op === 'set_clock') clock.ms = value(s.ms);
  else return false;
  return true;
}

const BREAKER_KEYS = [
  'failure_threshold',
  'recovery_timeout_ms',
  'half_open_max_calls',
  'failure_ratio',
  'minimum_throughput',
  'sampling_duration_ms',
  'sampling_buckets',
  'window_size',
  'slow_call_duration_ms',
  'slow_call_ratio',
  'break_backoff',
  'max_recovery_timeout_ms',
];

/** JS options of a vector's breaker config (the failure-rate keys grouped as the JS API groups them). */
function breakerOptions(c = {}) {
  onlyKnownKeys(c, BREAKER_KEYS, 'breaker config');
  const o = {};
  if ('failure_threshold' in c) o.failureThreshold = value(c.failure_threshold);
  if ('recovery_timeout_ms' in c) o.recoveryTimeoutMs = value(c.recovery_timeout_ms);
  if ('half_open_max_calls' in c) o.halfOpenMaxCalls = value(c.half_open_max_calls);
  if ('failure_ratio' in c) {
    const rate = { ratio: value(c.failure_ratio) };
    if ('minimum_throughput' in c) rate.minimumThroughput = value(c.minimum_throughput);
    if ('window_size' in c) rate.windowSize = value(c.window_size);
    if ('sampling_duration_ms' in c) rate.samplingDurationMs = value(c.sampling_duration_ms);
    if ('sampling_buckets' in c) rate.buckets = value(c.sampling_buckets);
    o.failureRate = rate;
  } else {
    for (const key of ['minimum_throughput', 'window_size', 'sampling_duration_ms', 'sampling_buckets']) {
      assert.ok(!(key in c), `${key} without failure_ratio cannot be said in the JS API`);
    }
  }
  if ('slow_call_ratio' in c || 'slow_call_duration_ms' in c) {
    o.slowCall = { durationMs: value(c.slow_call_duration_ms), ratio: value(c.slow_call_ratio) };
  }
  if ('break_backoff' in c || 'max_recovery_timeout_ms' in c) {
    o.breakBackoff = { backoff: value(c.break_backoff), maxMs: value(c.max_recovery_timeout_ms) };
  }
  return o;
}

const BULKHEAD_KEYS = ['max_concurrent', 'max_queue_size', 'timeout_ms'];

function bulkheadOptions(c = {}) {
  onlyKnownKeys(c, BULKHEAD_KEYS, 'bulkhead config');
  const o = {};
  if ('max_concurrent' in c) o.maxConcurrent = value(c.max_concurrent);
  if ('max_queue_size' in c) o.maxQueueSize = value(c.max_queue_size);
  if ('timeout_ms' in c) o.timeoutMs = value(c.timeout_ms);
  return o;
}

/** How the JS API spells core's parameter names (where camelCase alone does not). */
const JS_NAMES = {
  base_delay: 'baseDelayMs',
  max_delay: 'maxDelayMs',
  recovery_timeout: 'recoveryTimeoutMs',
  timeout: 'timeoutMs',
  failure_ratio: 'failureRate.ratio',
  minimum_throughput: 'failureRate.minimumThroughput',
  sampling_duration: 'failureRate.samplingDurationMs',
  sampling_buckets: 'failureRate.buckets',
  window_size: 'failureRate.windowSize',
  slow_call_duration: 'slowCall.durationMs',
  slow_call_ratio: 'slowCall.ratio',
  max_recovery_timeout: 'breakBackoff.maxMs',
  max_elapsed: 'maxElapsedMs',
  attempt_timeout: 'attemptTimeoutMs',
  hedge_delay: 'delayMs',
  ttl: 'ttlMs',
  window: 'windowMs',
  per: 'perMs',
};
const jsName = (snake) => JS_NAMES[snake] ?? snake.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

const nsOf = (ms) => Math.round(ms * 1e6);

class Retryable extends Error {}
class Fatal extends Error {}
/** An error on which the filter under test throws. */
class Unclassifiable extends Error {}
class Counted extends Error {}
class Ignored extends Error {}

/** Runs `fn` with console.warn captured (filters that throw are reported there). */
async function quietly(fn) {
  const warn = console.warn;
  const warned = [];
  console.warn = (...args) => warned.push(args);
  try {
    return { result: await fn(), warned };
  } finally {
    console.warn = warn;
  }
}

// --- Breakers ----------------------------------------------------------------

/** A virtual clock in milliseconds whose reading may be set to anything (NaN, negative). */
class Clock {
  ms = 0;
  read = () => this.ms;
  advance(ms) {
    this.ms += ms;
  }
}

/** Snapshot document fields by vector name -> the metric names of the JS API. */
const METRICS = {
  window_calls: 'windowCalls',
  window_failures: 'windowFailures',
  window_slow_calls: 'windowSlowCalls',
  failure_ratio: 'failureRatio',
  slow_call_ratio: 'slowCallRatio',
  rejections: 'rejections',
  openings: 'openings',
  consecutive_failures: 'consecutiveFailures',
  time_in_state_ms: 'timeInStateMs',
  break_ms: 'breakDurationMs',
};

function checkMetrics(metrics, expect, at) {
  for (const [key, want] of Object.entries(expect)) {
    const name = METRICS[key];
    assert.ok(name, `${at}: unknown metric ${key}`);
    assert.equal(metrics[name], want, `${at}: ${key}`);
  }
}

/** The public API: CircuitBreaker, permits held as pending executions. */
class PublicBreaker {
  constructor(options, clock) {
    this.options = options;
    this.clock = clock;
    this.breaker = this.#build({});
    this.held = new Map();
  }

  #build(extra) {
    return new CircuitBreaker({ ...this.options, ...extra, clock: this.clock.read, isFailure: (e) => !(e instanceof Ignored) });
  }

  /** Misuse cannot be said through the public API: no permit is ever in the user's hands. */
  expresses(step) {
    return step.on !== 'other' && step.expect !== 'misuse';
  }

  async call(outcome, durationMs) {
    const error = errorFor(outcome);
    const r = await this.breaker
      .execute(async () => {
        this.clock.advance(durationMs);
        if (error) throw error;
        return 'ok';
      })
      .then(
        (v) => ({ v }),
        (e) => ({ e }),
      );
    if (r.v === 'ok') return 'ok';
    if (r.e === error) return 'error';
    assert.ok(r.e instanceof BrokenCircuitError && r.e.name === 'BrokenCircuitError', `rejected with ${r.e}`);
    return 'rejected';
  }

  async acquire(id) {
    const d = deferred();
    const t = track(this.breaker.execute(() => d.promise));
    await flush();
    if (!t.settled) {
      this.held.set(id, { d, t });
      return { admitted: true };
    }
    assert.ok(t.error instanceof BrokenCircuitError, `rejected with ${t.error}`);
    return { admitted: false, retryAfterMs: t.error.retryAfterMs, reason: t.error.reason };
  }

  async complete(id, outcome) {
    const { d, t } = this.held.get(id);
    if (outcome === 'success') d.resolve('ok');
    else d.reject(errorFor(outcome));
    await t.done;
    return 'ok';
  }

  reset = () => this.breaker.reset();
  isolate = () => this.breaker.isolate();
  close = () => this.breaker.close();
  metrics = () => this.breaker.metrics;
  state = () => this.breaker.state;
  failureCount = () => this.breaker.failureCount;

  snapshot() {
    const saved = this.breaker.toJSON();
    assert.deepEqual(JSON.parse(JSON.stringify(saved)), saved, 'toJSON() is JSON as it is');
    assert.equal(JSON.stringify(this.breaker), JSON.stringify(saved), 'JSON.stringify(breaker) writes the snapshot');
    return saved;
  }

  restore(saved, clock) {
    this.clock = clock;
    this.breaker = this.#build({ initialState: saved });
    this.held = new Map();
  }

  restoreDocument(document) {
    const forms = [document];
    try {
      forms.push(JSON.parse(document)); // the object form, when the text is JSON at all
    } catch {
      // Truncated or not JSON: only the text form exists.
    }
    const reasons = forms.map((initialState) => {
      try {
        this.#build({ initialState });
        return 'accepted';
      } catch (e) {
        assert.ok(e instanceof SnapshotError && e.name === 'SnapshotError', `${e}`);
        assert.match(e.message, /snapshot/);
        return e.reason;
      }
    });
    assert.equal(new Set(reasons).size, 1, `text and object forms agree: ${reasons}`);
    return reasons[0];
  }
}

/** The token path: BreakerCore, as the glue drives it (acquire -> one report per token). */
class TokenBreaker {
  constructor(options, clock) {
    this.options = options;
    this.clock = clock;
    this.core = this.#build(undefined);
    this.other = this.#build(undefined); // a second breaker: its permits are not this one's
    this.held = new Map();
  }

  #build(initialState) {
    const o = this.options;
    return new raw.BreakerCore(
      o.failureThreshold,
      o.recoveryTimeoutMs,
      o.halfOpenMaxCalls,
      o.failureRate,
      o.slowCall,
      o.breakBackoff,
      initialState,
      this.clock.read,
    );
  }

  expresses() {
    return true;
  }

  /** As the glue does: a breaker that reads the clock on every report (or admission) gets the reading with it. */
  #now(core, admitting = false) {
    const every = admitting ? core.reads_clock_to_admit() : core.reads_clock_when_closed();
    return every ? this.clock.read() : undefined;
  }

  #report(token, outcome) {
    const { Yes, No } = raw.FilterVerdict;
    const now = this.#now(this.core);
    if (outcome === 'success') return this.core.record_success(token, now);
    if (outcome === 'failure') return this.core.record_error(token, Yes, now);
    if (outcome === 'ignored') return this.core.record_error(token, No, now);
    throw new Error(`unknown outcome ${outcome}`);
  }

  #word(answer) {
    const { Recorded, PermitMisuse } = raw.BreakerReport;
    if (answer === Recorded) return 'ok';
    if (answer === PermitMisuse) return 'misuse';
    throw new Error(`unexpected report ${answer}`);
  }

  call(outcome, durationMs) {
    const token = this.core.acquire(this.#now(this.core, true));
    if (token === raw.BreakerAdmission.Rejected) return 'rejected';
    assert.ok(token >= 0 && Number.isSafeInteger(token), `a token: ${token}`);
    this.clock.advance(durationMs);
    assert.equal(this.#word(this.#report(token, outcome)), 'ok');
    return outcome === 'success' ? 'ok' : 'error';
  }

  acquire(id, on) {
    const from = on === 'other' ? this.other : this.core;
    const token = from.acquire(this.#now(from, true));
    if (token >= 0) {
      this.held.set(id, token);
      return { admitted: true };
    }
    assert.equal(token, raw.BreakerAdmission.Rejected);
    const reasonName = raw.BreakerRejection[from.reject_reason()];
    return { admitted: false, retryAfterMs: from.retry_after_ms(), reasonName };
  }

  complete(id, outcome) {
    assert.ok(this.held.has(id), `no permit ${id}`);
    // Ids stay known after completing, so a step can report one twice.
    return this.#word(this.#report(this.held.get(id), outcome));
  }

  reset = () => this.core.reset();
  isolate = () => this.core.isolate();
  close = () => this.core.close();
  metrics = () => {
    const values = this.core.metrics_values();
    const metrics = Object.fromEntries(raw.breaker_metric_names().map((name, i) => [name, values[i]]));
    return { ...metrics, state: raw.breaker_state_names()[metrics.state] };
  };
  state = () => raw.breaker_state_names()[this.core.state_code()];
  failureCount = () => this.core.failure_count();
  snapshot = () => JSON.parse(this.core.snapshot());

  restore(saved, clock) {
    this.clock = clock;
    this.core = this.#build(JSON.stringify(saved));
    this.other = this.#build(undefined);
    this.held = new Map();
  }

  restoreDocument(document) {
    try {
      this.#build(document);
      return 'accepted';
    } catch (e) {
      assert.ok(e instanceof SnapshotError, `${e}`);
      return e.reason;
    }
  }
}

function errorFor(outcome) {
  if (outcome === 'success') return undefined;
  if (outcome === 'failure') return new Counted(outcome);
  if (outcome === 'ignored') return new Ignored(outcome);
  throw new Error(`unknown outcome ${outcome}`);
}

async function runBreaker(c, Driver) {
  const options = breakerOptions(c.config);
  const b = new Driver(options, new Clock());
  const snapshots = new Map();
  for (const [i, s] of c.steps.entries()) {
    const at = `${Driver.name} step ${i} ${JSON.stringify(s)}`;
    if (!b.expresses(s)) continue;
    switch (s.op) {
      case 'call': {
        assert.ok(['ok', 'error', 'rejected'].includes(s.expect), `${at}: unknown expect`);
        assert.equal(await b.call(s.outcome, s.duration_ms ?? 0), s.expect, at);
        break;
      }
      case 'acquire': {
        const got = await b.acquire(s.id, s.on);
        if (s.expect === 'admitted') assert.ok(got.admitted, `${at}: rejected`);
        else if (s.expect === 'rejected') {
          assert.ok(!got.admitted, `${at}: admitted`);
          if ('retry_after_ms' in s) assert.equal(got.retryAfterMs, s.retry_after_ms, at);
        } else throw new Error(`${at}: unknown expect ${s.expect}`);
        break;
      }
      case 'complete': {
        const want = s.expect ?? 'ok';
        assert.ok(['ok', 'misuse'].includes(want), `${at}: unknown expect`);
        assert.equal(await b.complete(s.id, s.outcome), want, at);
        break;
      }
      case 'advance':
        b.clock.advance(s.ms);
        break;
      case 'set_clock':
        b.clock.ms = value(s.ms);
        break;
      case 'reset':
        b.reset();
        break;
      case 'isolate':
        b.isolate();
        break;
      case 'close':
        b.close();
        break;
      case 'metrics': {
        const metrics = b.metrics();
        assert.equal(typeof metrics, 'object', at);
        checkMetrics(metrics, s.expect, at);
        break;
      }
      case 'snapshot': {
        const saved = b.snapshot();
        for (const [key, want] of Object.entries(s.expect)) assert.deepEqual(saved[key], want, `${at}: ${key}`);
        snapshots.set(s.id, saved);
        break;
      }
      case 'restore': {
        assert.ok(snapshots.has(s.from), `${at}: no snapshot ${s.from}`);
        // A new process: a new clock starting at clock_ms, the breaker built from the document.
        const clock = new Clock();
        clock.ms = s.clock_ms;
        b.restore(snapshots.get(s.from), clock);
        break;
      }
      case 'restore_document': {
        assert.ok(['malformed', 'unsupported_version'].includes(s.expect_error), `${at}: unknown expect_error`);
        assert.equal(b.restoreDocument(s.document), s.expect_error, at);
        break;
      }
      case 'check':
        assert.equal(b.state(), s.state, at);
        assert.equal(b.failureCount(), s.failure_count, at);
        break;
      default:
        throw new Error(`unknown breaker op ${s.op}`);
    }
  }
}

// --- Bulkheads ---------------------------------------------------------------

/** The public API: Bulkhead.execute, with each waiter's timeout fired by hand. */
async function runPublicBulkhead(c) {
  const timers = new Map(); // waiter id -> fires its timeout
  let current;
  const options = bulkheadOptions(c.config);
  const bulkhead = new Bulkhead({
    ...options,
    sleep: (ms, signal) => {
      assert.equal(ms, options.timeoutMs);
      const d = deferred();
      timers.set(current, { fire: () => d.resolve(), signal });
      return d.promise;
    },
  });
  const calls = new Map(); // id -> { started, d, t }
  const holders = new Set(); // ids running
  const finished = new Set();
  const startedNow = () => [...calls].filter(([id, x]) => x.started && !holders.has(id) && !finished.has(id)).map(([id]) => id);
  for (const [i, s] of c.steps.entries()) {
    const at = `public step ${i} ${JSON.stringify(s)}`;
    // Misuse (a slot released twice, another bulkhead's) cannot be said: slots are never in the user's hands.
    if (s.on === 'other' || s.expect === 'misuse') continue;
    switch (s.op) {
      case 'acquire': {
        const entry = { started: false, d: deferred() };
        current = s.id;
        entry.t = track(
          bulkhead.execute(() => {
            entry.started = true;
            return entry.d.promise;
          }),
        );
        calls.set(s.id, entry);
        await flush();
        if (s.expect === 'acquired') {
          assert.ok(entry.started, at);
          holders.add(s.id);
        } else if (s.expect === 'queued') {
          assert.ok(!entry.started && !entry.t.settled, at);
        } else if (s.expect === 'queue_full') {
          assert.ok(entry.t.error instanceof BulkheadRejectedError, at);
          assert.equal(entry.t.error.reason, 'queue_full', at);
        } else throw new Error(`${at}: unknown expect ${s.expect}`);
        break;
      }
      case 'release': {
        // The public API releases by finishing the running call.
        assert.ok(holders.has(s.id), `${at}: ${s.id} holds no slot`);
        holders.delete(s.id);
        finished.add(s.id);
        calls.get(s.id).d.resolve(s.id);
        await calls.get(s.id).t.done;
        await flush();
        const granted = startedNow();
        assert.deepEqual(granted, s.expect_granted === null ? [] : [s.expect_granted], at);
        for (const id of granted) holders.add(id);
        break;
      }
      case 'cancel': {
        // The waiter's timeout fires.
        timers.get(s.id).fire();
        await flush();
        const entry = calls.get(s.id);
        if (s.expect === 'withdrawn') {
          assert.ok(entry.t.error instanceof BulkheadRejectedError, at);
          assert.equal(entry.t.error.reason, 'timeout', at);
        } else if (s.expect === 'already_granted') {
          assert.ok(entry.started && !entry.t.settled, `${at}: it holds the slot`);
          assert.ok(timers.get(s.id).signal.aborted, `${at}: its timer was cancelled`);
        } else throw new Error(`${at}: unknown expect ${s.expect}`);
        break;
      }
      case 'check':
        assert.equal(bulkhead.active, s.active, at);
        assert.equal(bulkhead.queued, s.queued, at);
        break;
      default:
        throw new Error(`unknown bulkhead op ${s.op}`);
    }
  }
  // Finish whatever still runs: no slot or timer is left behind.
  for (const id of holders) calls.get(id).d.resolve(id);
  await flush();
}

/** The slot path: BulkheadCore, as the glue drives it. */
function runTokenBulkhead(c) {
  const o = bulkheadOptions(c.config);
  const core = new raw.BulkheadCore(o.maxConcurrent, o.maxQueueSize, o.timeoutMs);
  const other = new raw.BulkheadCore(o.maxConcurrent, o.maxQueueSize, o.timeoutMs);
  const { Queued, QueueFull } = raw.BulkheadAdmission;
  const { NoWaiter, SlotMisuse } = raw.BulkheadHandover;
  const { Withdrawn, AlreadyGranted, TicketMisuse } = raw.BulkheadCancel;
  const handles = new Map(); // id -> { slot } | { ticket }
  for (const [i, s] of c.steps.entries()) {
    const at = `token step ${i} ${JSON.stringify(s)}`;
    switch (s.op) {
      case 'acquire': {
        const from = s.on === 'other' ? other : core;
        const answer = from.try_acquire();
        let word;
        if (answer === QueueFull) word = 'queue_full';
        else if (answer === Queued) {
          word = 'queued';
          handles.set(s.id, { ticket: from.queued_ticket() });
        } else {
          assert.ok(answer >= 0 && Number.isSafeInteger(answer), `${at}: a slot: ${answer}`);
          word = 'acquired';
          handles.set(s.id, { slot: answer });
        }
        assert.equal(word, s.expect, at);
        break;
      }
      case 'release': {
        const h = handles.get(s.id);
        assert.ok(h, `${at}: unknown id`);
        const slot = h.slot ?? core.slot_of_ticket(h.ticket);
        const answer = core.release(slot);
        if (s.expect === 'misuse') {
          assert.equal(answer, SlotMisuse, at);
          break;
        }
        assert.ok(s.expect === undefined, `${at}: unknown expect`);
        assert.notEqual(answer, SlotMisuse, `${at}: refused`);
        const granted = answer === NoWaiter ? null : [...handles].find(([, x]) => x.ticket === answer)?.[0];
        assert.equal(granted, s.expect_granted, at);
        break;
      }
      case 'cancel': {
        const h = handles.get(s.id);
        assert.ok(h?.ticket !== undefined, `${at}: not a ticket`);
        const words = { [Withdrawn]: 'withdrawn', [AlreadyGranted]: 'already_granted', [TicketMisuse]: 'misuse' };
        assert.equal(words[core.cancel(h.ticket)], s.expect, at);
        break;
      }
      case 'check':
        assert.equal(core.active(), s.active, at);
        assert.equal(core.queued(), s.queued, at);
        break;
      default:
        throw new Error(`unknown bulkhead op ${s.op}`);
    }
  }
}

// --- Runners by kind ---------------------------------------------------------

const RUNNERS = {
  delays(c) {
    const policy = new RetryPolicy(policyOptions(c.policy));
    const got = c.attempts.map((a) => nsOf(policy.calculateDelayMs(value(a))));
    assert.deepEqual(got, c.expected_ns);
  },

  async retry(c) {
    const time = new VirtualTime();
    const onRetry = [];
    const gaveUp = [];
    let predicateCalls = 0;
    let predicateThrew = 0;
    const filter = (e) => {
      predicateCalls += 1;
      if (e instanceof Unclassifiable) {
        predicateThrew += 1;
        throw new Error('the filter cannot classify this error');
      }
      return e instanceof Retryable;
    };
    const policy = new RetryPolicy(policyOptions(c.policy, { retryableErrors: filter }));
    const executor = new RetryExecutor(policy, {
      sleep: time.sleep,
      onRetry: (attempt, _error, delayMs) => onRetry.push([attempt, nsOf(delayMs)]),
      onGiveUp: (attempts, reason, error) => gaveUp.push({ attempts, reason, error }),
    });
    let calls = 0;
    let lastError;
    const ERRORS = { retryable: Retryable, fatal: Fatal, predicate_fails: Unclassifiable };
    const op = async () => {
      const outcome = c.outcomes[calls];
      calls += 1;
      assert.ok(outcome !== undefined, `call ${calls} is beyond the script`);
      if (outcome === 'ok') return 'ok';
      assert.ok(outcome in ERRORS, `unknown outcome ${outcome}`);
      lastError = new ERRORS[outcome](`call ${calls}`);
      throw lastError;
    };
    const { result, warned } = await quietly(() =>
      executor.execute(op).then(
        (v) => ({ ok: v }),
        (e) => ({ error: e }),
      ),
    );
    const e = c.expected;
    onlyKnownKeys(e, ['result', 'attempts', 'reason', 'sleeps_ns', 'on_retry', 'predicate_calls'], 'expected');
    assert.equal(calls, e.attempts, 'attempts');
    assert.equal(predicateCalls, e.predicate_calls, 'predicate calls');
    assert.equal(warned.length, predicateThrew, 'each filter that threw is reported');
    assert.deepEqual(time.sleepsNs, e.sleeps_ns, 'sleeps');
    assert.deepEqual(onRetry, e.on_retry, 'on_retry');
    if (e.result === 'ok') {
      assert.equal(result.ok, 'ok');
      assert.deepEqual(gaveUp, []);
    } else {
      assert.equal(e.result, 'error');
      assert.equal(result.error, lastError, 'the last error, the same object');
      assert.deepEqual(gaveUp, [{ attempts: e.attempts, reason: e.reason, error: lastError }]);
    }
  },

  retry_state(c) {
    // The policy core the executor drives: RetryPolicyCore.needs_classification
    // (may the filter be asked?) and on_failure(verdict, hint), fed each
    // failure with its Retry-After hint (NaN: none). Its answers: the delay
    // in ms, or a RetryAnswer for giving up.
    const core = policyCore(c.policy);
    const GIVE_UPS = GIVE_UP();
    const { Yes, No, Failed } = raw.FilterVerdict;
    const VERDICTS = { yes: Yes, no: No, fails: Failed };
    const handle = core.begin(Number.NaN, Number.NaN);
    try {
      for (const [i, f] of c.failures.entries()) {
        const at = `failure ${i} ${JSON.stringify(f)}`;
        onlyKnownKeys(f, ['retryable', 'classify', 'retry_after_ms', 'expect'], 'failure');
        let verdict;
        if ('classify' in f) {
          assert.ok(f.classify in VERDICTS, `${at}: unknown classify`);
          // The glue runs the filter only when core asks.
          const asked = core.needs_classification(handle);
          assert.equal(asked, f.expect.asked, `${at}: asked`);
          verdict = asked ? VERDICTS[f.classify] : Yes;
        } else {
          verdict = f.retryable ? Yes : No;
        }
        const answer = core.on_failure(handle, verdict, f.retry_after_ms ?? Number.NaN, Number.NaN, Number.NaN);
        if ('retry_ns' in f.expect) assert.equal(nsOf(answer), f.expect.retry_ns, at);
        else if ('give_up' in f.expect) assert.equal(GIVE_UPS[answer], f.expect.give_up, at);
        else throw new Error(`unknown expect ${JSON.stringify(f.expect)}`);
      }
    } finally {
      core.end(handle);
    }
    assert.equal(core.sequences_in_flight(), 0);
  },

  decisions(c) {
    const policy = new RetryPolicy(policyOptions(c.policy, { retryableErrors: [Retryable] }));
    for (const d of c.should_retry) {
      const error = d.retryable ? new Retryable() : new Fatal();
      assert.equal(policy.shouldRetry(error, value(d.attempt)), d.expected, JSON.stringify(d));
    }
    for (const d of c.should_retry_status) {
      assert.equal(policy.shouldRetryResponse({ status: value(d.status) }, value(d.attempt)), d.expected, JSON.stringify(d));
    }
    for (const d of c.attempt_errors ?? []) {
      for (const run of [
        () => policy.calculateDelayMs(value(d.attempt)),
        () => policy.shouldRetry(new Retryable(), value(d.attempt)),
        () => policy.shouldRetryResponse({ status: 503 }, value(d.attempt)),
      ]) {
        assert.throws(run, (e) => {
          assert.ok(e instanceof ConfigError, `${e}`);
          assert.equal(e.parameter, 'attempt');
          assert.equal(e.kind, d.kind, JSON.stringify(d));
          return true;
        });
      }
    }
  },

  async retry_after(c) {
    // Through withRetry: a 503 carrying the header, then a 200; the one
    // sleep is the capped hint (base delay 0, no jitter).
    const time = new VirtualTime();
    const responses = [new Response(null, { status: 503, headers: { 'retry-after': c.header } }), new Response('ok', { status: 200 })];
    const fetchLike = withRetry(async () => responses.shift(), {
      maxAttempts: 2,
      baseDelayMs: 0,
      maxDelayMs: c.max_delay_ms,
      jitter: false,
      sleep: time.sleep,
      clock: () => c.now_unix_s * 1000,
    });
    const response = await fetchLike('http://unused.invalid/');
    assert.equal(response.status, 200);
    assert.deepEqual(time.sleepsNs, [c.expected_ns ?? 0]);
    // The parse itself: null means "ignored".
    const parsed = raw.retry_after_ms(c.header, c.now_unix_s * 1000);
    if (c.expected_ns === null) assert.equal(parsed, undefined);
    else assert.ok(parsed !== undefined);
  },

  async breaker(c) {
    await runBreaker(c, PublicBreaker);
    await runBreaker(c, TokenBreaker);
  },

  async fallback(c) {
    const calls = [];
    const errors = {};
    const OUTCOMES = ['ok', 'error', 'expected_error', 'unexpected_error', 'filter_fails'];
    const behave =
      (who, outcome) =>
      async (...args) => {
        calls.push(who);
        assert.deepEqual(args, ['x', 1], 'same arguments');
        assert.ok(OUTCOMES.includes(outcome), `unknown outcome ${outcome}`);
        if (outcome === 'ok') return who;
        const cls = { unexpected_error: Fatal, filter_fails: Unclassifiable }[outcome] ?? Retryable;
        errors[who] = new cls(who);
        throw errors[who];
      };
    const fallbacks = Array.from({ length: c.fallbacks }, (_, i) => behave(`fallback:${i}`, c.fallback_outcomes[i]));
    const isExpected = (e) => {
      if (e instanceof Unclassifiable) throw new Error('the filter cannot classify this error');
      return !(e instanceof Fatal);
    };
    const chain = new FallbackChain(fallbacks, { isExpected });
    const { result: r, warned } = await quietly(() =>
      chain.execute(behave('primary', c.primary), 'x', 1).then(
        (v) => ({ v }),
        (e) => ({ e }),
      ),
    );
    const e = c.expected;
    assert.deepEqual(calls, e.calls);
    assert.equal(warned.length, c.primary === 'filter_fails' ? 1 : 0, 'a failing filter is reported');
    if (e.answered_by !== null) assert.equal(r.v, e.answered_by);
    if (e.raised !== null) assert.equal(r.e, errors[e.raised], 'the raised error, the same object');
    else assert.equal(r.e, undefined);
  },

  async bulkhead(c) {
    await runPublicBulkhead(c);
    runTokenBulkhead(c);
  },

  config_errors(c) {
    const build = BUILDERS[c.component];
    assert.ok(build, `unknown component ${c.component}`);
    assert.throws(
      () => build(c.config),
      (e) => {
        assert.ok(e instanceof ConfigError, `${e}`);
        assert.equal(e.name, 'ConfigError');
        assert.equal(e.parameter, jsName(c.parameter));
        assert.equal(e.kind, c.kind);
        assert.match(e.message, new RegExp(`^invalid ${e.parameter.replace('.', '\\.')}: must be `));
        assert.ok(e.message.length < 200, e.message);
        return true;
      },
    );
  },

  config_accepted(c) {
    const build = BUILDERS[c.component];
    assert.ok(build, `unknown component ${c.component}`);
    build(c.config);
  },

  retry_timeline(c) {
    // The policy core the executor drives, told the clock: begin at
    // start_ms (null: no clock), then on_failure / on_timeout / on_result.
    const core = policyCore(c.policy);
    const GIVE_UPS = GIVE_UP();
    const { Yes, No, Failed } = raw.FilterVerdict;
    const JUDGED = { failure: Yes, success: No, fails: Failed };
    const handle = core.begin(c.start_ms ?? Number.NaN, Number.NaN);
    try {
      for (const [i, step] of c.steps.entries()) {
        const at = `step ${i} ${JSON.stringify(step)}`;
        onlyKnownKeys(step, ['at_ms', 'failure', 'retryable', 'retry_after_ms', 'judged', 'expect'], 'step');
        const now = step.at_ms ?? Number.NaN;
        const hint = step.retry_after_ms ?? Number.NaN;
        let answer;
        if (step.failure === 'error') answer = core.on_failure(handle, step.retryable ? Yes : No, hint, now, Number.NaN);
        else if (step.failure === 'timeout') answer = core.on_timeout(handle, now, Number.NaN);
        else if (step.failure === 'value') {
          assert.ok(step.judged in JUDGED, `${at}: unknown judgement`);
          answer = core.on_result(handle, JUDGED[step.judged], hint, now, Number.NaN);
        } else throw new Error(`${at}: unknown failure ${step.failure}`);
        const e = step.expect;
        onlyKnownKeys(e, ['retry_ns', 'give_up', 'accept'], 'expect');
        if ('retry_ns' in e) assert.equal(nsOf(answer), e.retry_ns, at);
        else if ('give_up' in e) assert.equal(GIVE_UPS[answer], e.give_up, at);
        else if (e.accept === true) assert.equal(answer, raw.RetryAnswer.Accept, at);
        else throw new Error(`${at}: unknown expect`);
      }
    } finally {
      core.end(handle);
    }
    assert.equal(core.sequences_in_flight(), 0);
  },

  timeout(c) {
    onlyKnownKeys(c, ['name', 'timeout_ms', 'start_ms', 'checks'], 'case');
    // The public strategy takes the timeout as core validated it...
    assert.equal(new Timeout({ timeoutMs: c.timeout_ms }).timeoutMs, c.timeout_ms);
    // ...and its expiry is core's Deadline (rule timeout_expiry).
    const core = new raw.TimeoutCore(c.timeout_ms);
    for (const check of c.checks) {
      const at = JSON.stringify(check);
      assert.equal(core.expired(c.start_ms, check.at_ms), check.expired, at);
      assert.equal(core.remaining_ns(c.start_ms, check.at_ms), BigInt(check.remaining_ns), at);
    }
  },

  async hedging(c) {
    // Virtual time: attempt n, once started, ends takes_ms later. At one
    // instant the answers are delivered in attempt order, each judged before
    // the next, and before a timer due then fires (rule hedge_timing).
    onlyKnownKeys(c.config, ['hedge_delay_ms', 'max_hedged_attempts'], 'hedging config');
    let now = 0;
    const timers = new Set();
    const ends = [];
    const started = [];
    const signals = new Map();
    const errors = new Map();
    const events = [];
    const sleep = (ms, signal) =>
      new Promise((resolve) => {
        const timer = { at: now + ms, resolve };
        timers.add(timer);
        signal?.addEventListener('abort', () => timers.delete(timer), { once: true });
      });
    const op = (signal, attempt) => {
      const step = c.attempts[attempt - 1];
      assert.ok(step, `attempt ${attempt} is beyond the script`);
      assert.ok(['ok', 'error', 'bad_value'].includes(step.outcome), `unknown outcome ${step.outcome}`);
      started.push(now);
      signals.set(attempt, signal);
      return new Promise((resolve, reject) => {
        ends.push({
          at: now + step.takes_ms,
          attempt,
          fire: () => {
            if (step.outcome !== 'error') return resolve(`${step.outcome}:${attempt}`);
            errors.set(attempt, new Error(`attempt ${attempt}`));
            return reject(errors.get(attempt));
          },
        });
      });
    };
    const h = new Hedge({
      delayMs: c.config.hedge_delay_ms,
      maxHedgedAttempts: c.config.max_hedged_attempts,
      isFailureResult: (v) => v.startsWith('bad_value'),
      sleep,
      clock: () => now,
      onEvent: (e) => events.push(e),
    });
    const t = track(h.execute(op));
    await flush();
    while (!t.settled) {
      const instants = [...ends.map((e) => e.at), ...[...timers].map((x) => x.at)];
      assert.ok(instants.length > 0, 'nothing to wait for');
      now = Math.min(...instants);
      for (const e of ends.filter((x) => x.at === now).sort((a, b) => a.attempt - b.attempt)) {
        ends.splice(ends.indexOf(e), 1);
        e.fire();
        await flush();
        if (t.settled) break;
      }
      if (t.settled) break;
      for (const timer of [...timers].filter((x) => x.at === now)) {
        timers.delete(timer);
        timer.resolve();
      }
      await flush();
    }
    const x = c.expected;
    onlyKnownKeys(x, ['started_ms', 'answered_by', 'result', 'at_ms', 'cancelled', 'events'], 'expected');
    assert.deepEqual(started, x.started_ms, 'started_ms');
    let answeredBy;
    let result;
    if (t.rejected) {
      result = 'error';
      answeredBy = [...errors].find(([, e]) => e === t.error)?.[0];
    } else {
      [result, answeredBy] = t.value.split(':');
      answeredBy = Number(answeredBy);
    }
    assert.equal(answeredBy, x.answered_by, 'answered_by');
    assert.equal(result, x.result, 'result');
    assert.equal(now, x.at_ms, 'at_ms');
    const cancelled = [...signals].filter(([, s]) => s.aborted).map(([a]) => a).sort((a, b) => a - b);
    assert.deepEqual(cancelled, x.cancelled, 'the attempts still running are cancelled (their signals aborted)');
    assert.equal(signals.get(answeredBy).aborted, false, "the winner's signal is not aborted");
    assert.equal(timers.size, 0, 'no hedge timer is left');
    assert.deepEqual(
      events.map((e) => ({ type: e.type, attempt: e.attempt })),
      x.events,
      'events',
    );
  },

  async events(c) {
    onlyKnownKeys(c, ['name', 'attempt_ms', 'pipeline', 'calls'], 'case');
    const clock = { ms: 0 };
    const sleep = async (ms) => {
      clock.ms += ms;
    };
    const attemptMs = c.attempt_ms ?? 0;
    class Outcome extends Error {}
    const held = [];
    let breaker;
    const strategies = c.pipeline.map((s) => {
      onlyKnownKeys(s, ['strategy', 'policy', 'config', 'fallbacks', 'occupied', 'taken', 'history'], 'strategy');
      switch (s.strategy) {
        case 'retry':
          return new RetryPolicy({
            ...policyOptions(s.policy),
            retryableErrors: (e) => !(e instanceof Outcome && e.message === 'fatal'),
            retryableResult: (v) => v === 'bad_value',
          });
        case 'breaker':
          breaker = new CircuitBreaker({ ...breakerOptions(s.config), clock: () => clock.ms, isFailureResult: (v) => v === 'bad_value' });
          return breaker;
        case 'fallback':
          return new FallbackChain(
            s.fallbacks.map((o, i) => async () => {
              assert.ok(['ok', 'error'].includes(o), `unknown fallback outcome ${o}`);
              if (o === 'ok') return `fallback:${i}`;
              throw new Outcome(`fallback:${i}`);
            }),
          );
        case 'bulkhead': {
          const bulkhead = new Bulkhead(bulkheadOptions(s.config));
          for (let i = 0; i < (s.occupied ?? 0); i += 1) {
            const d = deferred();
            held.push(d);
            void bulkhead.execute(() => d.promise);
          }
          return bulkhead;
        }
        case 'rate_limiter': {
          // The limiter and the throttle run on the pipeline's clock.
          const limiter = new RateLimiter(loadOptions('limiter', s.config, { clock: () => clock.ms }));
          if (s.taken !== undefined) assert.equal(limiter.tryAcquire(s.taken), true, 'others took their cells at clock 0');
          return limiter;
        }
        case 'throttle': {
          const throttle = new AdaptiveThrottle(loadOptions('throttle', s.config, { clock: () => clock.ms }));
          if (s.history !== undefined) seedHistory(throttle, s.history);
          return throttle;
        }
        default:
          throw new Error(`the runner has no strategy ${s.strategy}`);
      }
    });
    const log = [];
    const p = pipeline(...strategies, { onEvent: (e) => log.push(e), sleep, clock: () => clock.ms });
    assert.deepEqual(p.strategies, c.pipeline.map((s) => s.strategy));
    const label = (x) => {
      if (typeof x === 'string') return x;
      if (x instanceof Outcome) return x.message;
      if (x instanceof BrokenCircuitError) return 'breaker_open';
      if (x instanceof TimeoutError) return 'timed_out';
      if (x instanceof BulkheadRejectedError) return 'bulkhead_full';
      if (x instanceof RateLimitedError) return 'rate_limited';
      if (x instanceof ThrottledError) return 'throttled';
      throw new Error(`unexpected ${x}`);
    };
    const record = (e) => {
      switch (e.type) {
        case 'retry_scheduled':
          return { type: e.type, attempt: e.attempt, delay_ns: nsOf(e.delayMs), cause: label('error' in e ? e.error : e.result) };
        case 'gave_up':
          return { type: e.type, attempts: e.attempts, reason: e.reason };
        case 'breaker_transition':
          return { type: e.type, from: e.from, to: e.to };
        case 'breaker_rejected':
          return { type: e.type, retry_after_ns: nsOf(e.retryAfterMs) };
        case 'timeout':
          return { type: e.type, strategy: e.strategy, after_ns: nsOf(e.afterMs) };
        case 'hedge_started':
          return { type: e.type, attempt: e.attempt };
        case 'fallback_used':
          return { type: e.type, index: e.index };
        case 'bulkhead_rejected':
          return { type: e.type };
        case 'rate_limited':
          return { type: e.type, retry_after_ns: nsOf(e.retryAfterMs) };
        case 'throttled':
          return { type: e.type, retry_after_ns: nsOf(e.retryAfterMs), probability: e.probability };
        default:
          throw new Error(`unknown event ${e.type}`);
      }
    };
    for (const [i, call] of c.calls.entries()) {
      const at = `call ${i}`;
      const script = [...call.outcomes];
      log.length = 0;
      const result = await p
        .execute(async () => {
          clock.ms += attemptMs;
          const o = script.shift();
          assert.ok(o !== undefined, `${at}: more runs than scripted`);
          assert.ok(['ok', 'bad_value', 'error', 'fatal'].includes(o), `unknown outcome ${o}`);
          if (o === 'ok' || o === 'bad_value') return o;
          throw new Outcome(o);
        })
        .then(label, label);
      assert.deepEqual(script, [], `${at}: scripted runs left over`);
      onlyKnownKeys(call.expected, ['result', 'events', 'breaker'], 'expected');
      assert.equal(result, call.expected.result, `${at}: result`);
      assert.deepEqual(log.map(record), call.expected.events, `${at}: events`);
      if (call.expected.breaker) {
        assert.equal(breaker.state, call.expected.breaker.state, `${at}: breaker state`);
        assert.equal(breaker.failureCount, call.expected.breaker.failure_count, `${at}: failure count`);
      }
    }
    for (const d of held) d.resolve();
    await flush();
  },

  budget(c) {
    const clock = { ms: 0 };
    const budget = new RetryBudget(loadOptions('budget', c.config, { clock: () => clock.ms }));
    for (const [i, s] of c.steps.entries()) {
      const at = `step ${i} ${JSON.stringify(s)}`;
      if (clockStep(clock, s)) continue;
      switch (s.op) {
        case 'deposit':
          for (let k = 0; k < (s.times ?? 1); k += 1) budget.deposit();
          break;
        case 'withdraw':
          if ('expect' in s) assert.deepEqual(s.expect.map(() => budget.tryWithdraw()), s.expect, at);
          else {
            let granted = 0;
            for (let k = 0; k < s.times; k += 1) if (budget.tryWithdraw()) granted += 1;
            assert.equal(granted, s.granted, at);
          }
          break;
        case 'check':
          assert.equal(budget.available, s.available, at);
          break;
        default:
          throw new Error(`unknown budget op ${s.op}`);
      }
    }
  },

  budget_retry(c) {
    // One budget shared by every sequence of one policy, driven through the
    // policy core the executor drives (begin: a first attempt's deposit).
    const clock = { ms: 0 };
    const b = loadOptions('budget', c.budget);
    const budget = new raw.BudgetCore(b.ttlMs, b.minRetriesPerSec, b.retryRatio);
    const core = policyCore(c.policy, budget.share());
    const GIVE_UPS = GIVE_UP();
    const { Yes, No } = raw.FilterVerdict;
    const sequences = new Map();
    for (const [i, s] of c.steps.entries()) {
      const at = `step ${i} ${JSON.stringify(s)}`;
      if (clockStep(clock, s)) continue;
      switch (s.op) {
        case 'start':
          sequences.set(s.seq, core.begin(Number.NaN, clock.ms));
          break;
        case 'failure': {
          assert.ok(sequences.has(s.seq), `${at}: a started sequence`);
          const answer = core.on_failure(sequences.get(s.seq), s.retryable ? Yes : No, Number.NaN, Number.NaN, clock.ms);
          if ('retry_ns' in s.expect) assert.equal(nsOf(answer), s.expect.retry_ns, at);
          else assert.equal(GIVE_UPS[answer], s.expect.give_up, at);
          break;
        }
        case 'check':
          assert.equal(budget.available(clock.ms), s.available, at);
          break;
        default:
          throw new Error(`unknown budget_retry op ${s.op}`);
      }
    }
    for (const handle of sequences.values()) core.end(handle);
  },

  async throttle(c) {
    const clock = { ms: 0 };
    const throttle = new AdaptiveThrottle(loadOptions('throttle', c.config, { clock: () => clock.ms }));
    for (const [i, s] of c.steps.entries()) {
      const at = `step ${i} ${JSON.stringify(s)}`;
      if (clockStep(clock, s)) continue;
      switch (s.op) {
        case 'requests': {
          const got = [...s.expect]
            .map(() => {
              if (!throttle.tryAdmit()) return 't';
              throttle.record(s.accepted);
              return 'a';
            })
            .join('');
          assert.equal(got, s.expect, at);
          break;
        }
        case 'check': {
          const { requests, accepts, probability } = throttle.stats;
          assert.deepEqual({ requests, accepts, probability }, { requests: s.requests, accepts: s.accepts, probability: s.probability }, at);
          break;
        }
        case 'throttled': {
          let ran = false;
          const error = await throttle.execute(() => {
            ran = true;
          }).then(
            () => undefined,
            (e) => e,
          );
          assert.ok(!ran && error instanceof ThrottledError && error.name === 'ThrottledError', `${at}: shed`);
          assert.equal(nsOf(error.retryAfterMs), s.retry_after_ns, at);
          break;
        }
        default:
          throw new Error(`unknown throttle op ${s.op}`);
      }
    }
  },

  async limiter(c) {
    const clock = { ms: 0 };
    const refused = [];
    const slept = [];
    const limiter = new RateLimiter(
      loadOptions('limiter', c.config, {
        clock: () => clock.ms,
        sleep: async (ms) => {
          slept.push(nsOf(ms));
          clock.ms += ms;
        },
        onEvent: (e) => refused.push(e),
      }),
    );
    for (const [i, s] of c.steps.entries()) {
      const at = `step ${i} ${JSON.stringify(s)}`;
      if (clockStep(clock, s)) continue;
      const n = value(s.n);
      switch (s.op) {
        case 'acquire': {
          refused.length = 0;
          let got;
          try {
            got = limiter.tryAcquire(n) ? 'ok' : undefined;
          } catch (e) {
            assert.ok(e instanceof ConfigError && e.parameter === 'n', `${at}: ${e}`);
            got = { error: e.kind };
          }
          if (got === undefined) {
            assert.equal(refused.length, 1, `${at}: one rate_limited event`);
            const [e] = refused;
            assert.equal(e.type, 'rate_limited');
            got = e.reason === 'exceeds_burst' ? 'exceeds_burst' : { wait_ns: nsOf(e.retryAfterMs) };
          }
          assert.deepEqual(got, s.expect, at);
          break;
        }
        case 'acquire_blocking': {
          slept.length = 0;
          const outcome = await limiter.acquire(n).then(
            () => 'ok',
            (e) => e,
          );
          if (s.expect === 'exceeds_burst') {
            assert.ok(outcome instanceof RateLimitedError && outcome.reason === 'exceeds_burst', `${at}: ${outcome}`);
            assert.deepEqual(slept, [], at);
          } else {
            assert.ok(!('expect' in s), `${at}: unknown expect`);
            assert.equal(outcome, 'ok', at);
            assert.deepEqual(slept, s.sleeps_ns, at);
          }
          break;
        }
        default:
          throw new Error(`unknown limiter op ${s.op}`);
      }
    }
  },
};

/** A strategy object per core strategy name (for `pipeline` configs). */
const STRATEGIES = {
  fallback: () => new FallbackChain([]),
  total_timeout: () => new Timeout({ timeoutMs: 1000 }),
  retry: () => new RetryPolicy(),
  breaker: () => new CircuitBreaker(),
  attempt_timeout: () => new Timeout({ timeoutMs: 1000, scope: 'attempt' }),
  hedging: () => new Hedge(),
  rate_limiter: () => new RateLimiter(),
  bulkhead: () => new Bulkhead(),
  throttle: () => new AdaptiveThrottle(),
};

const BUILDERS = {
  retry: (config) => new RetryPolicy(policyOptions(config)),
  breaker: (config) => new CircuitBreaker(breakerOptions(config)),
  bulkhead: (config) => new Bulkhead(bulkheadOptions(config)),
  timeout: (config) => {
    onlyKnownKeys(config, ['timeout_ms'], 'timeout config');
    return new Timeout('timeout_ms' in config ? { timeoutMs: value(config.timeout_ms) } : {});
  },
  hedging: (config) => {
    onlyKnownKeys(config, ['hedge_delay_ms', 'max_hedged_attempts'], 'hedging config');
    const o = {};
    if ('hedge_delay_ms' in config) o.delayMs = value(config.hedge_delay_ms);
    if ('max_hedged_attempts' in config) o.maxHedgedAttempts = value(config.max_hedged_attempts);
    return new Hedge(o);
  },
  pipeline: (config) => {
    onlyKnownKeys(config, ['strategies'], 'pipeline config');
    // Each name as its strategy object; anything else as it is (core judges it).
    const strategies = config.strategies.map((name) => (Object.hasOwn(STRATEGIES, name) ? STRATEGIES[name]() : value(name)));
    const built = pipeline(...strategies);
    assert.deepEqual(built.strategies, config.strategies, 'the pipeline names its strategies as core does');
    return built;
  },
  budget: (config) => new RetryBudget(loadOptions('budget', config)),
  throttle: (config) => new AdaptiveThrottle(loadOptions('throttle', config)),
  limiter: (config) => new RateLimiter(loadOptions('limiter', config)),
};

const files = readdirSync(VECTORS)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('the conformance folder has every vector file', () => {
  assert.ok(files.length >= 11, files.join());
});

for (const file of files) {
  // Nanosecond figures beyond 2^53 (a saturated deadline) are read as text, exactly.
  const text = readFileSync(VECTORS + file, 'utf8').replace(/("[a-z_]+_ns":\s*)(\d{16,})/g, '$1"$2"');
  const vector = JSON.parse(text);
  test(`${file} (${vector.kind})`, async (t) => {
    const run = RUNNERS[vector.kind];
    assert.ok(run, `unknown kind ${vector.kind} in ${file}`);
    assert.ok(vector.cases.length > 0, 'a vector file has cases');
    for (const c of vector.cases) await t.test(c.name, () => run(c));
  });
}
