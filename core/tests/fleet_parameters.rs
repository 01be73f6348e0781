//! What a store driver derives from a shared breaker besides the syncs
//! themselves: its sync parameters, the reconnect backoff, how long the
//! store keeps the keys, which window the store must hold, and the waker
//! that asks for a sync as soon as a local transition waits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use resilience_core::{
    BackoffStrategy, BreakerConfig, CircuitBreaker, CircuitState, FleetConfig, FleetCounts, FleetReport, FleetView,
    Jitter, ManualClock, MAX_RECONNECT_DELAY,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn time_window() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_rate(0.5, 10)
        .time_window(Duration::from_secs(10), 10)
        .build()
        .unwrap()
}

#[test]
fn sync_parameters_set_in_rust_derive_staleness_and_lease_lifetime() {
    let config = FleetConfig::builder()
        .sync_interval(ms(100))
        .sync_timeout(ms(20))
        .build()
        .unwrap();
    assert_eq!((config.sync_interval(), config.sync_timeout()), (ms(100), ms(20)));
    assert_eq!(config.stale_after(), ms(220));
    assert_eq!(config.lease_ttl(), ms(320));

    let err = FleetConfig::builder()
        .sync_interval(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.parameter(), "sync_interval");
    let err = FleetConfig::builder()
        .sync_timeout(Duration::from_micros(999))
        .build()
        .unwrap_err();
    assert_eq!(err.parameter(), "sync_timeout");
}

#[test]
fn the_reconnect_backoff_grows_from_one_interval_with_equal_jitter() {
    let policy = FleetConfig::default().reconnect_policy();
    assert_eq!(policy.backoff(), BackoffStrategy::Exponential);
    assert_eq!(policy.jitter(), Jitter::Equal);
    assert_eq!(policy.base_delay(), ms(250));
    assert_eq!(policy.max_delay(), MAX_RECONNECT_DELAY);
    assert_eq!(policy.max_attempts(), u32::MAX, "a driver never stops reconnecting");
    for failures in 1..=8 {
        let full = policy.raw_delay(failures);
        let delay = policy.calculate_delay(failures);
        assert!(delay >= full / 2 && delay <= full, "{failures}: {delay:?} of {full:?}");
    }
    assert_eq!(policy.raw_delay(30), MAX_RECONNECT_DELAY);

    // An interval longer than the usual cap is the cap.
    let slow = FleetConfig::builder()
        .sync_interval(Duration::from_secs(8))
        .build()
        .unwrap();
    let policy = slow.reconnect_policy();
    assert_eq!(
        (policy.base_delay(), policy.max_delay()),
        (Duration::from_secs(8), Duration::from_secs(8))
    );
}

#[test]
fn only_a_time_window_is_held_by_the_store() {
    let clock = ManualClock::new();
    let timed = CircuitBreaker::new(time_window(), clock.clone()).in_fleet(FleetConfig::default());
    assert_eq!(timed.fleet_window(), Some((Duration::from_secs(1), 10)));

    let consecutive = CircuitBreaker::new(BreakerConfig::default(), clock.clone()).in_fleet(FleetConfig::default());
    assert_eq!(consecutive.fleet_window(), None);
    let counted = BreakerConfig::builder()
        .failure_rate(0.5, 10)
        .count_window(20)
        .build()
        .unwrap();
    let counted = CircuitBreaker::new(counted, clock).in_fleet(FleetConfig::default());
    assert_eq!(counted.fleet_window(), None);
    let _ = counted.call(|| Err::<(), _>("down"));
    assert!(
        counted.take_delta().counts.is_zero(),
        "a count window counts nothing for the fleet"
    );
}

#[test]
fn the_store_keeps_keys_for_the_whole_window_or_four_stale_periods() {
    let clock = ManualClock::new();
    // Four stale periods: 4 × (2 × 250 ms + 50 ms).
    let consecutive = CircuitBreaker::new(BreakerConfig::default(), clock.clone()).in_fleet(FleetConfig::default());
    assert_eq!(consecutive.fleet_key_ttl(), ms(2_200));
    // The window plus a bucket: 11 × 1 s.
    let timed = CircuitBreaker::new(time_window(), clock.clone()).in_fleet(FleetConfig::default());
    assert_eq!(timed.fleet_key_ttl(), Duration::from_secs(11));
    // Slow syncs make the stale periods the longer bound.
    let slow = FleetConfig::builder()
        .sync_interval(Duration::from_secs(5))
        .build()
        .unwrap();
    let timed = CircuitBreaker::new(time_window(), clock.clone()).in_fleet(slow);
    assert_eq!(timed.fleet_key_ttl(), ms(4 * 10_050));
    // Unshared: nothing is stored, and no stale period applies.
    let unshared = CircuitBreaker::new(time_window(), clock);
    assert_eq!(unshared.fleet_key_ttl(), Duration::from_secs(11));
}

#[test]
fn an_unshared_breaker_has_no_fleet_parameters_and_nothing_to_publish() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder().failure_threshold(1).build().unwrap();
    let unshared = CircuitBreaker::new(config, clock.clone());
    assert_eq!(unshared.fleet_config(), None);
    let _ = unshared.call(|| Err::<(), _>("down"));
    assert_eq!(unshared.fleet_report(), FleetReport::default(), "even after an opening");
    let fleet = FleetConfig::builder().sync_interval(ms(100)).build().unwrap();
    assert_eq!(
        CircuitBreaker::new(config, clock).in_fleet(fleet).fleet_config(),
        Some(fleet)
    );
}

#[test]
fn counts_are_zero_only_when_all_three_are() {
    assert!(FleetCounts::default().is_zero());
    for counts in [
        FleetCounts {
            calls: 1,
            ..FleetCounts::default()
        },
        FleetCounts {
            failures: 1,
            ..FleetCounts::default()
        },
        FleetCounts {
            slow: 1,
            ..FleetCounts::default()
        },
    ] {
        assert!(!counts.is_zero(), "{counts:?}");
    }
}

#[test]
fn the_waker_is_called_while_a_local_transition_waits_to_be_published() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder().failure_threshold(1).build().unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone()).in_fleet(FleetConfig::default());
    let woken = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&woken);
    assert!(breaker.set_fleet_waker(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    assert!(!breaker.set_fleet_waker(|| {}), "one waker per breaker");
    assert!(
        !CircuitBreaker::new(config, clock).set_fleet_waker(|| {}),
        "an unshared breaker has none"
    );

    let _ = breaker.call(|| Ok::<_, ()>(()));
    assert_eq!(woken.load(Ordering::SeqCst), 0, "no transition, nothing to publish");
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), CircuitState::Open);
    assert_eq!(woken.load(Ordering::SeqCst), 1);

    // The opening is published and acknowledged; a manual reset is local and wakes no one.
    let sent = breaker.fleet_report();
    assert!(sent.opened.is_some());
    let _ = breaker.apply_fleet(&FleetView::default(), &sent);
    assert!(breaker.reset().is_some());
    assert_eq!(woken.load(Ordering::SeqCst), 1);
}
