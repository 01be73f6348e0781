//! Shared mode under concurrency: while threads call, a driver thread takes
//! deltas; every call, failure and slow call is taken exactly once. And an
//! unshared breaker's fleet hooks are inert.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, FleetConfig, FleetCounts, FleetReport, FleetView, ManualClock};

#[test]
fn takes_racing_calls_count_each_call_once() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_rate(1.0, u32::MAX)
        .time_window(Duration::from_secs(60), 10)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock).in_fleet(FleetConfig::default());
    let (threads, per_thread) = (4u64, 50_000u64);
    let done = AtomicBool::new(false);
    let mut taken = FleetCounts::default();
    std::thread::scope(|scope| {
        let callers: Vec<_> = (0..threads)
            .map(|t| {
                let breaker = &breaker;
                scope.spawn(move || {
                    for i in 0..per_thread {
                        let _ = breaker.call(|| if (i + t) % 3 == 0 { Err(()) } else { Ok(()) });
                    }
                })
            })
            .collect();
        let driver = scope.spawn(|| {
            let mut sum = FleetCounts::default();
            while !done.load(Ordering::Acquire) {
                let d = breaker.take_delta().counts;
                // Each call is taken with its failure: a batch never holds
                // failures whose calls went in another batch.
                assert!(d.failures <= d.calls, "a batch holds failures of other calls: {d:?}");
                sum.calls += d.calls;
                sum.failures += d.failures;
                std::thread::yield_now();
            }
            sum
        });
        for c in callers {
            c.join().unwrap();
        }
        done.store(true, Ordering::Release);
        taken = driver.join().unwrap();
    });
    let last = breaker.take_delta().counts;
    let calls = threads * per_thread;
    let failures: u64 = (0..threads)
        .map(|t| (0..per_thread).filter(|i| (i + t) % 3 == 0).count() as u64)
        .sum();
    assert_eq!(taken.calls + last.calls, calls);
    assert_eq!(taken.failures + last.failures, failures);
    assert_eq!(
        breaker.metrics().window_calls,
        calls,
        "the local window saw every call too"
    );
}

#[test]
fn an_unshared_breaker_has_inert_fleet_hooks() {
    let breaker = CircuitBreaker::new(BreakerConfig::default(), ManualClock::new());
    let _ = breaker.call(|| Err::<(), _>(()));
    assert_eq!(breaker.take_delta().counts, FleetCounts::default());
    assert_eq!(breaker.fleet_report(), FleetReport::default());
    assert!(breaker.fleet_seed().buckets.is_empty());
    let view = FleetView {
        open_remaining: Duration::from_secs(5),
        ..FleetView::default()
    };
    assert_eq!(breaker.apply_fleet(&view, &FleetReport::default()), None);
    assert!(breaker.fleet_status().is_none());
    assert!(breaker.fleet_config().is_none());
    assert!(!breaker.set_fleet_waker(|| {}));
    assert_eq!(breaker.state(), resilience_core::CircuitState::Closed);
}
