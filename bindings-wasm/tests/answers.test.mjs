// The wasm <-> JS answer codes are defined once, in Rust (src/answers.rs),
// and exported as frozen objects; the glue reads them by name. Negative
// answers are unique across families, so one read against the wrong family
// never matches by accident.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const raw = createRequire(import.meta.url)('../dist/node/resilience_wasm.js');

const FAMILIES = {
  RetryAnswer: ['GiveUpExhausted', 'GiveUpNotRetryable', 'GiveUpDeadline', 'GiveUpBudget', 'Accept'],
  HedgeWait: ['Wait', 'Finished'],
  HedgeVerdict: ['Won', 'Continue', 'AllFailed', 'Ignored'],
  LimiterAnswer: ['Acquired', 'ExceedsBurst'],
  ThrottleAnswer: ['Admitted'],
  BreakerAdmission: ['Rejected', 'ClockFailed'],
  BreakerReport: ['Recorded', 'PermitMisuse', 'ClockFailed'],
  BulkheadAdmission: ['Queued', 'QueueFull'],
  BulkheadHandover: ['NoWaiter', 'SlotMisuse'],
  BulkheadCancel: ['Withdrawn', 'AlreadyGranted', 'TicketMisuse'],
  FallbackAnswer: ['Raise'],
};

/** Inputs and reasons: small enums, not answers mixed with payloads. */
const ENUMS = {
  FilterVerdict: ['No', 'Yes', 'Failed'],
  BreakerRejection: ['Open', 'TrialsTaken', 'Isolated', 'PermitsExhausted'],
};

test('each answer family is a frozen, two-way object of negative codes, unique across families', () => {
  const seen = new Map();
  for (const [family, names] of Object.entries(FAMILIES)) {
    const object = raw[family];
    assert.ok(Object.isFrozen(object), family);
    for (const name of names) {
      const code = object[name];
      assert.ok(Number.isInteger(code) && code < 0, `${family}.${name} = ${code}`);
      assert.equal(object[code], name, `${family}[${code}] names it back`);
      assert.ok(!seen.has(code), `${family}.${name} reuses ${code} of ${seen.get(code)}`);
      seen.set(code, `${family}.${name}`);
    }
    assert.deepEqual(Object.keys(object).filter((k) => !/^-?\d+$/.test(k)).sort(), [...names].sort(), `${family}: no other answers`);
  }
});

test('the input and reason enums are frozen two-way objects with exactly their names', () => {
  for (const [name, variants] of Object.entries(ENUMS)) {
    const object = raw[name];
    assert.ok(Object.isFrozen(object), name);
    assert.deepEqual(Object.keys(object).filter((k) => !/^-?\d+$/.test(k)).sort(), [...variants].sort(), name);
    for (const v of variants) assert.equal(object[object[v]], v);
  }
});

test("a filter's verdict means what core's failing_predicate rule says", () => {
  const { Yes, No, Failed } = raw.FilterVerdict;
  assert.deepEqual([Yes, No, Failed].map(raw.retryable), [true, false, false], 'retry: a failing filter is not retryable');
  assert.deepEqual([Yes, No, Failed].map(raw.counts_as_failure), [true, false, true], 'breaker: a failing filter counts');
  assert.deepEqual([Yes, No, Failed].map(raw.falls_back), [true, false, false], 'fallback: a failing filter is not expected');
});

test('breaker states are named by core', () => {
  assert.deepEqual(raw.breaker_state_names(), ['closed', 'open', 'half_open', 'isolated']);
  const breaker = new raw.BreakerCore(1, 1000, 1, undefined, undefined, undefined, undefined, () => 0);
  assert.equal(raw.breaker_state_names()[breaker.state_code()], 'closed');
  breaker.isolate();
  assert.equal(raw.breaker_state_names()[breaker.state_code()], 'isolated');
  breaker.free();
});

test('the glue writes no answer code as a number', () => {
  const dir = new URL('../js/', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(new URL(file, dir), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    // A negative literal assigned or compared (`= -1`, `=== -1`, `< -1`,
    // `case -2:`) or used as a key (`'-1':`).
    assert.doesNotMatch(code, /(?:[=!<>]=*|\bcase)\s*-\d|['"]-\d+['"]/, file);
  }
});
