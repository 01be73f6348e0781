// Runs in headless Chromium: the package as a plain ES module (no bundler),
// exercised on virtual time; window.__results is asserted by browser.spec.mjs.
import {
  BrokenCircuitError,
  CircuitBreaker,
  ConfigError,
  fallback,
  hedge,
  pipeline,
  RateLimiter,
  retry,
  RetryExecutor,
  RetryPolicy,
  SnapshotError,
  timeout,
  withRetry,
} from '/bindings-wasm/dist/browser.js';

const results = {};
let nowMs = 0;
const sleeps = [];
const sleep = async (ms) => {
  sleeps.push(ms);
  nowMs += ms;
};

// Retry: two failures then success; the same error object when it gives up.
let calls = 0;
const executor = new RetryExecutor(new RetryPolicy({ jitter: false, baseDelayMs: 100 }), { sleep });
results.retry = {
  value: await executor.execute(async () => {
    calls += 1;
    if (calls < 3) throw new Error('flaky');
    return 'ok';
  }),
  calls,
  sleeps: [...sleeps],
};
const lastError = new TypeError('always');
results.retry.sameError = await executor.execute(() => Promise.reject(lastError)).catch((e) => e === lastError);

// Breaker: opens, rejects, half-opens on the injected clock, closes.
const breaker = new CircuitBreaker({ failureThreshold: 2, recoveryTimeoutMs: 1000, clock: () => nowMs });
const states = [breaker.state];
for (let i = 0; i < 2; i += 1) await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
states.push(breaker.state);
const rejection = await breaker.execute(() => 1).catch((e) => e);
nowMs += 1000;
states.push(breaker.state);
await breaker.execute(() => 'probe');
states.push(breaker.state);
results.breaker = {
  states,
  rejectedName: rejection.name,
  isBrokenCircuitError: rejection instanceof BrokenCircuitError && rejection instanceof Error,
  retryAfterMs: rejection.retryAfterMs,
};

// A failure-rate breaker over a time window on the injected clock: buckets
// roll over, it trips at the ratio, the break grows, metrics and snapshots
// read, isolation, a snapshot that cannot be read (compared with Node's run
// of the same script by the test).
{
  let now = 0;
  const options = {
    failureRate: { ratio: 0.5, minimumThroughput: 4, samplingDurationMs: 1000, buckets: 10 },
    slowCall: { durationMs: 200, ratio: 1 },
    breakBackoff: { backoff: 'exponential', maxMs: 8000 },
    recoveryTimeoutMs: 1000,
  };
  const windowed = new CircuitBreaker({ ...options, clock: () => now });
  const ok = async () => 'ok';
  const down = () => Promise.reject(new Error('down'));
  const trace = [];
  const step = async (op) => {
    const r = await windowed.execute(op).then(
      () => 'ok',
      (e) => (e instanceof BrokenCircuitError ? `rejected ${e.reason} ${e.retryAfterMs}` : 'error'),
    );
    trace.push(`${now} ${r} ${windowed.state}`);
  };
  for (const op of [down, down, ok]) await step(op);
  now += 1100; // the whole window passes: those calls are forgotten
  for (const op of [ok, down, ok, down, ok]) await step(op);
  const metrics = windowed.metrics;
  now += 1000;
  await step(down); // the trial fails: open again, for twice as long
  await step(ok);
  const saved = windowed.toJSON();
  const restored = new CircuitBreaker({ ...options, initialState: JSON.stringify(saved), clock: () => 0 });
  const restoredRejection = await restored.execute(ok).catch((e) => `${e.reason} ${e.retryAfterMs}`);
  restored.isolate();
  const isolated = await restored.execute(ok).catch((e) => `${e.reason} ${e.retryAfterMs}`);
  restored.close();
  let snapshotError;
  try {
    new CircuitBreaker({ initialState: JSON.stringify({ ...saved, version: 2 }) });
  } catch (e) {
    snapshotError = `${e.name} ${e instanceof SnapshotError} ${e.reason}`;
  }
  results.windowed = {
    trace,
    metrics: { ...metrics },
    frozen: Object.isFrozen(metrics),
    saved,
    restoredRejection,
    isolated,
    closed: restored.state,
    snapshotError,
  };
}

