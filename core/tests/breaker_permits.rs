//! Breaker permits that outlive a reset: they are stale and change nothing,
//! whatever the caller reports with them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ManualClock, PermitMisuse, Transition};

fn open_breaker(clock: &ManualClock) -> CircuitBreaker<ManualClock> {
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone());
    let _ = breaker.try_acquire().unwrap().failure();
    assert_eq!(breaker.state(), CircuitState::Open);
    breaker
}

#[test]
fn a_trial_token_from_before_a_reset_cannot_close_or_open_the_breaker() {
    let clock = ManualClock::new();
    let breaker = open_breaker(&clock);
    clock.advance(Duration::from_secs(10));
    let stale_success = breaker.acquire_token().unwrap();
    assert!(stale_success.is_trial());
    assert_eq!(
        breaker.reset(),
        Some(Transition {
            from: CircuitState::HalfOpen,
            to: CircuitState::Closed
        })
    );

    // Re-open, then reach half-open again with a fresh trial in flight.
    let _ = breaker.try_acquire().unwrap().failure();
    clock.advance(Duration::from_secs(10));
    let fresh = breaker.acquire_token().unwrap();
    assert!(fresh.is_trial());

    // The stale token neither closes the breaker nor frees the fresh trial's slot.
    assert_eq!(
        breaker.record_success(stale_success),
        Ok(None),
        "a stale report is accepted"
    );
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert!(breaker.try_acquire().is_err(), "the one trial slot is still taken");
    // Reported once already: a second report is a misuse, and changes nothing.
    assert_eq!(breaker.record_failure(stale_success), Err(PermitMisuse::NotOutstanding));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);

    assert_eq!(
        breaker.record_success(fresh),
        Ok(Some(Transition {
            from: CircuitState::HalfOpen,
            to: CircuitState::Closed
        }))
    );
}

#[test]
fn the_listener_hears_each_transition_once() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let sink = Arc::clone(&heard);
    let breaker = CircuitBreaker::new(config, clock.clone()).with_listener(move |t| sink.lock().unwrap().push(t));
    let _ = breaker.try_acquire().unwrap().failure();
    clock.advance(Duration::from_secs(1));
    let _ = breaker.try_acquire().unwrap().success();
    assert_eq!(breaker.reset(), None, "resetting a closed breaker is no transition");
    use CircuitState::{Closed, HalfOpen, Open};
    let t = |from, to| Transition { from, to };
    assert_eq!(
        *heard.lock().unwrap(),
        [t(Closed, Open), t(Open, HalfOpen), t(HalfOpen, Closed)]
    );
}

#[test]
fn a_closed_call_in_flight_across_a_reset_counts_for_nothing() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder().failure_threshold(1).build().unwrap();
    let breaker = CircuitBreaker::new(config, clock);
    let permit = breaker.try_acquire().unwrap();
    assert_eq!(breaker.reset(), None);
    // Admitted before the reset: its failure is stale, like a token's.
    assert_eq!(permit.failure(), None);
    assert_eq!((breaker.state(), breaker.failure_count()), (CircuitState::Closed, 0));
    // A call admitted after the reset counts.
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), CircuitState::Open);
}
