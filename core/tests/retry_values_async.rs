//! The async retry executor judging returned values: a value the result
//! predicate calls a failure is retried after the policy's delay, and the
//! first value it accepts is returned.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{Jitter, ManualClock, Retry, RetryPolicy};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a retry on a ManualClock must not wait"),
    }
}

#[test]
fn a_value_judged_a_failure_is_retried_until_one_is_accepted() {
    let policy = RetryPolicy::builder()
        .max_attempts(4)
        .base_delay(Duration::from_millis(100))
        .jitter(Jitter::None)
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let statuses = [503u16, 502, 200, 200];
    let answer = block_on(
        Retry::new(&policy, clock.clone())
            .retry_on_result(|status: &u16| *status >= 500)
            .call_async(|attempt| {
                let status = statuses[attempt as usize - 1];
                async move { Ok::<_, std::io::Error>(status) }
            }),
    );
    assert_eq!(answer.unwrap(), 200);
    assert_eq!(clock.sleeps(), [Duration::from_millis(100), Duration::from_millis(200)]);
}
