//! The text forms bindings and logs show: names of strategies, modes and
//! states, and the messages of rejections and give-ups.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use resilience_core::{
    BackoffStrategy, BreakerConfig, BreakerError, CircuitBreaker, CircuitState, GiveUpReason, Jitter, ManualClock,
    Rejected, RetryError,
};

#[test]
fn strategies_modes_and_states_display_their_binding_names() {
    let names: Vec<String> = BackoffStrategy::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["fixed", "linear", "exponential", "fibonacci"]);
    let names: Vec<String> = Jitter::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["none", "proportional", "full", "equal", "decorrelated"]);
    let states = [
        CircuitState::Closed,
        CircuitState::Open,
        CircuitState::HalfOpen,
        CircuitState::Isolated,
    ];
    let names: Vec<String> = states.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["closed", "open", "half_open", "isolated"]);
    for state in states {
        assert_eq!(CircuitState::from_name(state.as_str()), Some(state));
    }
    assert_eq!(CircuitState::from_name("ajar"), None);
}

/// A rejection from a real breaker, opened `waited` before the ask.
fn rejection(waited: Duration) -> Rejected {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone());
    let _ = breaker.call(|| Err::<(), _>(()));
    clock.advance(waited);
    breaker.try_acquire().unwrap_err()
}

#[test]
fn a_rejection_says_how_long_to_wait() {
    let rejected = rejection(Duration::from_millis(1500));
    assert_eq!(rejected.to_string(), "circuit breaker is open (retry after 1.5s)");
    let as_error: &dyn Error = &rejected;
    assert!(as_error.source().is_none());
    let breaker = CircuitBreaker::new(BreakerConfig::default(), ManualClock::new());
    breaker.isolate();
    assert_eq!(
        breaker.try_acquire().unwrap_err().to_string(),
        "circuit breaker is isolated"
    );
}

#[derive(Debug, PartialEq)]
struct Down;

impl fmt::Display for Down {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("service down")
    }
}

impl Error for Down {}

#[test]
fn a_breaker_error_shows_the_rejection_or_the_operations_error_unchanged() {
    let open: BreakerError<Down> = BreakerError::Open(rejection(Duration::from_secs(1)));
    assert_eq!(open.to_string(), "circuit breaker is open (retry after 2s)");
    assert!(open.source().is_some_and(|s| s.to_string() == open.to_string()));
    let inner = BreakerError::Inner(Down);
    assert_eq!(inner.to_string(), "service down");
    assert_eq!(inner.source().map(ToString::to_string).as_deref(), Some("service down"));
}

#[test]
fn a_retry_error_counts_attempts_and_keeps_the_last_error_as_its_source() {
    let error = RetryError {
        error: Down,
        attempts: 3,
        reason: GiveUpReason::Exhausted,
    };
    assert_eq!(error.to_string(), "gave up after 3 attempt(s): service down");
    assert_eq!(error.source().map(ToString::to_string).as_deref(), Some("service down"));
    assert_eq!(error.into_inner(), Down);
}

#[test]
fn debug_output_of_a_breaker_and_its_permit_shows_state_not_internals() {
    let config = BreakerConfig::builder().failure_threshold(1).build().unwrap();
    let breaker = CircuitBreaker::new(config, ManualClock::new());
    let permit = breaker.try_acquire().unwrap();
    assert!(format!("{permit:?}").starts_with("Permit { grant: Some("), "{permit:?}");
    let _ = permit.failure();
    let shown = format!("{breaker:?}");
    assert!(shown.starts_with("CircuitBreaker {"), "{shown}");
    assert!(
        shown.contains("state: Open") && shown.contains("failures: 1"),
        "{shown}"
    );
    assert!(shown.ends_with(", .. }"), "internals stay hidden: {shown}");
}
