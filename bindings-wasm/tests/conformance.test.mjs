// Runs every conformance vector in ../../tests/conformance through the
// public API. An unknown kind or op fails the run, so no vector is skipped.
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
  withRetry,
} from 'resilience-wasm';
import { deferred, flush, track, VirtualTime } from './helpers/virtual-time.mjs';

const VECTORS = fileURLToPath(new URL('../../tests/conformance/', import.meta.url));
// The raw wasm module the package loaded (the same instance: same path).
const raw = createRequire(import.meta.url)('../dist/node/resilience_wasm.js');

const SPECIAL_NUMBERS = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const num = (v) => (typeof v === 'string' && v in SPECIAL_NUMBERS ? SPECIAL_NUMBERS[v] : v);

/** JS options of a vector's policy object. */
function policyOptions(p = {}, extra = {}) {
  const o = { ...extra };
  if ('max_attempts' in p) o.maxAttempts = num(p.max_attempts);
  if ('backoff' in p) o.backoff = p.backoff;
  if ('base_delay_ms' in p) o.baseDelayMs = num(p.base_delay_ms);
  if ('max_delay_ms' in p) o.maxDelayMs = num(p.max_delay_ms);
  if ('jitter' in p) o.jitter = p.jitter;
  if ('seed' in p) o.seed = p.seed;
  if ('retryable_status_codes' in p) o.retryableStatusCodes = p.retryable_status_codes;
  return o;
}

const nsOf = (ms) => Math.round(ms * 1e6);

class Retryable extends Error {}
class Fatal extends Error {}
class Counted extends Error {}
class Ignored extends Error {}

