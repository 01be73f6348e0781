//! A permit guard released without an outcome (the call did not run, or
//! ended with an error the breaker does not count): it frees a half-open
//! trial slot and counts nothing.

use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ManualClock, RejectReason};

#[test]
fn a_released_trial_frees_its_slot_without_deciding_anything() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone());
    breaker.try_acquire().unwrap().failure();
    clock.advance(Duration::from_secs(5));

    let trial = breaker.try_acquire().unwrap();
    assert!(trial.is_trial());
    assert_eq!(breaker.try_acquire().unwrap_err().reason, RejectReason::TrialsTaken);
    trial.release();
    assert_eq!(breaker.state(), CircuitState::HalfOpen, "a release decides nothing");
    assert_eq!(breaker.failure_count(), 1);
    assert!(breaker.try_acquire().unwrap().is_trial(), "the slot is free again");
}

#[test]
fn a_released_closed_state_permit_counts_nothing() {
    let config = BreakerConfig::builder().failure_threshold(2).build().unwrap();
    let breaker = CircuitBreaker::new(config, ManualClock::new());
    breaker.try_acquire().unwrap().failure();
    breaker.try_acquire().unwrap().release();
    assert_eq!(breaker.failure_count(), 1, "neither a success nor a failure");
    assert_eq!(breaker.state(), CircuitState::Closed);
}
