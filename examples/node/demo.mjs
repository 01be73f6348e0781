// The demo's Node leg: one flaky service driven through
// fallback(retry(breaker(service))) on virtual time, printing the trace
// format of examples/README.md (byte-identical to the Rust leg's).
//
// Usage: node examples/node/demo.mjs SCENARIO.json OUT.trace
// (`make demo-js` builds the package first.)
import { readFileSync, writeFileSync } from 'node:fs';

import {
  BrokenCircuitError,
  CircuitBreaker,
  FallbackChain,
  RetryExecutor,
  RetryPolicy,
} from '../../bindings-wasm/dist/node.mjs';

/** `{ms}.{micros:03}` from integer nanoseconds. */
function ms(ns) {
  return `${Math.floor(ns / 1e6)}.${String(Math.floor(ns / 1000) % 1000).padStart(3, '0')}`;
}

class ServiceDown extends Error {}

async function run(scenario) {
  // Virtual time in integer nanoseconds; the library sees milliseconds.
  let nowNs = 0;
  let sleptNs = 0;
  const clock = () => nowNs / 1e6;
  const sleep = async (delayMs) => {
    const ns = Math.round(delayMs * 1e6);
    sleptNs += ns;
    nowNs += ns;
  };

  const r = scenario.retry;
  const policy = new RetryPolicy({
    maxAttempts: r.max_attempts,
    backoff: r.backoff,
    baseDelayMs: r.base_delay_ms,
    maxDelayMs: r.max_delay_ms,
    jitter: r.jitter,
    seed: scenario.seed,
    // A breaker rejection is not retryable: the fallback answers at once.
    retryableErrors: [ServiceDown],
  });
  const b = scenario.breaker;
  const breaker = new CircuitBreaker({
    failureThreshold: b.failure_threshold,
    recoveryTimeoutMs: b.recovery_timeout_ms,
    halfOpenMaxCalls: b.half_open_max_calls,
    clock,
  });
  const { outages_ms: outages, fail_every: failEvery } = scenario.service;
  let serviceCalls = 0;
  const service = async () => {
    serviceCalls += 1;
    const t = nowNs / 1e6;
    const down = outages.some(([start, end]) => t >= start && t < end) || serviceCalls % Math.max(1, failEvery) === 0;
    if (down) throw new ServiceDown(`call ${serviceCalls} failed`);
  };

  const lines = [];
  let primary = 0;
  let fallback = 0;
  let rejected = 0;
  for (let req = 1; req <= scenario.requests; req += 1) {
    const executor = new RetryExecutor(policy, {
      sleep,
      onRetry: (_attempt, _error, delayMs) => lines.push(`t=${ms(nowNs)} req=${req} retry in ${ms(Math.round(delayMs * 1e6))}`),
    });
    const attemptThroughBreaker = async (attempt) => {
      const started = nowNs;
      const state = breaker.state;
      let word = 'ok';
      try {
        await breaker.execute(service);
      } catch (error) {
        word = error instanceof BrokenCircuitError ? 'rejected' : 'fail';
        if (word === 'rejected') rejected += 1;
        throw error;
      } finally {
        lines.push(`t=${ms(started)} req=${req} attempt=${attempt} breaker=${state} -> ${word}`);
      }
    };
    const cache = async () => 'fallback';
    const answeredBy = await new FallbackChain([cache]).execute(async () => {
      await executor.execute(attemptThroughBreaker);
      return 'primary';
    });
    if (answeredBy === 'primary') primary += 1;
    else fallback += 1;
    lines.push(`t=${ms(nowNs)} req=${req} answered by ${answeredBy}`);
    nowNs += scenario.request_interval_ms * 1e6;
  }
  lines.push(
    `summary primary=${primary} fallback=${fallback} service_calls=${serviceCalls} rejected=${rejected} slept=${ms(sleptNs)}`,
  );
  return lines;
}

const [scenarioPath, outPath] = process.argv.slice(2);
if (!scenarioPath || !outPath) {
  console.error('usage: node examples/node/demo.mjs SCENARIO.json OUT.trace');
  process.exit(2);
}
const text = `${(await run(JSON.parse(readFileSync(scenarioPath, 'utf8')))).join('\n')}\n`;
process.stdout.write(text);
writeFileSync(outPath, text);
