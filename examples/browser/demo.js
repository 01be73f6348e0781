// The browser demo: the scenario of examples/README.md against a real HTTP
// endpoint, drawn as a timeline. `?virtual` runs on virtual time (instant,
// and its trace is byte-identical to the other legs'); otherwise real time.
import {
  BrokenCircuitError,
  CircuitBreaker,
  FallbackChain,
  RetryExecutor,
  RetryPolicy,
} from '../../bindings-wasm/dist/browser.js';

const virtual = new URLSearchParams(location.search).has('virtual');
const $ = (id) => document.getElementById(id);

/** `{ms}.{micros:03}` from integer nanoseconds, as every leg prints it. */
const ms = (ns) => `${Math.floor(ns / 1e6)}.${String(Math.floor(ns / 1000) % 1000).padStart(3, '0')}`;

// Time in integer nanoseconds since the start: virtual, or the page's clock.
const start = performance.now();
let virtualNs = 0;
const nowNs = () => (virtual ? virtualNs : Math.round((performance.now() - start) * 1e6));
const wait = (delayMs) =>
  virtual ? Promise.resolve(void (virtualNs += Math.round(delayMs * 1e6))) : new Promise((r) => setTimeout(r, delayMs));

class ServiceDown extends Error {}

const el = (tag, className, text) => {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
};

async function main() {
  const scenario = await (await fetch('../scenario.json')).json();
  const run = `${Date.now()}-${Math.random()}`;
  const r = scenario.retry;
  const b = scenario.breaker;
  const policy = new RetryPolicy({
    maxAttempts: r.max_attempts,
    backoff: r.backoff,
    baseDelayMs: r.base_delay_ms,
    maxDelayMs: r.max_delay_ms,
    jitter: r.jitter,
    seed: scenario.seed,
    retryableErrors: [ServiceDown],
  });
  const breaker = new CircuitBreaker({
    failureThreshold: b.failure_threshold,
    recoveryTimeoutMs: b.recovery_timeout_ms,
    halfOpenMaxCalls: b.half_open_max_calls,
    clock: () => nowNs() / 1e6,
  });
  let serviceCalls = 0;
  const service = async () => {
    serviceCalls += 1;
    const response = await fetch(`/api/flaky?run=${encodeURIComponent(run)}&t=${nowNs() / 1e6}`);
    if (!response.ok) throw new ServiceDown(`HTTP ${response.status}`);
  };

  const trace = [];
  const line = (text) => {
    trace.push(text);
    $('trace').textContent = `${trace.join('\n')}\n`;
  };
  let lastState = breaker.state;
  const noteState = () => {
    const state = breaker.state;
    if (state !== lastState) {
      $('changes').append(el('li', 'state-change', `t=${ms(nowNs())} ms: ${lastState} → ${state}`));
      lastState = state;
    }
  };
  let primary = 0;
  let fallback = 0;
  let rejected = 0;
  let sleptNs = 0;
  const sleep = (delayMs) => {
    sleptNs += Math.round(delayMs * 1e6);
    return wait(delayMs);
  };

  for (let req = 1; req <= scenario.requests; req += 1) {
    $('status').textContent = `request ${req} of ${scenario.requests}`;
    const row = el('div', 'row');
    row.append(el('span', 'label', `t=${ms(nowNs())} req ${req}`));
    $('timeline').append(row);
    const executor = new RetryExecutor(policy, {
      sleep,
      onRetry: (_attempt, _error, delayMs) => {
        line(`t=${ms(nowNs())} req=${req} retry in ${ms(Math.round(delayMs * 1e6))}`);
        const bar = el('span', 'delay');
        bar.style.width = `${Math.max(6, delayMs / 8)}px`;
        bar.append(el('span', '', `${Math.round(delayMs)} ms`));
        row.append(bar);
      },
    });
    const attempt = async (n) => {
      const started = nowNs();
      noteState();
      const state = breaker.state;
      let word = 'ok';
      try {
        await breaker.execute(service);
      } catch (error) {
        word = error instanceof BrokenCircuitError ? 'rejected' : 'fail';
        if (word === 'rejected') rejected += 1;
        throw error;
      } finally {
        line(`t=${ms(started)} req=${req} attempt=${n} breaker=${state} -> ${word}`);
        const chip = el('span', `attempt ${word} ${state}`, `#${n} ${word}`);
        chip.title = `breaker ${state} before the attempt`;
        row.append(chip);
        noteState();
      }
    };
    const answeredBy = await new FallbackChain([async () => 'fallback']).execute(async () => {
      await executor.execute(attempt);
      return 'primary';
    });
    if (answeredBy === 'primary') primary += 1;
    else fallback += 1;
    line(`t=${ms(nowNs())} req=${req} answered by ${answeredBy}`);
    row.append(el('span', `answer ${answeredBy}`, `→ ${answeredBy}`));
    await wait(scenario.request_interval_ms);
    noteState();
  }
  const summary = `summary primary=${primary} fallback=${fallback} service_calls=${serviceCalls} rejected=${rejected} slept=${ms(sleptNs)}`;
  line(summary);
  $('summary').textContent = summary;
  $('status').textContent = virtual ? 'done (virtual time)' : 'done';
  document.body.dataset.done = 'true';
}

main().catch((error) => {
  $('status').textContent = `failed: ${error}`;
  document.body.dataset.error = String(error);
});
