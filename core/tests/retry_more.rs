//! The retry executors' deadline, result predicate, attempt timeout and
//! events, on virtual time.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{
    BreakerConfig, CircuitBreaker, Clock, Event, GiveUpReason, Jitter, ManualClock, Retry, RetryPolicy, TimedOut,
};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a virtual-time future must not pend"),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Fixed 1 s waits, up to 10 attempts, 3.5 s deadline.
fn deadline_policy() -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(10)
        .backoff(resilience_core::BackoffStrategy::Fixed)
        .jitter(Jitter::None)
        .max_elapsed(ms(3500))
        .build()
        .unwrap()
}

#[test]
fn the_blocking_executor_never_sleeps_past_the_deadline() {
    let clock = ManualClock::new();
    let p = deadline_policy();
    let err = Retry::new(&p, clock.clone())
        .clock(clock.clone())
        .call(|_| {
            clock.advance(ms(100)); // each attempt takes 100 ms
            Err::<(), _>("down")
        })
        .unwrap_err();
    // Attempts at 0, 1.1, 2.2 s; the third fails at 2.3 s and a 1 s wait
    // would start the fourth at 3.3 s (< 3.5 s); it fails at 3.4 s and a
    // further wait would start after the deadline.
    assert_eq!((err.attempts, err.reason), (4, GiveUpReason::Deadline));
    assert_eq!(clock.sleeps(), vec![ms(1000); 3]);
    assert!(clock.now() < ms(3500));
}

#[test]
fn the_async_executor_counts_the_deadline_from_before_its_first_attempt() {
    let clock = ManualClock::new();
    let p = deadline_policy();
    let slow_first = |first_ms: u64| {
        let clock = clock.clone();
        block_on(
            Retry::new(&p, clock.clone())
                .clock(clock.clone())
                .call_async(|attempt| {
                    clock.advance(ms(if attempt == 1 { first_ms } else { 100 }));
                    async { Err::<(), _>(std::io::Error::other("down")) }
                }),
        )
        .unwrap_err()
    };
    // As the blocking executor: attempts at 0, 1.1, 2.2 and 3.3 s.
    let err = slow_first(100);
    assert_eq!((err.attempts, err.reason), (4, GiveUpReason::Deadline));
    // A first attempt of 3 s is inside the deadline: a 1 s wait after it
    // would cross 3.5 s.
    let before = clock.sleeps().len();
    let err = slow_first(3000);
    assert_eq!((err.attempts, err.reason), (1, GiveUpReason::Deadline));
    assert_eq!(clock.sleeps().len(), before, "no wait");
}

#[test]
fn without_a_clock_the_deadline_counts_the_waits() {
    let clock = ManualClock::new();
    let p = deadline_policy();
    let err = Retry::new(&p, clock.clone())
        .call(|_| {
            clock.advance(ms(100));
            Err::<(), _>("down")
        })
        .unwrap_err();
    // Waits of 1 s: 1, 2, 3 s so far; a fourth would make 4 s >= 3.5 s.
    assert_eq!((err.attempts, err.reason), (4, GiveUpReason::Deadline));
    assert_eq!(clock.sleeps().len(), 3);
}

#[test]
fn a_slow_attempt_past_the_deadline_gives_up_at_its_failure() {
    let clock = ManualClock::new();
    let p = deadline_policy();
    let err = Retry::new(&p, clock.clone())
        .clock(clock.clone())
        .call(|_| {
            clock.advance(ms(4000));
            Err::<(), _>("slow and down")
        })
        .unwrap_err();
    assert_eq!((err.attempts, err.reason), (1, GiveUpReason::Deadline));
    assert!(clock.sleeps().is_empty());
}

