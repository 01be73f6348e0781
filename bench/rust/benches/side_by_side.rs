//! Scenarios S1–S7 (named in bench/README.md), each side by side with a
//! bare call and the Rust peers (backon for retry, failsafe for the
//! breaker), in one run.
//! `make bench-rust` runs it; bench/README.md holds the table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use backon::{BlockingRetryable, ExponentialBuilder, Retryable};
use criterion::{criterion_group, criterion_main, Criterion};
use resilience_bench::{block_on, work, TwoFailuresThenOk};
use resilience_core::{
    run_fallback, BreakerConfig, CircuitBreaker, Jitter, ManualClock, Retry, RetryPolicy, SystemClock,
};

fn policy(jitter: Jitter) -> RetryPolicy {
    RetryPolicy::builder()
        .jitter(jitter)
        .seed(1)
        .build()
        .expect("valid policy")
}

fn closed_breaker() -> CircuitBreaker<SystemClock> {
    CircuitBreaker::new(BreakerConfig::default(), SystemClock::new())
}

fn failsafe_breaker(threshold: u32) -> impl failsafe::CircuitBreaker + failsafe::futures::CircuitBreaker + Sync {
    let backoff = failsafe::backoff::constant(Duration::from_secs(3600));
    failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(threshold, backoff))
        .build()
}

fn s1_retry_success(c: &mut Criterion) {
    let mut g = c.benchmark_group("S1 retry success");
    let p = policy(Jitter::Proportional);
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("resilience", |b| {
        b.iter(|| Retry::new(&p, |_| {}).call(|_| work(black_box(1))))
    });
    g.bench_function("backon", |b| {
        b.iter(|| {
            (|| work(black_box(1)))
                .retry(ExponentialBuilder::default())
                .sleep(|_| {})
                .call()
        })
    });
    g.finish();
}

fn s2_two_failures(c: &mut Criterion) {
    let mut g = c.benchmark_group("S2 two failures then success");
    let p = policy(Jitter::None);
    let pj = policy(Jitter::Proportional);
    g.bench_function("bare call", |b| {
        let mut f = TwoFailuresThenOk::default();
        b.iter(|| {
            let _ = f.call(black_box(1));
            let _ = f.call(black_box(1));
            f.call(black_box(1))
        })
    });
    g.bench_function("resilience", |b| {
        let mut f = TwoFailuresThenOk::default();
        b.iter(|| Retry::new(&p, |_| {}).call(|_| f.call(black_box(1))))
    });
    g.bench_function("resilience (jitter on)", |b| {
        let mut f = TwoFailuresThenOk::default();
        b.iter(|| Retry::new(&pj, |_| {}).call(|_| f.call(black_box(1))))
    });
    g.bench_function("backon", |b| {
        let mut f = TwoFailuresThenOk::default();
        b.iter(|| {
            (|| f.call(black_box(1)))
                .retry(ExponentialBuilder::default())
                .sleep(|_| {})
                .call()
        })
    });
    g.finish();
}

fn s3_breaker_closed(c: &mut Criterion) {
    let mut g = c.benchmark_group("S3 breaker closed");
    let ours = closed_breaker();
    let theirs = failsafe_breaker(5);
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("resilience", |b| b.iter(|| ours.call(|| work(black_box(1)))));
    g.bench_function("failsafe", |b| {
        b.iter(|| failsafe::CircuitBreaker::call(&theirs, || work(black_box(1))))
    });
    g.finish();
}

fn s4_breaker_open(c: &mut Criterion) {
    let mut g = c.benchmark_group("S4 breaker open (rejected)");
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(3600))
        .build();
    let ours = CircuitBreaker::new(config.expect("valid"), SystemClock::new());
    let _ = ours.call(|| Err::<(), _>(()));
    let theirs = failsafe_breaker(1);
    let _ = failsafe::CircuitBreaker::call(&theirs, || Err::<(), _>(()));
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("resilience", |b| b.iter(|| ours.call(|| work(black_box(1))).is_err()));
    g.bench_function("failsafe", |b| {
        b.iter(|| failsafe::CircuitBreaker::call(&theirs, || work(black_box(1))).is_err())
    });
    g.finish();
}

fn s5_fallback(c: &mut Criterion) {
    let mut g = c.benchmark_group("S5 fallback (primary fails, first fallback answers)");
    let primary = || Err::<u64, u64>(black_box(1));
    g.bench_function("bare call (hand-written match)", |b| {
        b.iter(|| match primary() {
            Ok(v) => Ok(v),
            Err(_) => work(black_box(2)),
        })
    });
    g.bench_function("resilience", |b| {
        b.iter(|| {
            let mut fallback = || work(black_box(2));
            let mut fallbacks: [&mut dyn FnMut() -> Result<u64, u64>; 1] = [&mut fallback];
            run_fallback(primary, &mut fallbacks, |_| true)
        })
    });
    g.finish();
}

fn s6_async(c: &mut Criterion) {
    let mut g = c.benchmark_group("S6 async retry and breaker (success)");
    let p = policy(Jitter::Proportional);
    let ours = closed_breaker();
    let theirs = failsafe_breaker(5);
    g.bench_function("bare call", |b| b.iter(|| block_on(async { work(black_box(1)) })));
    g.bench_function("resilience retry", |b| {
        b.iter(|| block_on(Retry::new(&p, |_| async {}).call_async(|_| async { work(black_box(1)) })))
    });
    g.bench_function("backon retry", |b| {
        b.iter(|| {
            block_on(
                (|| async { work(black_box(1)) })
                    .retry(ExponentialBuilder::default())
                    .sleep(|_| async {}),
            )
        })
    });
    g.bench_function("resilience breaker", |b| {
        b.iter(|| block_on(ours.call_async(|| async { work(black_box(1)) }, |_| true)))
    });
    g.bench_function("failsafe breaker", |b| {
        b.iter(|| {
            block_on(failsafe::futures::CircuitBreaker::call(&theirs, async {
                work(black_box(1))
            }))
        })
    });
    g.finish();
}

/// Time per call when `threads` threads each make `iters` calls on one breaker.
fn shared(threads: u32, iters: u64, call: &(impl Fn() + Sync)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..iters {
                    call();
                }
            });
        }
    });
    start.elapsed() / threads
}

fn s7_shared_breaker(c: &mut Criterion) {
    let mut g = c.benchmark_group("S7 one breaker shared by threads (time per call)");
    let ours = closed_breaker();
    let theirs = failsafe_breaker(5);
    for threads in [1u32, 2, 4] {
        g.bench_function(format!("resilience, {threads} thread(s)"), |b| {
            b.iter_custom(|iters| shared(threads, iters, &|| drop(black_box(ours.call(|| work(black_box(1)))))))
        });
        g.bench_function(format!("failsafe, {threads} thread(s)"), |b| {
            b.iter_custom(|iters| {
                shared(threads, iters, &|| {
                    drop(black_box(failsafe::CircuitBreaker::call(&theirs, || {
                        work(black_box(1))
                    })))
                })
            })
        });
    }
    g.finish();
}

fn _manual_clock_is_send_sync() -> impl Send + Sync {
    CircuitBreaker::new(BreakerConfig::default(), ManualClock::new())
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    targets = s1_retry_success, s2_two_failures, s3_breaker_closed, s4_breaker_open, s5_fallback, s6_async, s7_shared_breaker
}
criterion_main!(benches);
