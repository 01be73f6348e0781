// Runs the shared-state vectors in ../../tests/conformance/fleet (format:
// tests/README.md, "Shared state") through the fleet hooks the Node Redis
// driver uses: a BreakerCore built as `{ store, name }` builds it (with a
// FleetConfigCore), its `fleet_*` hooks, FleetConfigCore and key_part. An
// unknown kind, op or key fails the run, so no vector is skipped silently.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CircuitBreaker, ConfigError } from 'resilience-wasm';

const FLEET = fileURLToPath(new URL('../../tests/conformance/fleet/', import.meta.url));
// The raw wasm module the package loaded (the same instance: same path).
const raw = createRequire(import.meta.url)('../dist/node/resilience_wasm.js');

const SPECIAL_FLOATS = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function value(encoded) {
  if (encoded !== null && typeof encoded === 'object') {
    assert.deepEqual(Object.keys(encoded), ['float'], `unknown encoded value ${JSON.stringify(encoded)}`);
    return SPECIAL_FLOATS[encoded.float];
  }
  return encoded ?? undefined;
}

const BREAKER_KEYS = new Set([
  'failure_threshold', 'recovery_timeout_ms', 'half_open_max_calls', 'failure_ratio', 'minimum_throughput',
  'sampling_duration_ms', 'sampling_buckets', 'window_size', 'slow_call_duration_ms', 'slow_call_ratio',
]);

/** The vector's breaker config as BreakerCore's arguments (the JS API's option objects). */
function coreArgs(c) {
  for (const key of Object.keys(c)) assert.ok(BREAKER_KEYS.has(key), `unknown breaker key ${key}`);
  let failureRate;
  if (c.failure_ratio !== undefined) {
    failureRate = { ratio: c.failure_ratio, minimumThroughput: c.minimum_throughput };
    if (c.window_size !== undefined) failureRate.windowSize = c.window_size;
    else {
      failureRate.samplingDurationMs = c.sampling_duration_ms;
      failureRate.buckets = c.sampling_buckets;
    }
  }
  const slowCall =
    c.slow_call_duration_ms === undefined ? undefined : { durationMs: c.slow_call_duration_ms, ratio: c.slow_call_ratio };
  return [c.failure_threshold, c.recovery_timeout_ms, c.half_open_max_calls, failureRate, slowCall, undefined, undefined];
}

function fleetConfig(f) {
  for (const key of Object.keys(f)) assert.ok(['sync_interval_ms', 'sync_timeout_ms'].includes(key), `unknown fleet key ${key}`);
  return new raw.FleetConfigCore(value(f.sync_interval_ms), value(f.sync_timeout_ms));
}

const ms = (x) => Math.floor(x + 1e-9);

