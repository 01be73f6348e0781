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
  BrokenCircuitError,
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  ConfigError,
  FallbackChain,
  RetryExecutor,
  RetryPolicy,
  SnapshotError,
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

const POLICY_KEYS = ['max_attempts', 'backoff', 'base_delay_ms', 'max_delay_ms', 'jitter', 'seed', 'retryable_status_codes'];

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
  return o;
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
    const p = policyOptions(c.policy);
    const core = new raw.RetryPolicyCore(p.maxAttempts, p.backoff, p.baseDelayMs, p.maxDelayMs, p.jitter, p.retryableStatusCodes, p.seed);
    const GIVE_UP = {
      [raw.RetryAnswer.GiveUpExhausted]: 'exhausted',
      [raw.RetryAnswer.GiveUpNotRetryable]: 'not_retryable',
    };
    const { Yes, No, Failed } = raw.FilterVerdict;
    const VERDICTS = { yes: Yes, no: No, fails: Failed };
    const handle = core.begin();
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
        const answer = core.on_failure(handle, verdict, f.retry_after_ms ?? Number.NaN);
        if ('retry_ns' in f.expect) assert.equal(nsOf(answer), f.expect.retry_ns, at);
        else if ('give_up' in f.expect) assert.equal(GIVE_UP[answer], f.expect.give_up, at);
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
        assert.ok(e.message.length < 160, e.message);
        return true;
      },
    );
  },

  config_accepted(c) {
    const build = BUILDERS[c.component];
    assert.ok(build, `unknown component ${c.component}`);
    build(c.config);
  },
};

const BUILDERS = {
  retry: (config) => new RetryPolicy(policyOptions(config)),
  breaker: (config) => new CircuitBreaker(breakerOptions(config)),
  bulkhead: (config) => new Bulkhead(bulkheadOptions(config)),
};

const files = readdirSync(VECTORS)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('the conformance folder has every vector file', () => {
  assert.ok(files.length >= 11, files.join());
});

for (const file of files) {
  const vector = JSON.parse(readFileSync(VECTORS + file, 'utf8'));
  test(`${file} (${vector.kind})`, async (t) => {
    const run = RUNNERS[vector.kind];
    assert.ok(run, `unknown kind ${vector.kind} in ${file}`);
    assert.ok(vector.cases.length > 0, 'a vector file has cases');
    for (const c of vector.cases) await t.test(c.name, () => run(c));
  });
}
