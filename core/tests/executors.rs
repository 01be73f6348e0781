//! Executors and hooks: async retry on virtual time, on_retry arguments,
//! breaker listener and returned transitions, permits dropped unreported.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{
    BreakerConfig, BreakerError, CircuitBreaker, CircuitState, Clock, GiveUpReason, Jitter, ManualClock, Retry,
    RetryPolicy, Transition,
};

/// Polls a future that never actually waits (ManualClock sleeps are ready at once).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a virtual-time future must not pend"),
    }
}

fn policy(max: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(max)
        .base_delay(Duration::from_millis(100))
        .jitter(Jitter::None)
        .build()
        .unwrap()
}

#[test]
fn async_retry_sleeps_on_virtual_time_and_returns_the_last_error() {
    let clock = ManualClock::new();
    let p = policy(3);
    let mut notified = Vec::new();
    let result = block_on(
        Retry::new(&p, clock.clone())
            .on_retry(|attempt, e: &std::io::Error, delay| notified.push((attempt, e.to_string(), delay)))
            .call_async(|attempt| async move { Err::<(), _>(std::io::Error::other(format!("failure {attempt}"))) }),
    );
    let err = result.unwrap_err();
    assert_eq!(err.error.to_string(), "failure 3");
    assert_eq!((err.attempts, err.reason), (3, GiveUpReason::Exhausted));
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_millis(100), Duration::from_millis(200)]
    );
    assert_eq!(clock.now(), Duration::from_millis(300));
    assert_eq!(notified[1], (2, "failure 2".to_string(), Duration::from_millis(200)));
}

#[test]
fn a_non_retryable_error_stops_at_once_without_sleeping() {
    let clock = ManualClock::new();
    let p = policy(5);
    let err = Retry::new(&p, clock.clone())
        .retry_if(|e: &&str| *e != "fatal")
        .call(|_| Err::<(), _>("fatal"))
        .unwrap_err();
    assert_eq!((err.attempts, err.reason), (1, GiveUpReason::NotRetryable));
    assert!(clock.sleeps().is_empty());
}

#[test]
fn the_predicate_is_not_consulted_on_the_last_attempt() {
    let clock = ManualClock::new();
    let p = policy(2);
    let mut asked = 0;
    let _ = Retry::new(&p, clock)
        .retry_if(|_: &()| {
            asked += 1;
            true
        })
        .call(|_| Err::<(), _>(()));
    assert_eq!(asked, 1);
}

#[test]
fn the_listener_sees_every_transition_and_calls_return_them() {
    let clock = ManualClock::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone()).with_listener(move |t| log.lock().unwrap().push(t));
    let t = |from, to| Transition { from, to };
    use CircuitState::{Closed, HalfOpen, Open};

    assert_eq!(breaker.try_acquire().unwrap().failure(), Some(t(Closed, Open)));
    clock.advance(Duration::from_secs(1));
    let permit = breaker.try_acquire().unwrap();
    assert!(permit.is_trial());
    assert_eq!(permit.transition(), Some(t(Open, HalfOpen)));
    assert_eq!(permit.success(), Some(t(HalfOpen, Closed)));
    let _ = breaker.call(|| Err::<(), _>(()));
    assert_eq!(breaker.reset(), Some(t(Open, Closed)));
    assert_eq!(breaker.reset(), None);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            t(Closed, Open),
            t(Open, HalfOpen),
            t(HalfOpen, Closed),
            t(Closed, Open),
            t(Open, Closed)
        ]
    );
}

#[test]
fn a_dropped_trial_permit_frees_its_slot_and_counts_as_neither() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::ZERO)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock);
    let _ = breaker.call(|| Err::<(), _>(()));
    let trial = breaker.try_acquire().unwrap();
    assert!(breaker.try_acquire().is_err(), "one trial at a time");
    drop(trial);
    assert_eq!(breaker.failure_count(), 1);
    assert!(breaker.try_acquire().is_ok(), "the slot was freed");
}

#[test]
fn async_breaker_call_counts_like_the_blocking_one() {
    let breaker = CircuitBreaker::new(
        BreakerConfig::builder().failure_threshold(2).build().unwrap(),
        ManualClock::new(),
    );
    for _ in 0..2 {
        let r = block_on(breaker.call_async(|| async { Err::<(), _>("down") }, |_| true));
        assert_eq!(r, Err(BreakerError::Inner("down")));
    }
    let r = block_on(breaker.call_async(|| async { Ok::<_, &str>(1) }, |_| true));
    assert!(matches!(r, Err(BreakerError::Open(rejected)) if rejected.retry_after == Duration::from_secs(30)));
}

#[test]
fn permit_tokens_round_trip_through_raw_bits() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::ZERO)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock);
    let normal = breaker.acquire_token().unwrap();
    let opened = breaker.record_failure(resilience_core::PermitToken::from_raw(normal.to_raw()));
    assert!(opened.unwrap().is_some());
    let trial = breaker.acquire_token().unwrap();
    let back = resilience_core::PermitToken::from_raw(trial.to_raw());
    assert!(back.is_trial());
    assert!(breaker.record_success(back).unwrap().is_some());
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.tokens_outstanding(), 0);
}

#[test]
fn a_trial_that_panics_frees_its_slot() {
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::ZERO)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, ManualClock::new());
    let _ = breaker.call(|| Err::<(), _>(()));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = breaker.call(|| -> Result<(), ()> { panic!("the operation panicked") });
    }));
    assert!(panicked.is_err());
    assert_eq!(breaker.failure_count(), 1, "a panic counts as neither");
    assert!(breaker.try_acquire().is_ok(), "the trial slot was freed");
}

#[test]
fn a_trial_future_dropped_mid_call_frees_its_slot() {
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::ZERO)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, ManualClock::new());
    let _ = breaker.call(|| Err::<(), _>(()));
    {
        let mut call = pin!(breaker.call_async(std::future::pending::<Result<(), ()>>, |_| true));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending(), "the trial is running");
        assert!(breaker.try_acquire().is_err(), "its slot is taken");
    } // cancelled here
    assert_eq!(breaker.failure_count(), 1, "cancellation counts as neither");
    assert!(breaker.try_acquire().is_ok(), "the trial slot was freed");
}