function runFleet(c) {
  let now = 0;
  const clock = () => now;
  const core = new raw.BreakerCore(...coreArgs(c.config), clock, fleetConfig(c.fleet));
  assert.ok(core.fleet_shared());
  const reports = new Map();
  const tokens = new Map();
  const report = (token, outcome) => {
    const at = core.reads_clock_when_closed() ? now : undefined;
    if (outcome === 'success') return core.record_success(token, at);
    assert.ok(['failure', 'ignored'].includes(outcome), `unknown outcome ${outcome}`);
    return core.record_error(token, outcome === 'failure' ? raw.FilterVerdict.Yes : raw.FilterVerdict.No, at);
  };
  for (const [i, s] of c.steps.entries()) {
    const at = `step ${i} ${JSON.stringify(s)}`;
    switch (s.op) {
      case 'call': {
        const token = core.acquire(core.reads_clock_to_admit() ? now : undefined);
        let got = 'rejected';
        if (token >= 0) {
          now += s.duration_ms ?? 0;
          assert.equal(report(token, s.outcome), raw.BreakerReport.Recorded, at);
          got = s.outcome === 'success' ? 'ok' : 'error';
        }
        assert.equal(got, s.expect, at);
        break;
      }
      case 'acquire': {
        const token = core.acquire(core.reads_clock_to_admit() ? now : undefined);
        assert.equal(token >= 0 ? 'admitted' : 'rejected', s.expect, at);
        if (token >= 0) tokens.set(s.id, token);
        else if (s.retry_after_ms !== undefined) assert.equal(core.retry_after_ms(), s.retry_after_ms, at);
        break;
      }
      case 'complete':
        assert.equal(report(tokens.get(s.id), s.outcome), raw.BreakerReport.Recorded, at);
        break;
      case 'advance':
        now += s.ms;
        break;
      case 'reset':
      case 'isolate':
      case 'close':
        core[s.op]();
        break;
      case 'metrics': {
        const values = core.metrics_values();
        const m = Object.fromEntries(raw.breaker_metric_names().map((name, k) => [name, values[k]]));
        const names = { window_calls: 'windowCalls', window_failures: 'windowFailures', openings: 'openings', break_ms: 'breakDurationMs' };
        for (const [key, want] of Object.entries(s.expect)) {
          assert.ok(key in names, `unknown metric ${key}`);
          assert.equal(m[names[key]], want, `${at}: ${key}`);
        }
        break;
      }
      case 'check': {
        assert.equal(raw.breaker_state_names()[core.state_code()], s.state, at);
        assert.equal(core.failure_count(), s.failure_count, at);
        break;
      }
      case 'take_delta':
        assert.deepEqual([...core.fleet_take_delta()], [s.expect.calls, s.expect.failures, s.expect.slow], at);
        break;
      case 'seed': {
        const flat = core.fleet_seed();
        const got = [];
        for (let k = 0; k < flat.length; k += 4) got.push([ms(flat[k]), flat[k + 1], flat[k + 2], flat[k + 3]]);
        assert.deepEqual(got, s.expect, at);
        break;
      }
      case 'report': {
        const r = core.fleet_report();
        const got = {
          opened_ms: r.opened_ms === undefined ? null : ms(r.opened_ms),
          closed: r.closed,
          open_remaining_ms: ms(r.open_remaining_ms),
          leases_wanted: r.leases_wanted,
        };
        for (const [key, want] of Object.entries(s.expect)) assert.equal(got[key], want, `${at}: ${key}`);
        if (s.id !== undefined) reports.set(s.id, r);
        break;
      }
      case 'apply_fleet': {
        const v = s.view;
        for (const key of Object.keys(v)) {
          assert.ok(['calls', 'failures', 'slow', 'open_ms', 'closes', 'leases'].includes(key), `unknown view key ${key}`);
        }
        const sent = s.sent === undefined ? raw.FleetReportCore.empty() : reports.get(s.sent);
        const got = core.fleet_apply(v.calls ?? 0, v.failures ?? 0, v.slow ?? 0, v.open_ms ?? 0, v.closes ?? 0, v.leases ?? 0, sent);
        if ('expect_transition' in s) assert.equal(got ?? null, s.expect_transition, at);
        break;
      }
      case 'fleet_lost':
        core.fleet_lost();
        break;
      case 'fleet_status': {
        const v = core.fleet_status();
        const got = { live: v[0] === 1, calls: v[1], failures: v[2], slow: v[3], leases: v[4], remote_opens: v[5], remote_closes: v[6] };
        for (const [key, want] of Object.entries(s.expect)) assert.equal(got[key], want, `${at}: ${key}`);
        break;
      }
      default:
        throw new Error(`unknown fleet op ${s.op}`);
    }
  }
}

/** The limiter's or budget's core of a vector, shared with `fleet` (undefined: not shared). */
function leaseCore(component, config, fleet, leaseSize) {
  if (component === 'limiter') {
    for (const key of Object.keys(config)) assert.ok(['rate', 'per_ms', 'burst'].includes(key), `unknown limiter key ${key}`);
    const core = new raw.LimiterCore(value(config.rate), value(config.per_ms), value(config.burst), fleet, leaseSize);
    return [core, fleet && raw.LeaseSyncCore.for_limiter('v', 'v', 'i', core)];
  }
  assert.equal(component, 'budget', `unknown component ${component}`);
  for (const key of Object.keys(config)) {
    assert.ok(['ttl_ms', 'min_retries_per_sec', 'retry_ratio'].includes(key), `unknown budget key ${key}`);
  }
  const core = new raw.BudgetCore(
    value(config.ttl_ms),
    value(config.min_retries_per_sec),
    value(config.retry_ratio),
    fleet,
    leaseSize,
  );
  return [core, fleet && raw.LeaseSyncCore.for_budget('v', 'v', 'i', core)];
}

