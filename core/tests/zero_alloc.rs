//! The success path allocates nothing: the blocking retry executor and
//! `CircuitBreaker::call`, measured with a counting global allocator
//! (the `allocation-counter` crate, so this crate stays free of `unsafe`).

use resilience_core::{BreakerConfig, CircuitBreaker, ManualClock, Retry, RetryPolicy};

fn allocations_during(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

#[test]
fn retry_success_path_does_not_allocate() {
    let policy = RetryPolicy::builder().seed(1).build().unwrap();
    let clock = ManualClock::new();
    let n = allocations_during(|| {
        for i in 0..10_000u64 {
            let r = Retry::new(&policy, clock.clone()).call(|_| Ok::<u64, &str>(i));
            assert_eq!(r.unwrap(), i);
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn breaker_closed_success_path_does_not_allocate() {
    let breaker = CircuitBreaker::new(BreakerConfig::default(), ManualClock::new());
    let n = allocations_during(|| {
        for i in 0..10_000u64 {
            assert_eq!(breaker.call(|| Ok::<_, ()>(i)), Ok(i));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn windowed_closed_path_and_metrics_do_not_allocate() {
    use std::time::Duration;
    let clock = ManualClock::new();
    for config in [
        BreakerConfig::builder()
            .failure_rate(0.9, 1_000_000)
            .time_window(Duration::from_secs(1), 10)
            .slow_calls(Duration::from_millis(500), 1.0)
            .build()
            .unwrap(),
        BreakerConfig::builder()
            .failure_rate(0.9, 1_000_000)
            .count_window(100)
            .build()
            .unwrap(),
    ] {
        let breaker = CircuitBreaker::new(config, clock.clone());
        let n = allocations_during(|| {
            for i in 0..10_000u64 {
                clock.advance(Duration::from_micros(250)); // buckets keep rotating
                let outcome = if i % 7 == 0 { Err(()) } else { Ok(i) };
                assert_eq!(
                    breaker.call(|| outcome),
                    outcome.map_err(resilience_core::BreakerError::Inner)
                );
                let m = breaker.metrics();
                assert!(m.window_calls > 0);
            }
        });
        assert_eq!(n, 0);
    }
}

#[test]
fn a_shared_breaker_and_its_sync_hooks_do_not_allocate() {
    use resilience_core::{FleetConfig, FleetView};
    use std::time::Duration;
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_rate(0.9, 1_000_000)
        .time_window(Duration::from_secs(1), 10)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone()).in_fleet(FleetConfig::default());
    let n = allocations_during(|| {
        for i in 0..10_000u64 {
            clock.advance(Duration::from_micros(250));
            let outcome = if i % 7 == 0 { Err(()) } else { Ok(i) };
            assert_eq!(
                breaker.call(|| outcome),
                outcome.map_err(resilience_core::BreakerError::Inner)
            );
            if i % 100 == 0 {
                // What a driver's sync does in core (the seed, taken once per
                // store generation, is a list and may allocate).
                let sent = breaker.fleet_report();
                let delta = breaker.take_delta();
                assert!(delta.counts.calls > 0);
                let view = FleetView {
                    totals: delta.counts,
                    ..FleetView::default()
                };
                breaker.apply_fleet(&view, &sent);
                assert!(breaker.fleet_status().is_some_and(|s| s.live));
            }
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the two tests above: a counter stuck at zero would pass them.
    let n = allocations_during(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert!(n >= 1);
}
