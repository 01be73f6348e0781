//! The `Timeout` strategy run on its own: an answer within the timeout is
//! returned, a call still running when it expires is dropped.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{ManualClock, TimedOut, Timeout};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a ManualClock timer fires at once"),
    }
}

#[test]
fn a_timeout_returns_an_answer_in_time_and_gives_up_on_a_call_that_never_answers() {
    let clock = ManualClock::new();
    let timeout = Timeout::new(Duration::from_millis(300)).unwrap();
    assert_eq!(block_on(timeout.call(&clock, async { 5 })), Ok(5));
    assert!(clock.sleeps().is_empty(), "an immediate answer starts no timer");
    assert_eq!(
        block_on(timeout.call(&clock, std::future::pending::<u32>())),
        Err(TimedOut::new(Duration::from_millis(300)))
    );
    assert_eq!(clock.sleeps(), [Duration::from_millis(300)]);
}