// Fallback.
const getName = fallback(
  async () => {
    throw new Error('db down');
  },
  async () => {
    throw new Error('cache miss');
  },
  async (id) => `guest-${id}`,
);
results.fallback = await getName(7);

// withRetry against the local server: 503, 429 + Retry-After, 200.
sleeps.length = 0;
const retried = [];
const resilientFetch = withRetry(fetch, {
  baseDelayMs: 100,
  jitter: false,
  retryableStatusCodes: [429, 503], // 429 is opt-in (the default is core's 500, 502, 503, 504)
  sleep,
  onRetry: (attempt, response, delayMs) => retried.push([attempt, response.status, delayMs]),
});
const response = await resilientFetch(`/api/sequence?id=${Math.random()}`);
results.withRetry = { status: response.status, body: await response.text(), retried, sleeps: [...sleeps] };

// Jitter: seeded delays (compared with Node's by the test) and unseeded ones
// drawn from crypto.getRandomValues.
const seeded = new RetryPolicy({ seed: 42, baseDelayMs: 1000 });
results.seededDelays = [1, 2, 3, 4].map((n) => seeded.calculateDelayMs(n));
const unseeded = new Set(Array.from({ length: 50 }, () => new RetryPolicy().calculateDelayMs(1)));
results.unseededDistinct = unseeded.size;

// A zero-delay retry storm yields a macrotask per retry (a MessageChannel
// message here: no setImmediate), so a timer's abort lands promptly.
{
  const maxAttempts = 200_000;
  const controller = new AbortController();
  const reason = new Error('deadline');
  setTimeout(() => controller.abort(reason), 0);
  let stormCalls = 0;
  const storm = new RetryExecutor(new RetryPolicy({ baseDelayMs: 0, maxAttempts }), { signal: controller.signal });
  const error = await storm
    .execute(() => {
      stormCalls += 1;
      throw new Error('always');
    })
    .catch((e) => e);
  results.zeroDelayAbort = { sameReason: error === reason, calls: stormCalls, maxAttempts };
}

// Errors are classes with stable names.
try {
  new RetryPolicy({ maxAttempts: 0 });
} catch (e) {
  results.configError = { name: e.name, parameter: e.parameter, isClass: e instanceof ConfigError };
}

// The entry's exports (compared with Node's by the test).
results.exports = Object.keys(await import('/bindings-wasm/dist/browser.js')).sort();

// An operation that is not a function is a TypeError when wrapped.
try {
  retry(42);
  results.notAFunction = 'accepted';
} catch (e) {
  results.notAFunction = `${e.name}: ${e.message}`;
}

// Issues 10 and 11 on the browser's own timers: a timeout and a losing hedge
// abort their signals; a pipeline's attempt timeouts; a rate limiter.
{
  const hang = (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  let timedSignal;
  const timedOut = await timeout((signal) => {
    timedSignal = signal;
    return hang(signal);
  }, 5).catch((e) => `${e.name} ${e.timeoutMs}`);
  let loser;
  const hedged = await hedge(
    (signal, attempt) => {
      if (attempt === 1) {
        loser = signal;
        return hang(signal);
      }
      return `copy ${attempt}`;
    },
    { delayMs: 5 },
  );
  const events = [];
  const p = pipeline(new RetryPolicy({ maxAttempts: 2, baseDelayMs: 1, jitter: false, attemptTimeoutMs: 5 }), new CircuitBreaker(), {
    onEvent: (e) => events.push(e.type),
  });
  const piped = await p.execute((signal) => hang(signal)).catch((e) => e.name);
  const limiter = new RateLimiter({ rate: 1, perMs: 60000, burst: 1 });
  results.issues10and11 = {
    timedOut,
    abortedWith: timedSignal.reason.name,
    hedged,
    loserAborted: loser.aborted,
    strategies: p.strategies,
    piped,
    events,
    limiter: [limiter.tryAcquire(), limiter.tryAcquire()],
  };
}

window.__results = results;
document.getElementById('out').textContent = JSON.stringify(results, null, 2);