#[test]
fn values_judged_failures_are_retried_and_the_last_is_returned() {
    let clock = ManualClock::new();
    let p = RetryPolicy::builder()
        .max_attempts(3)
        .jitter(Jitter::None)
        .build()
        .unwrap();
    let statuses = [503u16, 503, 200];
    let got = Retry::new(&p, clock.clone())
        .retry_on_result(|s: &u16| *s >= 500)
        .call(|attempt| Ok::<_, ()>(statuses[attempt as usize - 1]));
    assert_eq!(got, Ok(200));
    assert_eq!(clock.sleeps(), vec![ms(1000), ms(2000)]);

    let events = RefCell::new(Vec::new());
    let got = Retry::new(&p, ManualClock::new())
        .retry_on_result(|s: &u16| *s >= 500)
        .on_event(|e: &Event<'_, u16, ()>| events.borrow_mut().push(format!("{e:?}")))
        .call(|_| Ok::<_, ()>(503));
    assert_eq!(got, Ok(503), "the last value, not an error");
    let events = events.into_inner();
    assert_eq!(events.len(), 3);
    assert!(events[0].starts_with("RetryScheduled { attempt: 1, delay: 1s, cause: Result(503)"));
    assert_eq!(events[2], "GaveUp { attempts: 3, reason: Exhausted }");
}

#[test]
fn a_value_hint_beyond_the_deadline_gives_up_at_once() {
    struct RetryAfter;
    impl resilience_core::ResultPredicate<(u16, u64)> for RetryAfter {
        fn is_failure(&mut self, v: &(u16, u64)) -> bool {
            v.0 == 503
        }
        fn retry_after(&mut self, v: &(u16, u64)) -> Option<Duration> {
            Some(Duration::from_secs(v.1))
        }
    }
    let p = deadline_policy();
    let clock = ManualClock::new();
    let got = Retry::new(&p, clock.clone())
        .clock(clock.clone())
        .retry_on_result(RetryAfter)
        .call(|_| Ok::<_, ()>((503, 10)));
    assert_eq!(got, Ok((503, 10)));
    assert!(
        clock.sleeps().is_empty(),
        "no wait is started that would cross the deadline"
    );
}

#[test]
fn a_timed_out_attempt_is_cancelled_retried_and_reported() {
    let clock = ManualClock::new();
    let p = RetryPolicy::builder()
        .max_attempts(2)
        .jitter(Jitter::None)
        .attempt_timeout(ms(250))
        .build()
        .unwrap();
    let dropped = Cell::new(0);
    struct Guard<'a>(&'a Cell<u32>);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let events = RefCell::new(Vec::new());
    let err = block_on(
        Retry::new(&p, clock.clone())
            .on_event(|e: &Event<'_, (), std::io::Error>| events.borrow_mut().push(e.kind().as_str()))
            .call_async(|_| async {
                let _guard = Guard(&dropped);
                std::future::pending::<Result<(), std::io::Error>>().await
            }),
    )
    .unwrap_err();
    assert_eq!(err.error.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!((err.attempts, err.reason), (2, GiveUpReason::Exhausted));
    assert_eq!(dropped.get(), 2, "both attempts were dropped");
    // 250 ms timeout, 1 s wait, 250 ms timeout.
    assert_eq!(clock.sleeps(), vec![ms(250), ms(1000), ms(250)]);
    assert_eq!(*events.borrow(), ["timeout", "retry_scheduled", "timeout", "gave_up"]);
}

#[test]
fn a_timed_out_attempt_inside_a_breaker_frees_its_trial_slot() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::ZERO)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone());
    let _ = breaker.call(|| Err::<(), _>(()));
    let p = RetryPolicy::builder()
        .max_attempts(1)
        .attempt_timeout(ms(10))
        .build()
        .unwrap();
    let err = block_on(Retry::new(&p, clock.clone()).call_async(|_| async {
        breaker
            .call_async(std::future::pending::<Result<(), TimedOut>>, |_| true)
            .await
            .map_err(|_| TimedOut::new(Duration::ZERO))
    }))
    .unwrap_err();
    assert_eq!(err.error, TimedOut::new(ms(10)));
    assert_eq!(breaker.failure_count(), 1, "cancellation counts as neither");
    assert!(breaker.try_acquire().is_ok(), "the trial slot was freed");
    assert_eq!(breaker.tokens_outstanding(), 0);
}

#[test]
fn the_listener_sees_the_deadline() {
    let clock = ManualClock::new();
    let p = deadline_policy();
    let events = RefCell::new(Vec::new());
    let _ = Retry::new(&p, clock.clone())
        .clock(clock.clone())
        .on_event(|e: &Event<'_, (), &str>| {
            if let Event::GaveUp { reason, .. } = e {
                events.borrow_mut().push(reason.as_str());
            }
        })
        .call(|_| {
            clock.advance(ms(100));
            Err::<(), _>("down")
        });
    assert_eq!(*events.borrow(), ["deadline"]);
}