const RUNNERS = {
  delays(c) {
    const policy = new RetryPolicy(policyOptions(c.policy));
    const got = c.attempts.map((a) => nsOf(policy.calculateDelayMs(a)));
    assert.deepEqual(got, c.expected_ns);
  },

  async retry(c) {
    const time = new VirtualTime();
    const onRetry = [];
    const policy = new RetryPolicy(policyOptions(c.policy, { retryableErrors: [Retryable] }));
    const executor = new RetryExecutor(policy, {
      sleep: time.sleep,
      onRetry: (attempt, _error, delayMs) => onRetry.push([attempt, nsOf(delayMs)]),
      onGiveUp: (attempts, reason, error) => gaveUp.push({ attempts, reason, error }),
    });
    const gaveUp = [];
    let calls = 0;
    let lastError;
    const op = async () => {
      const outcome = c.outcomes[calls];
      calls += 1;
      assert.ok(outcome !== undefined, `call ${calls} is beyond the script`);
      if (outcome === 'ok') return 'ok';
      lastError = outcome === 'retryable' ? new Retryable(`call ${calls}`) : new Fatal(`call ${calls}`);
      if (!['retryable', 'fatal'].includes(outcome)) throw new Error(`unknown outcome ${outcome}`);
      throw lastError;
    };
    const result = await executor.execute(op).then(
      (v) => ({ ok: v }),
      (e) => ({ error: e }),
    );
    const e = c.expected;
    assert.equal(calls, e.attempts, 'attempts');
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
    // The policy core the executor drives (RetryPolicyCore.on_failure), fed
    // each failure with its Retry-After hint (NaN: none). Its answers: the
    // delay in ms, or a RetryAnswer for giving up (exhausted / not retryable).
    const p = policyOptions(c.policy);
    const core = new raw.RetryPolicyCore(
      p.maxAttempts,
      p.backoff,
      p.baseDelayMs,
      p.maxDelayMs,
      p.jitter,
      p.retryableStatusCodes,
      p.seed,
    );
    const GIVE_UP = {
      [raw.RetryAnswer.GiveUpExhausted]: 'exhausted',
      [raw.RetryAnswer.GiveUpNotRetryable]: 'not_retryable',
    };
    const handle = core.begin();
    try {
      for (const [i, f] of c.failures.entries()) {
        const at = `failure ${i} ${JSON.stringify(f)}`;
        const answer = core.on_failure(handle, f.retryable, f.retry_after_ms ?? Number.NaN);
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
      assert.equal(policy.shouldRetry(error, d.attempt), d.expected, JSON.stringify(d));
    }
    for (const d of c.should_retry_status) {
      assert.equal(policy.shouldRetryResponse({ status: d.status }, d.attempt), d.expected, JSON.stringify(d));
    }
  },

  async retry_after(c) {
    // Through withRetry: a 503 carrying the header, then a 200; the one
    // sleep is the capped hint (base delay 0, no jitter).
    const time = new VirtualTime();
    const responses = [
      new Response(null, { status: 503, headers: { 'retry-after': c.header } }),
      new Response('ok', { status: 200 }),
    ];
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
    const time = new VirtualTime();
    const cfg = c.config;
    const breaker = new CircuitBreaker({
      failureThreshold: cfg.failure_threshold,
      recoveryTimeoutMs: cfg.recovery_timeout_ms,
      halfOpenMaxCalls: cfg.half_open_max_calls,
      isFailure: (e) => !(e instanceof Ignored),
      clock: time.clock,
    });
    const held = new Map();
    const errorFor = (outcome) => {
      if (outcome === 'failure') return new Counted(outcome);
      if (outcome === 'ignored') return new Ignored(outcome);
      throw new Error(`unknown outcome ${outcome}`);
    };
    for (const [i, s] of c.steps.entries()) {
      const at = `step ${i} ${JSON.stringify(s)}`;
      switch (s.op) {
        case 'call': {
          const error = s.outcome === 'success' ? undefined : errorFor(s.outcome);
          const r = await breaker
            .execute(async () => {
              if (error) throw error;
              return 'ok';
            })
            .then((v) => ({ v }), (e) => ({ e }));
          if (s.expect === 'ok') assert.equal(r.v, 'ok', at);
          else if (s.expect === 'error') assert.equal(r.e, error, at);
          else if (s.expect === 'rejected') assert.ok(r.e instanceof BrokenCircuitError, at);
          else throw new Error(`unknown expect ${s.expect}`);
          break;
        }
        case 'acquire': {
          const d = deferred();
          const t = track(breaker.execute(() => d.promise));
          await flush();
          if (s.expect === 'admitted') {
            assert.equal(t.settled, false, at);
            held.set(s.id, { d, t });
          } else if (s.expect === 'rejected') {
            assert.ok(t.error instanceof BrokenCircuitError, at);
            assert.equal(t.error.name, 'BrokenCircuitError');
            if ('retry_after_ms' in s) assert.equal(t.error.retryAfterMs, s.retry_after_ms, at);
          } else throw new Error(`unknown expect ${s.expect}`);
          break;
        }
        case 'complete': {
          const { d, t } = held.get(s.id);
          held.delete(s.id);
          if (s.outcome === 'success') d.resolve('ok');
          else d.reject(errorFor(s.outcome));
          await t.done;
          break;
        }
        case 'advance':
          time.advanceMs(s.ms);
          break;
        case 'reset':
          breaker.reset();
          break;
        case 'check':
          assert.equal(breaker.state, s.state, at);
          assert.equal(breaker.failureCount, s.failure_count, at);
          break;
        default:
          throw new Error(`unknown breaker op ${s.op}`);
      }
    }
  },

  async fallback(c) {
    const calls = [];
    const errors = {};
    const behave = (who, outcome) => async (...args) => {
      calls.push(who);
      assert.deepEqual(args, ['x', 1], 'same arguments');
      if (outcome === 'ok') return who;
      if (!['error', 'expected_error', 'unexpected_error'].includes(outcome)) throw new Error(`unknown outcome ${outcome}`);
      errors[who] = outcome === 'unexpected_error' ? new Fatal(who) : new Retryable(who);
      throw errors[who];
    };
    const fallbacks = Array.from({ length: c.fallbacks }, (_, i) => behave(`fallback:${i}`, c.fallback_outcomes[i]));
    const chain = new FallbackChain(fallbacks, { isExpected: (e) => !(e instanceof Fatal) });
    const r = await chain.execute(behave('primary', c.primary), 'x', 1).then((v) => ({ v }), (e) => ({ e }));
    const e = c.expected;
    assert.deepEqual(calls, e.calls);
    if (e.answered_by !== null) assert.equal(r.v, e.answered_by);
    if (e.raised !== null) assert.equal(r.e, errors[e.raised], 'the raised error, the same object');
    else assert.equal(r.e, undefined);
  },

  async bulkhead(c) {
    const timers = new Map(); // waiter id -> fires its timeout
    let current;
    const bulkhead = new Bulkhead({
      maxConcurrent: c.config.max_concurrent,
      maxQueueSize: c.config.max_queue_size,
      timeoutMs: c.config.timeout_ms,
      sleep: (ms, signal) => {
        assert.equal(ms, c.config.timeout_ms);
        const d = deferred();
        timers.set(current, { fire: () => d.resolve(), signal });
        return d.promise;
      },
    });
    const calls = new Map(); // id -> { started, d, t }
    const holders = []; // ids running, in the order they got a slot
    const finished = new Set();
    const startedNow = () =>
      [...calls].filter(([id, x]) => x.started && !holders.includes(id) && !finished.has(id)).map(([id]) => id);
    for (const [i, s] of c.steps.entries()) {
      const at = `step ${i} ${JSON.stringify(s)}`;
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
            holders.push(s.id);
          } else if (s.expect === 'queued') {
            assert.ok(!entry.started && !entry.t.settled, at);
          } else if (s.expect === 'queue_full') {
            assert.ok(entry.t.error instanceof BulkheadRejectedError, at);
            assert.equal(entry.t.error.reason, 'queue_full', at);
          } else throw new Error(`unknown expect ${s.expect}`);
          break;
        }
        case 'release': {
          // The public API releases by finishing a running call (the oldest).
          if (holders.length === 0) {
            assert.equal(s.expect_granted, null, `${at}: nothing held, nothing to hand over`);
            break;
          }
          const id = holders.shift();
          finished.add(id);
          calls.get(id).d.resolve(id);
          await calls.get(id).t.done;
          await flush();
          const granted = startedNow();
          assert.deepEqual(granted, s.expect_granted === null ? [] : [s.expect_granted], at);
          holders.push(...granted);
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
          } else throw new Error(`unknown expect ${s.expect}`);
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
  },

  config_errors(c) {
    const cfg = Object.fromEntries(Object.entries(c.config).map(([k, v]) => [k, num(v)]));
    const build = {
      retry: () => new RetryPolicy(policyOptions(cfg)),
      breaker: () =>
        new CircuitBreaker({
          failureThreshold: cfg.failure_threshold,
          recoveryTimeoutMs: cfg.recovery_timeout_ms,
          halfOpenMaxCalls: cfg.half_open_max_calls,
        }),
      bulkhead: () =>
        new Bulkhead({ maxConcurrent: cfg.max_concurrent, maxQueueSize: cfg.max_queue_size, timeoutMs: cfg.timeout_ms }),
    }[c.component];
    assert.ok(build, `unknown component ${c.component}`);
    assert.throws(build, (e) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.name, 'ConfigError');
      assert.equal(e.parameter, JS_NAMES[c.parameter] ?? c.parameter);
      assert.match(e.message, new RegExp(`^invalid ${e.parameter}: must be .+, got `));
      return true;
    });
  },
};

/** How the JS API spells core's parameter names. */
const JS_NAMES = {
  max_attempts: 'maxAttempts',
  base_delay: 'baseDelayMs',
  max_delay: 'maxDelayMs',
  failure_threshold: 'failureThreshold',
  recovery_timeout: 'recoveryTimeoutMs',
  half_open_max_calls: 'halfOpenMaxCalls',
  max_concurrent: 'maxConcurrent',
  max_queue_size: 'maxQueueSize',
  timeout: 'timeoutMs',
  retryable_status_codes: 'retryableStatusCodes',
};

const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();

test('the conformance folder has vectors', () => {
  assert.ok(files.length > 0);
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
