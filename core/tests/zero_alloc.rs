//! The success path allocates nothing: the blocking retry executor,
//! `CircuitBreaker::call` and a pipeline of both, measured with a counting
//! global allocator (the `allocation-counter` crate, so this crate stays
//! free of `unsafe`).

use std::time::Duration;

use resilience_core::{
    BreakerConfig, BreakerLayer, CircuitBreaker, Event, ManualClock, Pipeline, PipelineError, Retry, RetryLayer,
    RetryPolicy,
};

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
fn retry_with_a_deadline_results_and_a_listener_does_not_allocate_on_success() {
    let policy = RetryPolicy::builder()
        .seed(1)
        .max_elapsed(Duration::from_secs(10))
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let n = allocations_during(|| {
        for i in 0..10_000u64 {
            let r = Retry::new(&policy, clock.clone())
                .clock(clock.clone())
                .retry_on_result(|v: &u64| *v == u64::MAX)
                .on_event(|_: &Event<'_, u64, &str>| {})
                .call(|_| Ok::<u64, &str>(i));
            assert_eq!(r.unwrap(), i);
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn pipeline_success_path_does_not_allocate() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(BreakerConfig::default(), clock.clone());
    let policy = RetryPolicy::builder().seed(1).build().unwrap();
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy))
        .breaker(BreakerLayer::new(&breaker))
        .on_event(|_: &Event<'_, u64, PipelineError<()>>| {})
        .build()
        .unwrap();
    let n = allocations_during(|| {
        for i in 0..10_000u64 {
            assert_eq!(pipeline.call(|| Ok::<_, ()>(i)), Ok(i));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn a_shared_breaker_and_its_sync_hooks_do_not_allocate() {
    use resilience_core::{FleetConfig, FleetView};
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
