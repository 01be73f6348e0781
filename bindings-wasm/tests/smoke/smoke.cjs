// The installed tarball, by name, through `require`: a retry and a breaker.
const assert = require('node:assert/strict');
const { RetryPolicy, RetryExecutor, CircuitBreaker, BrokenCircuitError } = require('resilience-wasm');

(async () => {
  let calls = 0;
  const executor = new RetryExecutor(new RetryPolicy({ baseDelayMs: 0 }));
  const value = await executor.execute(async () => {
    calls += 1;
    if (calls < 3) throw new Error('flaky');
    return 'ok';
  });
  assert.equal(value, 'ok');
  assert.equal(calls, 3);

  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  await assert.rejects(breaker.execute(() => Promise.reject(new Error('down'))));
  await assert.rejects(breaker.execute(() => 1), BrokenCircuitError);
  assert.equal(breaker.state, 'open');
  breaker.isolate();
  await assert.rejects(breaker.execute(() => 1), (e) => e instanceof BrokenCircuitError && e.reason === 'isolated');
  assert.equal(Object.isFrozen(breaker.metrics), true);
  console.log('require: retry and breaker ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
