//! The retry state's bookkeeping and the async executor's success path.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{Jitter, ManualClock, Retry, RetryDecision, RetryPolicy, RetryState};

fn block_on<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a virtual-time future must not pend"),
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(4)
        .base_delay(Duration::from_millis(100))
        .jitter(Jitter::None)
        .build()
        .unwrap()
}

#[test]
fn a_default_state_is_a_fresh_sequence() {
    assert_eq!(RetryState::default(), RetryState::new());
    assert_eq!(RetryState::default(), policy().start());
    assert_eq!(RetryState::new().attempt(), 1);
    assert_eq!(RetryState::new().total_delay(), Duration::ZERO);
}

#[test]
fn the_total_delay_adds_up_every_decided_wait() {
    let policy = policy();
    let mut state = policy.start();
    let mut decided = Duration::ZERO;
    while let RetryDecision::Retry { delay, .. } = state.on_failure(&policy, true) {
        decided += delay;
        assert_eq!(state.total_delay(), decided);
    }
    assert_eq!(decided, Duration::from_millis(100 + 200 + 400));
}

/// An async operation's error: async retries may time an attempt out, so
/// their error type takes a `TimedOut` too.
#[derive(Debug, PartialEq)]
enum Flaky {
    Down,
    TimedOut,
}

impl From<resilience_core::TimedOut> for Flaky {
    fn from(_: resilience_core::TimedOut) -> Self {
        Self::TimedOut
    }
}

#[test]
fn an_async_call_that_succeeds_at_once_returns_its_value_without_sleeping() {
    let clock = ManualClock::new();
    let policy = policy();
    let result: Result<u32, _> =
        block_on(Retry::new(&policy, clock.clone()).call_async(|attempt| async move { Ok::<_, Flaky>(attempt * 10) }));
    assert_eq!(result.unwrap(), 10);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn an_async_call_that_recovers_returns_the_later_value() {
    let clock = ManualClock::new();
    let policy = policy();
    let result = block_on(Retry::new(&policy, clock.clone()).call_async(|attempt| async move {
        if attempt < 3 {
            Err(Flaky::Down)
        } else {
            Ok(attempt)
        }
    }));
    assert_eq!(result.unwrap(), 3);
    assert_eq!(clock.sleeps(), [Duration::from_millis(100), Duration::from_millis(200)]);
}
