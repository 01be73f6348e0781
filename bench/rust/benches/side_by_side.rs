//! Scenarios S1–S7 (named in bench/README.md), each side by side with a bare call and the Rust
//! peers (backon for retry, failsafe for the breaker), in one run; S8 is a
//! pipeline of retry ∘ breaker against the same strategies nested by hand;
//! L1 the rate limiter against governor, L2 a retry with a budget against
//! one without and the budget's deposit against tower's (load control).
//! `make bench-rust` runs it; bench/README.md holds the table.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BlockingRetryable, ExponentialBuilder, Retryable};
use criterion::{criterion_group, criterion_main, Criterion};
use resilience_bench::{block_on, work, TwoFailuresThenOk, WorkError};
use resilience_core::{
    run_fallback, BreakerConfig, BreakerLayer, CachedClock, CircuitBreaker, Clock, Jitter, ManualClock, Pipeline,
    RateLimiter, RateLimiterConfig, Retry, RetryBudget, RetryBudgetConfig, RetryLayer, RetryPolicy, SystemClock,
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
    let config = config.expect("valid");
    let ours = CircuitBreaker::new(config, SystemClock::new());
    let _ = ours.call(|| Err::<(), _>(()));
    // The opt-in coarse clock (issue 13): a background thread ticks it every
    // millisecond, the open path reads one atomic instead of the OS clock.
    let cached = Arc::new(CachedClock::new(SystemClock::new()));
    let _ticker = CachedClock::start_ticking(&cached, Duration::from_millis(1));
    let ours_cached = CircuitBreaker::new(config, cached);
    let _ = ours_cached.call(|| Err::<(), _>(()));
    let theirs = failsafe_breaker(1);
    let _ = failsafe::CircuitBreaker::call(&theirs, || Err::<(), _>(()));
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("resilience", |b| b.iter(|| ours.call(|| work(black_box(1))).is_err()));
    g.bench_function("resilience (cached clock)", |b| {
        b.iter(|| ours_cached.call(|| work(black_box(1))).is_err())
    });
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
        b.iter(|| {
            block_on(Retry::new(&p, |_| async {}).call_async(|_| async { work(black_box(1)).map_err(WorkError) }))
        })
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
    g.bench_function("tokio-retry retry", |b| {
        // Three attempts with jitter, as ours: the strategy is built per call,
        // as a caller of `Retry::start` builds it.
        b.iter(|| {
            let strategy = tokio_retry::strategy::ExponentialBackoff::from_millis(100)
                .map(tokio_retry::strategy::jitter)
                .take(2);
            block_on(tokio_retry::Retry::start(strategy, || async { work(black_box(1)) }))
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

fn s8_pipeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("S8 pipeline retry ∘ breaker (success)");
    let p = policy(Jitter::Proportional);
    let ours = closed_breaker();
    let blocking = Pipeline::builder(SystemClock::new(), |_| {})
        .retry(RetryLayer::new(p.clone()))
        .breaker(BreakerLayer::new(&ours))
        .build()
        .expect("valid pipeline");
    let nonblocking = Pipeline::builder(SystemClock::new(), |_| async {})
        .retry(RetryLayer::new(p.clone()))
        .breaker(BreakerLayer::new(&ours))
        .build()
        .expect("valid pipeline");
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("nested by hand", |b| {
        b.iter(|| Retry::new(&p, |_| {}).call(|_| ours.call(|| work(black_box(1)))))
    });
    let clock = SystemClock::new();
    g.bench_function("nested by hand, with the pipeline's clock", |b| {
        b.iter(|| {
            Retry::new(&p, |_| {})
                .clock(&clock)
                .call(|_| ours.call(|| work(black_box(1))))
        })
    });
    g.bench_function("pipeline", |b| b.iter(|| blocking.call(|| work(black_box(1)))));
    g.bench_function("nested by hand (async)", |b| {
        b.iter(|| {
            block_on(Retry::new(&p, |_| async {}).call_async(|_| async {
                ours.call_async(|| async { work(black_box(1)) }, |_| true)
                    .await
                    .map_err(|_| WorkError(0))
            }))
        })
    });
    g.bench_function("pipeline (async)", |b| {
        b.iter(|| block_on(nonblocking.call_async(|| async { work(black_box(1)) })))
    });
    g.finish();
}

/// governor's default clock (quanta's TSC clock, read the way governor's
/// `QuantaClock` reads it), as a resilience-core clock: both limiters can
/// then run on the same time source.
#[derive(Clone)]
struct QuantaClock(quanta::Clock);

impl Clock for QuantaClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.delta_as_nanos(0, self.0.raw()))
    }
}

/// A limiter that never runs dry in a benchmark (one cell per ns, the
/// finest both allow, and a burst of 2^32 - 1 cells, so even a clock that
/// stands still admits every iteration) and one that is always dry (one
/// cell per hour, spent).
fn limiters<C: Clock>(clock: impl Fn() -> C) -> (RateLimiter<C>, RateLimiter<C>) {
    let open = RateLimiterConfig::builder()
        .rate(u32::MAX)
        .per(Duration::from_secs(1))
        .burst(u32::MAX);
    let dry = RateLimiterConfig::builder()
        .rate(1)
        .per(Duration::from_secs(3600))
        .burst(1);
    let dry = RateLimiter::new(dry.build().expect("valid"), clock());
    assert!(dry.try_acquire().is_ok() && dry.try_acquire().is_err());
    (RateLimiter::new(open.build().expect("valid"), clock()), dry)
}

fn governor_quotas() -> (governor::Quota, governor::Quota) {
    let open = governor::Quota::per_second(NonZeroU32::MAX).allow_burst(NonZeroU32::MAX);
    let dry = governor::Quota::per_hour(NonZeroU32::MIN);
    (open, dry)
}

fn l1_rate_limiter(c: &mut Criterion) {
    use governor::clock::FakeRelativeClock;
    let mut g = c.benchmark_group("L1 rate limiter try_acquire");
    let (open_q, dry_q) = governor_quotas();
    let quanta = quanta::Clock::new();
    let (ours_q, ours_q_dry) = limiters(|| QuantaClock(quanta.clone()));
    let (ours_sys, _) = limiters(SystemClock::new);
    let (ours_fake, ours_fake_dry) = limiters(ManualClock::new);
    let theirs = governor::RateLimiter::direct(open_q);
    let theirs_dry = governor::RateLimiter::direct(dry_q);
    assert!(theirs_dry.check().is_ok());
    let theirs_fake = governor::RateLimiter::direct_with_clock(open_q, FakeRelativeClock::default());
    let theirs_fake_dry = governor::RateLimiter::direct_with_clock(dry_q, FakeRelativeClock::default());
    assert!(theirs_fake_dry.check().is_ok());
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("governor (quanta clock)", |b| b.iter(|| theirs.check().is_ok()));
    g.bench_function("resilience (quanta clock)", |b| b.iter(|| ours_q.try_acquire().is_ok()));
    g.bench_function("resilience (SystemClock)", |b| {
        b.iter(|| ours_sys.try_acquire().is_ok())
    });
    g.bench_function("resilience (fake clock)", |b| {
        b.iter(|| ours_fake.try_acquire().is_ok())
    });
    g.bench_function("governor (fake clock)", |b| b.iter(|| theirs_fake.check().is_ok()));
    g.bench_function("governor (quanta clock, rejected)", |b| {
        b.iter(|| theirs_dry.check().is_err())
    });
    g.bench_function("resilience (quanta clock, rejected)", |b| {
        b.iter(|| ours_q_dry.try_acquire().is_err())
    });
    g.bench_function("resilience (fake clock, rejected)", |b| {
        b.iter(|| ours_fake_dry.try_acquire().is_err())
    });
    g.bench_function("governor (fake clock, rejected)", |b| {
        b.iter(|| theirs_fake_dry.check().is_err())
    });
    // Our refusal carries the wait; governor's computes it on request, from
    // a second clock reading.
    let fake = FakeRelativeClock::default();
    let theirs_fake_dry = governor::RateLimiter::direct_with_clock(dry_q, fake.clone());
    assert!(theirs_fake_dry.check().is_ok());
    g.bench_function("governor (fake clock, rejected, with the wait)", |b| {
        b.iter(|| {
            theirs_fake_dry
                .check()
                .map_err(|e| e.wait_time_from(governor::clock::Clock::now(&fake)))
        })
    });
    // Every admitted-path iteration above was admitted.
    for admitted in [
        ours_q.try_acquire().is_ok(),
        ours_sys.try_acquire().is_ok(),
        ours_fake.try_acquire().is_ok(),
    ] {
        assert!(admitted);
    }
    assert!(theirs.check().is_ok() && theirs_fake.check().is_ok());
    g.finish();
}

fn l2_budget(c: &mut Criterion) {
    let mut g = c.benchmark_group("L2 retry success with a retry budget");
    let with = |budget: RetryBudget| {
        RetryPolicy::builder()
            .jitter(Jitter::Proportional)
            .seed(1)
            .budget(Arc::new(budget))
            .build()
            .expect("valid policy")
    };
    let plain = policy(Jitter::Proportional);
    let sys = with(RetryBudget::new(RetryBudgetConfig::default(), SystemClock::new()));
    let quanta = quanta::Clock::new();
    let tsc = with(RetryBudget::new(RetryBudgetConfig::default(), QuantaClock(quanta)));
    let fake = with(RetryBudget::new(RetryBudgetConfig::default(), ManualClock::new()));
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("resilience, no budget", |b| {
        b.iter(|| Retry::new(&plain, |_| {}).call(|_| work(black_box(1))))
    });
    g.bench_function("resilience, budget (SystemClock)", |b| {
        b.iter(|| Retry::new(&sys, |_| {}).call(|_| work(black_box(1))))
    });
    g.bench_function("resilience, budget (quanta clock)", |b| {
        b.iter(|| Retry::new(&tsc, |_| {}).call(|_| work(black_box(1))))
    });
    g.bench_function("resilience, budget (fake clock)", |b| {
        b.iter(|| Retry::new(&fake, |_| {}).call(|_| work(black_box(1))))
    });
    // The deposit alone, against tower's TpsBudget (a mutex and a clock
    // reading per deposit; its check-then-add withdrawal can overdraw).
    let ours = RetryBudget::new(RetryBudgetConfig::default(), SystemClock::new());
    let theirs = tower::retry::budget::TpsBudget::default();
    g.bench_function("deposit: resilience (SystemClock)", |b| b.iter(|| ours.deposit()));
    g.bench_function("deposit: tower TpsBudget", |b| {
        b.iter(|| tower::retry::budget::Budget::deposit(&theirs))
    });
    g.finish();
}

fn _manual_clock_is_send_sync() -> impl Send + Sync {
    CircuitBreaker::new(BreakerConfig::default(), ManualClock::new())
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    targets = s1_retry_success, s2_two_failures, s3_breaker_closed, s4_breaker_open, s5_fallback, s6_async, s7_shared_breaker,
        s8_pipeline, l1_rate_limiter, l2_budget
}
criterion_main!(benches);
