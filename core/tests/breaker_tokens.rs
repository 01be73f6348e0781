//! Breaker permits handed out as plain tokens: local (tag-less) tokens for
//! JavaScript, the open → half-open transition a trial token carries, and
//! what happens when every one of the 65 536 ledger places is taken.

use std::time::Duration;

use resilience_core::{
    BreakerConfig, CircuitBreaker, CircuitState, ManualClock, PermitMisuse, RejectReason, Transition,
};

/// Permits a breaker can have out at once (its ledger's capacity).
const CAPACITY: usize = 65_536;

fn config(half_open_max_calls: u32) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(10))
        .half_open_max_calls(half_open_max_calls)
        .build()
        .unwrap()
}

#[test]
fn a_local_token_is_rebuilt_only_by_the_breaker_that_issued_it() {
    let breaker = CircuitBreaker::new(config(1), ManualClock::new());
    let other = CircuitBreaker::new(config(1), ManualClock::new());
    let token = breaker.acquire_token().unwrap();
    let local = token.to_local();

    assert_eq!(breaker.token_from_local(local), token);
    // Another breaker reads the same bits as its own token, which it never issued.
    let foreign = other.token_from_local(local);
    assert_ne!(foreign, token);
    assert_eq!(other.record_failure(foreign), Err(PermitMisuse::NotOutstanding));
    assert_eq!(other.failure_count(), 0);

    assert_eq!(breaker.record_success(breaker.token_from_local(local)), Ok(None));
    assert_eq!(breaker.tokens_outstanding(), 0);
}

#[test]
fn a_trial_token_carries_the_transition_its_admission_caused() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(config(2), clock.clone());
    let _ = breaker.record_failure(breaker.acquire_token().unwrap());
    clock.advance(Duration::from_secs(10));

    let first = breaker.acquire_token().unwrap();
    let second = breaker.acquire_token().unwrap();
    assert!(first.is_trial() && second.is_trial());
    assert_eq!(
        first.transition(),
        Some(Transition {
            from: CircuitState::Open,
            to: CircuitState::HalfOpen
        })
    );
    assert_eq!(second.transition(), None, "the breaker was half-open already");
    assert_eq!(breaker.release(first), Ok(()));
    assert_eq!(breaker.release(second), Ok(()));
}

#[test]
fn a_trial_is_refused_while_every_ledger_place_is_taken() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(config(2), clock.clone());
    let tokens: Vec<_> = (0..CAPACITY).map(|_| breaker.acquire_token().unwrap()).collect();
    let full = breaker.acquire_token().unwrap_err();
    assert_eq!(full.reason, RejectReason::PermitsExhausted);
    assert_eq!(
        breaker.metrics().rejections,
        1,
        "a closed breaker's refusal is a rejection"
    );

    // One failure opens the breaker and frees one place; the first trial takes it.
    assert!(breaker.record_failure(tokens[0]).unwrap().is_some());
    clock.advance(Duration::from_secs(10));
    let trial = breaker.acquire_token().unwrap();
    assert!(trial.is_trial());

    // A second trial is allowed (half_open_max_calls 2) but has nowhere to go.
    let refused = breaker.acquire_token().unwrap_err();
    assert_eq!(refused.reason, RejectReason::PermitsExhausted);
    assert_eq!(refused.retry_after, Duration::ZERO);
    assert_eq!(refused.to_string(), "circuit breaker has too many permits out");
    assert_eq!(breaker.metrics().rejections, 2, "a trial's refusal too");
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert_eq!(breaker.tokens_outstanding(), CAPACITY);

    // The refusal took no trial slot: the one trial still decides.
    assert_eq!(
        breaker.record_success(trial),
        Ok(Some(Transition {
            from: CircuitState::HalfOpen,
            to: CircuitState::Closed
        }))
    );
}
