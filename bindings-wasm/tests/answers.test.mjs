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
  RetryAnswer: ['GiveUpExhausted', 'GiveUpNotRetryable'],
  BreakerAdmission: ['Rejected', 'ClockFailed'],
  BulkheadAdmission: ['Acquired', 'QueueFull'],
  BulkheadHandover: ['NoWaiter'],
  FallbackAnswer: ['Raise'],
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

test('breaker states are named by core', () => {
  assert.deepEqual(
    Object.keys(raw.BreakerState).filter((k) => !/^\d+$/.test(k)).sort(),
    ['Closed', 'HalfOpen', 'Open'],
  );
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