function runLease(c) {
  let now = 0;
  const component = 'limiter' in c ? 'limiter' : 'budget';
  const [core, sync] = leaseCore(component, c[component], fleetConfig(c.fleet), c.lease_size);
  let wakes = 0;
  assert.ok(sync.set_waker(() => { wakes += 1; }) >= 0);
  const sent = new Map();
  const STATUS = ['live', 'pool', 'lease_size', 'fleet_size', 'available', 'leases', 'granted', 'since_sync_ms', 'early_leases'];
  for (const step of c.steps) {
    const at = `${c.name}: ${JSON.stringify(step)}`;
    switch (step.op) {
      case 'advance':
        now += step.ms;
        break;
      case 'acquire': {
        const answer = core.try_acquire_n(step.n, now);
        const got =
          answer === raw.LimiterAnswer.Acquired ? 'ok'
            : answer === raw.LimiterAnswer.ExceedsBurst ? 'exceeds_burst'
              : { wait_ns: Math.round(answer * 1e6) };
        assert.deepEqual(got, step.expect, at);
        break;
      }
      case 'deposit':
        for (let i = 0; i < (step.times ?? 1); i += 1) core.deposit(now);
        break;
      case 'withdraw':
        assert.deepEqual(step.expect.map(() => core.try_withdraw(now)), step.expect, at);
        break;
      case 'check':
        assert.equal(core.available(now), step.available, at);
        break;
      case 'request': {
        const [want, deposits] = sync.request(now);
        for (const [key, w] of Object.entries(step.expect ?? {})) assert.equal({ want, deposits }[key], w, `${at}: ${key}`);
        if (step.id !== undefined) sent.set(step.id, want);
        break;
      }
      case 'apply': {
        const g = step.grant;
        assert.ok(sent.has(step.sent), `${at}: unknown request`);
        sync.apply(g.granted ?? 0, g.wait_ms ?? Number.NaN, g.available ?? 0, g.fleet_size ?? 0, sent.get(step.sent), now);
        break;
      }
      case 'lost':
        sync.lost();
        break;
      case 'wakes':
        assert.equal(wakes, step.expect, at);
        break;
      case 'status': {
        const v = sync.status(now);
        const got = Object.fromEntries(STATUS.map((k, i) => [k, k === 'live' ? v[i] === 1 : v[i]]));
        for (const [key, w] of Object.entries(step.expect)) {
          assert.ok(STATUS.includes(key), `${at}: unknown status key ${key}`);
          assert.equal(key === 'since_sync_ms' ? ms(got[key]) : got[key], w, `${at}: ${key}`);
        }
        break;
      }
      default:
        throw new Error(`unknown lease op ${step.op}`);
    }
  }
}

function runFleetRules(c) {
  let got;
  try {
    if (c.rule === 'lease_size') {
      const fleet = c.store === false ? undefined : new raw.FleetConfigCore(undefined, undefined);
      const [, sync] = leaseCore(c.component, c.config, fleet, value(c.value));
      got = sync.status(0)[2];
    } else if (c.rule === 'shared_name') {
      got = raw.shared_name(c.store, value(c.value)) ?? null;
    } else if (c.rule === 'fleet_config') {
      const f = fleetConfig(c.config);
      got = {
        sync_interval_ms: f.sync_interval_ms,
        sync_timeout_ms: f.sync_timeout_ms,
        stale_after_ms: f.stale_after_ms,
        lease_ttl_ms: f.lease_ttl_ms,
      };
    } else if (c.rule === 'key_part') {
      assert.ok(['name', 'prefix'].includes(c.parameter), `unknown key part ${c.parameter}`);
      got = raw.key_part(c.parameter, value(c.value));
    } else throw new Error(`unknown rule ${c.rule}`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.ok(!('expect' in c), `${c.name}: ${error}`);
    assert.equal(error.kind, c.kind, `${c.name}: ${error}`);
    assert.ok(error.parameter.startsWith(c.parameter.replace(/_(.)/g, (_, x) => x.toUpperCase())), `${c.name}: ${error.parameter}`);
    return;
  }
  assert.ok('expect' in c, `${c.name}: got ${JSON.stringify(got)}`);
  if (c.expect !== null && typeof c.expect === 'object') {
    for (const [key, want] of Object.entries(c.expect)) assert.equal(got[key], want, `${c.name}: ${key}`);
  } else assert.equal(got, c.expect, c.name);
}

const files = readdirSync(FLEET).filter((f) => f.endsWith('.json')).sort();

test('the fleet vectors are present', () => {
  assert.ok(files.length >= 3, `expected the fleet vectors in ${FLEET}`);
});

for (const file of files) {
  const doc = JSON.parse(readFileSync(FLEET + file, 'utf8'));
  for (const c of doc.cases) {
    test(`fleet/${file}: ${c.name}`, () => {
      if (doc.kind === 'fleet') runFleet(c);
      else if (doc.kind === 'fleet_rules') runFleetRules(c);
      else if (doc.kind === 'lease') runLease(c);
      else throw new Error(`unknown kind ${doc.kind}`);
    });
  }
}

test('an unknown fleet op fails the run', () => {
  assert.throws(() => runFleet({ config: {}, fleet: {}, steps: [{ op: 'teleport' }] }), /unknown fleet op/);
});

test('store and name go together; the name is a key part', () => {
  const store = { _fleetConfig: () => new raw.FleetConfigCore(undefined, undefined), _share() {} };
  const kinds = [
    [{ name: 'payments' }, 'requires_other'],
    [{ store }, 'requires_other'],
    [{ store, name: '' }, 'too_small'],
  ].map(([options, kind]) => {
    assert.throws(() => new CircuitBreaker(options), (e) => e instanceof ConfigError && e.kind === kind);
    return kind;
  });
  assert.equal(kinds.length, 3);
  assert.throws(() => new CircuitBreaker({ store: {}, name: 'x' }), TypeError);
  // A store-shaped object makes a shared breaker (its hooks are live).
  let shared;
  const b = new CircuitBreaker({ store: { ...store, _share: (core) => { shared = core; } }, name: 'x' });
  assert.equal(b.state, 'closed');
  assert.ok(shared.fleet_shared());
});
