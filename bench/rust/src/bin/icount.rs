//! Runs one success-path variant N times, for counting instructions under
//! cachegrind — deterministic where wall time on a loaded 2-core machine is
//! not. bench/README.md has the command and the figures:
//!
//! ```text
//! valgrind --tool=cachegrind --cache-sim=no target/release/icount pipeline 200000
//! ```
//!
//! Instructions per call = (I refs at 2N − I refs at N) / N. Variants: the
//! bare call; the retry executor without and with a clock (`retry`,
//! `retry-clock`) and a pipeline of a retry alone (`p-retry`); a breaker
//! call and a pipeline of a breaker alone (`breaker`, `p-breaker`); retry ∘
//! breaker nested by hand without and with the clock the pipeline has
//! (`nested`, `nested-clock`), and as a pipeline (`pipeline`); the async
//! twins (`nested-async`, `pipeline-async`).

use std::hint::black_box;

use std::sync::Arc;
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder, Retryable};
use resilience_bench::{block_on, w1, work, TwoFailuresThenOk, WorkError};
use resilience_core::{
    BreakerConfig, BreakerLayer, CachedClock, CircuitBreaker, Jitter, Pipeline, Retry, RetryLayer, RetryPolicy,
    SystemClock,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "pipeline".to_owned());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let policy = RetryPolicy::builder().seed(1).build().expect("valid policy");
    let breaker = CircuitBreaker::new(BreakerConfig::default(), SystemClock::new());
    let blocking = Pipeline::builder(SystemClock::new(), |_| {})
        .retry(RetryLayer::new(policy.clone()))
        .breaker(BreakerLayer::new(&breaker))
        .build()
        .expect("valid pipeline");
    let nonblocking = Pipeline::builder(SystemClock::new(), |_| async {})
        .retry(RetryLayer::new(policy.clone()))
        .breaker(BreakerLayer::new(&breaker))
        .build()
        .expect("valid pipeline");
    let sys = SystemClock::new();
    let p_retry = Pipeline::builder(SystemClock::new(), |_| {})
        .retry(RetryLayer::new(policy.clone()))
        .build()
        .expect("valid pipeline");
    let p_breaker = Pipeline::builder(SystemClock::new(), |_| {})
        .breaker(BreakerLayer::new(&breaker))
        .build()
        .expect("valid pipeline");
    let plain = RetryPolicy::builder()
        .jitter(Jitter::None)
        .seed(1)
        .build()
        .expect("valid policy");
    // The default policy's jitter, unseeded (each thread draws from its own generator).
    let unseeded = RetryPolicy::default();
    let mut flaky = TwoFailuresThenOk::default();
    let open = |clock| {
        let config = BreakerConfig::builder()
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(3600))
            .build()
            .expect("valid config");
        let b = CircuitBreaker::new(config, clock);
        let _ = b.call(|| Err::<(), _>(()));
        b
    };
    let open_system = open(Arc::new(SystemClock::new()) as Arc<dyn resilience_core::Clock + Send + Sync>);
    let cached = Arc::new(CachedClock::new(SystemClock::new()));
    let open_cached = open(cached as Arc<dyn resilience_core::Clock + Send + Sync>);
    let failsafe_closed = failsafe::Config::new().build();
    // L2: a retry whose policy draws on a retry budget (a fake clock: its reading is one load).
    let budgeted = RetryPolicy::builder()
        .seed(1)
        .budget(Arc::new(resilience_core::RetryBudget::new(
            resilience_core::RetryBudgetConfig::default(),
            resilience_core::ManualClock::new(),
        )))
        .build()
        .expect("valid policy");
    // W1: the failure-rate windows (issue 9), as bench/rust/benches/breaker_windows.rs builds them.
    let timed = CircuitBreaker::new(w1::time_window(), SystemClock::new());
    let counted = CircuitBreaker::new(w1::count_window(), SystemClock::new());
    let failsafe_window = w1::failsafe_window();
    let failsafe_open = {
        let backoff = failsafe::backoff::constant(Duration::from_secs(3600));
        let b = failsafe::Config::new()
            .failure_policy(failsafe::failure_policy::consecutive_failures(1, backoff))
            .build();
        let _ = failsafe::CircuitBreaker::call(&b, || Err::<(), _>(()));
        b
    };
    let sink = match variant.as_str() {
        "bare-2fail" => repeat(n, || {
            let _ = flaky.call(black_box(1));
            let _ = flaky.call(black_box(1));
            flaky.call(black_box(1))
        }),
        "retry-2fail" => repeat(n, || {
            Retry::new(&plain, |_| {})
                .call(|_| flaky.call(black_box(1)))
                .map_err(|e| e.error)
        }),
        "retry-2fail-jitter" => repeat(n, || {
            Retry::new(&unseeded, |_| {})
                .call(|_| flaky.call(black_box(1)))
                .map_err(|e| e.error)
        }),
        "retry-2fail-jitter-seeded" => repeat(n, || {
            Retry::new(&policy, |_| {})
                .call(|_| flaky.call(black_box(1)))
                .map_err(|e| e.error)
        }),
        "backon-2fail-jitter" => repeat(n, || {
            (|| flaky.call(black_box(1)))
                .retry(ExponentialBuilder::default().with_jitter())
                .sleep(|_| {})
                .call()
        }),
        "backon-2fail" => repeat(n, || {
            (|| flaky.call(black_box(1)))
                .retry(ExponentialBuilder::default())
                .sleep(|_| {})
                .call()
        }),
        "retry-async" => repeat(n, || {
            block_on(Retry::new(&policy, |_| async {}).call_async(|_| async { work(black_box(1)).map_err(WorkError) }))
                .map_err(|e| e.error.0)
        }),
        "backon-async" => repeat(n, || {
            block_on(
                (|| async { work(black_box(1)) })
                    .retry(ExponentialBuilder::default())
                    .sleep(|_| async {}),
            )
        }),
        "tokio-retry-async" => repeat(n, || {
            let strategy = tokio_retry::strategy::ExponentialBackoff::from_millis(100)
                .map(tokio_retry::strategy::jitter)
                .take(2);
            block_on(tokio_retry::Retry::start(strategy, || async { work(black_box(1)) }))
        }),
        "bare-async" => repeat(n, || block_on(async { work(black_box(1)) })),
        "open-system" => repeat(n, || open_system.call(|| work(black_box(1))).map_err(|_| 0)),
        "open-cached" => repeat(n, || open_cached.call(|| work(black_box(1))).map_err(|_| 0)),
        "failsafe-open" => repeat(n, || {
            failsafe::CircuitBreaker::call(&failsafe_open, || work(black_box(1))).map_err(|_| 0)
        }),
        "p-retry" => repeat(n, || p_retry.call(|| work(black_box(1))).map_err(|_| 0)),
        "p-breaker" => repeat(n, || p_breaker.call(|| work(black_box(1))).map_err(|_| 0)),
        "nested-clock" => repeat(n, || {
            Retry::new(&policy, |_| {})
                .clock(&sys)
                .call(|_| breaker.call(|| work(black_box(1))))
                .map_err(|_| 0)
        }),
        "retry-clock" => repeat(n, || {
            Retry::new(&policy, |_| {})
                .clock(&sys)
                .call(|_| work(black_box(1)))
                .map_err(|_| 0)
        }),
        "breaker" => repeat(n, || breaker.call(|| work(black_box(1))).map_err(|_| 0)),
        "window-time" => repeat(n, || timed.call(|| work(black_box(1))).map_err(|_| 0)),
        "window-count" => repeat(n, || counted.call(|| work(black_box(1))).map_err(|_| 0)),
        "failsafe-window" => repeat(n, || {
            failsafe::CircuitBreaker::call(&failsafe_window, || work(black_box(1))).map_err(|_| 0)
        }),
        "failsafe" => repeat(n, || {
            failsafe::CircuitBreaker::call(&failsafe_closed, || work(black_box(1))).map_err(|_| 0)
        }),
        "backon" => repeat(n, || {
            (|| work(black_box(1)))
                .retry(ExponentialBuilder::default())
                .sleep(|_| {})
                .call()
        }),
        "bare" => repeat(n, || work(black_box(1))),
        "retry-budget" => repeat(n, || {
            Retry::new(&budgeted, |_| {})
                .call(|_| work(black_box(1)))
                .map_err(|e| e.error)
        }),
        "retry" => repeat(n, || {
            Retry::new(&policy, |_| {})
                .call(|_| work(black_box(1)))
                .map_err(|e| e.error)
        }),
        "nested" => repeat(n, || {
            Retry::new(&policy, |_| {})
                .call(|_| breaker.call(|| work(black_box(1))))
                .map_err(|_| 0)
        }),
        "pipeline" => repeat(n, || blocking.call(|| work(black_box(1))).map_err(|_| 0)),
        "nested-async" => repeat(n, || {
            block_on(Retry::new(&policy, |_| async {}).call_async(|_| async {
                breaker
                    .call_async(|| async { work(black_box(1)) }, |_| true)
                    .await
                    .map_err(|_| WorkError(0))
            }))
            .map_err(|_| 0)
        }),
        "pipeline-async" => repeat(n, || {
            block_on(nonblocking.call_async(|| async { work(black_box(1)) })).map_err(|_| 0)
        }),
        other => {
            eprintln!(
                "unknown variant {other}: bare, retry, backon, retry-clock, p-retry, breaker, failsafe, p-breaker, \
                 nested, nested-clock, pipeline, nested-async, pipeline-async, bare-2fail, retry-2fail, backon-2fail, \
                 retry-2fail-jitter, retry-2fail-jitter-seeded, backon-2fail-jitter, \
                 bare-async, retry-async, backon-async, tokio-retry-async, open-system, open-cached, failsafe-open, \
                 window-time, window-count, failsafe-window, retry-budget"
            );
            std::process::exit(2);
        }
    };
    println!("{sink}");
}

/// The variant is chosen once, outside the measured loop.
#[inline(never)]
fn repeat(n: u64, mut call: impl FnMut() -> Result<u64, u64>) -> u64 {
    let mut sink = 0u64;
    for _ in 0..n {
        sink = sink.wrapping_add(black_box(call()).unwrap_or(1));
    }
    sink
}
