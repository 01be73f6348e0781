//! The hedging driver's timer, on a sleeper that completes at once (a
//! `ManualClock` moves its time when asked to sleep): the next copy starts
//! when the timer fires; and the counters of the sans-IO state it drives.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{Clock, Hedge, HedgeOutcome, HedgeStep, HedgingConfig, ManualClock};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a hedge on a ManualClock must not wait"),
    }
}

#[test]
fn a_copy_that_never_answers_is_hedged_when_the_timer_fires() {
    let config = HedgingConfig::builder()
        .hedge_delay(ms(100))
        .max_hedged_attempts(1)
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let answer = block_on(
        Hedge::new(&config, clock.clone(), clock.clone()).call(|attempt| async move {
            if attempt == 1 {
                std::future::pending::<()>().await;
            }
            Ok::<_, ()>(attempt)
        }),
    );
    assert_eq!(answer, Ok(2));
    assert_eq!(clock.sleeps(), [ms(100)], "one hedge delay");
    assert_eq!(clock.now(), ms(100));
}

#[test]
fn the_state_counts_launched_and_running_copies_until_it_finishes() {
    let config = HedgingConfig::builder()
        .hedge_delay(ms(100))
        .max_hedged_attempts(2)
        .build()
        .unwrap();
    let mut hedge = config.start();
    assert_eq!((hedge.launched(), hedge.running(), hedge.is_finished()), (0, 0, false));
    assert_eq!(hedge.next(ms(0)), HedgeStep::Launch { attempt: 1 });
    assert_eq!(hedge.next(ms(100)), HedgeStep::Launch { attempt: 2 });
    assert_eq!((hedge.launched(), hedge.running()), (2, 2));
    assert_eq!(hedge.on_outcome(1, false, ms(120)), HedgeOutcome::Continue);
    assert_eq!((hedge.launched(), hedge.running(), hedge.is_finished()), (2, 1, false));
    assert_eq!(hedge.on_outcome(2, true, ms(130)), HedgeOutcome::Won { attempt: 2 });
    assert!(hedge.is_finished());
    assert_eq!(hedge.running(), 0);
    assert_eq!(hedge.next(ms(500)), HedgeStep::Finished);
    assert_eq!(hedge.launched(), 2, "nothing starts after the end");
}
