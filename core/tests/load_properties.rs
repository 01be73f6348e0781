//! Load control against reference models, and robustness: the retry budget
//! and the throttle's counts agree with a plain model of their windows on
//! any single-threaded script; every configuration value, valid or not,
//! builds or fails with an error, never a panic; many threads together
//! never overdraw a budget or a limiter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use proptest::prelude::*;
use resilience_core::rules::Unit;
use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, ManualClock, RateLimitError, RateLimiter, RateLimiterConfig, RetryBudget,
    RetryBudgetConfig, Value,
};

#[derive(Debug, Clone, Copy)]
enum Op {
    Deposit,
    Withdraw,
    Check,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![Just(Op::Deposit), Just(Op::Withdraw), Just(Op::Check)]
}

/// Any value a binding could hand over.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| Value::Int(i128::from(n))),
        any::<f64>().prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        any::<bool>().prop_map(|negative| Value::HugeInt { negative }),
        Just(Value::Absent),
        "[a-z0-9.]{0,40}".prop_map(|s| Value::text(&s)),
        any::<u64>().prop_map(|n| Value::Duration(Duration::from_nanos(n))),
    ]
}

proptest! {
    /// The budget grants a retry exactly when the model says the window
    /// (this tenth of ttl and the nine before) has room for it.
    #[test]
    fn the_budget_matches_its_model(ttl_ms in 1_000u64..=60_000, floor in 0u32..20, ratio in 0.001f64..=1.0,
                                    script in prop::collection::vec((0u64..4_000, op()), 1..300)) {
        let clock = ManualClock::new();
        let config = RetryBudgetConfig::builder()
            .ttl(Duration::from_millis(ttl_ms)).min_retries_per_sec(floor).retry_ratio(ratio).build().unwrap();
        let budget = RetryBudget::new(config, clock.clone());
        let width = u128::from(ttl_ms) * 1_000_000 / 10;
        let per_deposit = (ratio * 1e6).round() as u128;
        let reserve = u128::from(floor) * u128::from(ttl_ms) * 1_000;
        let (mut deposits, mut retries): (Vec<u128>, Vec<u128>) = (vec![], vec![]);
        for (advance_ms, op) in script {
            clock.advance(Duration::from_millis(advance_ms));
            let e = clock_epoch(&clock, width);
            let live = |v: &Vec<u128>| v.iter().filter(|&&k| k + 9 >= e).count() as u128;
            let model = ((reserve + per_deposit * live(&deposits)) / 1_000_000).saturating_sub(live(&retries));
            match op {
                Op::Deposit => { budget.deposit(); deposits.push(e); }
                Op::Withdraw => {
                    let granted = budget.try_withdraw();
                    prop_assert_eq!(granted, model >= 1);
                    if granted { retries.push(e); }
                }
                Op::Check => prop_assert_eq!(u128::from(budget.available()), model),
            }
        }
    }

    /// The throttle's window counts and probability follow the model.
    #[test]
    fn the_throttle_matches_its_model(k in 0.1f64..4.0, window_s in 1u64..300, seed: u64,
                                      script in prop::collection::vec((0u64..20_000, any::<bool>()), 1..300)) {
        let clock = ManualClock::new();
        let config = AdaptiveThrottleConfig::builder()
            .k(k).window(Duration::from_secs(window_s)).seed(seed).build().unwrap();
        let throttle = AdaptiveThrottle::new(config, clock.clone());
        let width = u128::from(window_s) * 100_000_000;
        let (mut requests, mut accepts): (Vec<u128>, Vec<u128>) = (vec![], vec![]);
        for (advance_ms, accepted) in script {
            clock.advance(Duration::from_millis(advance_ms));
            let e = clock_epoch(&clock, width);
            let live = |v: &Vec<u128>| v.iter().filter(|&&b| b + 9 >= e).count() as u64;
            let (r, a) = (live(&requests), live(&accepts));
            let p = ((r as f64 - k * a as f64) / (r as f64 + 1.0)).max(0.0);
            let s = throttle.stats();
            prop_assert_eq!((s.requests, s.accepts, s.probability), (r, a, p));
            requests.push(e);
            match throttle.try_admit() {
                Ok(()) => {
                    throttle.record(accepted);
                    if accepted { accepts.push(e); }
                }
                Err(t) => {
                    prop_assert!(p > 0.0);
                    prop_assert_eq!(t.probability, p);
                }
            }
        }
    }

    /// Any values build a configuration or fail with an error naming one
    /// of the parameters — never a panic.
    #[test]
    fn any_values_build_or_fail_cleanly(a in any_value(), b in any_value(), c in any_value(),
                                        unit in prop::sample::select(vec![Unit::Seconds, Unit::Milliseconds, Unit::Nanoseconds])) {
        if let Err(e) = RetryBudgetConfig::from_values(Some(a.clone()), Some(b.clone()), Some(c.clone()), unit) {
            prop_assert!(["ttl", "min_retries_per_sec", "retry_ratio"].contains(&e.parameter()));
        }
        if let Err(e) = AdaptiveThrottleConfig::from_values(Some(a.clone()), Some(b.clone()), Some(c.clone()), unit) {
            prop_assert!(["k", "window", "seed"].contains(&e.parameter()));
        }
        match RateLimiterConfig::from_values(Some(a), Some(b), Some(c), unit) {
            Err(e) => prop_assert!(["rate", "per", "burst"].contains(&e.parameter())),
            Ok(config) => {
                let limiter = RateLimiter::new(config, ManualClock::starting_at(Duration::MAX));
                let _ = limiter.try_acquire_n(u32::MAX);
                let _ = limiter.try_acquire();
            }
        }
    }
}

fn clock_epoch(clock: &ManualClock, width: u128) -> u128 {
    use resilience_core::Clock;
    clock.now().as_nanos() / width
}

/// With the clock still, eight threads sharing one budget get exactly the
/// floor plus the ratio of the deposits — no more, no less.
#[test]
fn eight_threads_share_one_budget_exactly() {
    const THREADS: usize = 8;
    let clock = ManualClock::new();
    let config = RetryBudgetConfig::builder()
        .ttl(Duration::from_secs(1))
        .min_retries_per_sec(7)
        .retry_ratio(0.1)
        .build()
        .unwrap();
    let budget = Arc::new(RetryBudget::new(config, clock.clone()));
    let granted = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(THREADS));
    for round in 0..3 {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (budget, granted, barrier) = (budget.clone(), granted.clone(), barrier.clone());
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        budget.deposit();
                    }
                    barrier.wait();
                    for _ in 0..200 {
                        if budget.try_withdraw() {
                            granted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        // 7 + 4000 × 0.1 = 407 per window.
        assert_eq!(granted.swap(0, Ordering::Relaxed), 407, "round {round}");
        assert_eq!(budget.available(), 0);
        clock.advance(Duration::from_secs(1));
    }
}

/// Eight threads on one limiter with the clock still take exactly the burst.
#[test]
fn eight_threads_share_one_limiter_exactly() {
    let clock = ManualClock::new();
    let config = RateLimiterConfig::builder().rate(5).burst(64).build().unwrap();
    let limiter = Arc::new(RateLimiter::new(config, clock));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let limiter = limiter.clone();
            std::thread::spawn(move || {
                (0..1_000)
                    .filter(|_| match limiter.try_acquire() {
                        Ok(()) => true,
                        Err(RateLimitError::Limited(_)) => false,
                        Err(other) => panic!("{other}"),
                    })
                    .count()
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 64);
}
