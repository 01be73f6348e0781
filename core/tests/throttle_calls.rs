//! Calls through the adaptive throttle: the async call counts what the
//! backend answered and passes errors through unchanged; a shed request
//! never runs; a throttle without a seed draws from the OS and still admits
//! everything until the backend rejects.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{AdaptiveThrottle, AdaptiveThrottleConfig, ManualClock, ThrottleError};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("these futures never wait"),
    }
}

fn throttle(seed: u64) -> AdaptiveThrottle<ManualClock> {
    let config = AdaptiveThrottleConfig::builder()
        .k(1.0)
        .window(Duration::from_secs(60))
        .seed(seed)
        .build()
        .unwrap();
    AdaptiveThrottle::new(config, ManualClock::new())
}

#[test]
fn an_async_call_counts_the_request_and_what_the_backend_accepted() {
    let throttle = throttle(1);
    let ok = block_on(throttle.call_async(|| async { Ok::<_, &str>(200) }, Result::is_ok));
    assert_eq!(ok, Ok(200));
    let failed = block_on(throttle.call_async(|| async { Err::<u16, _>("503") }, Result::is_ok));
    assert_eq!(failed, Err(ThrottleError::Inner("503")));
    let stats = throttle.stats();
    assert_eq!((stats.requests, stats.accepts), (2, 1));
}

#[test]
fn a_shed_async_call_never_runs() {
    let throttle = throttle(7);
    let mut ran = 0;
    let mut shed = 0;
    for _ in 0..50 {
        let outcome = block_on(throttle.call_async(
            || {
                ran += 1;
                async { Err::<(), _>("overloaded") }
            },
            |_| false,
        ));
        match outcome {
            Err(ThrottleError::Throttled(t)) => {
                assert!(t.probability > 0.0);
                shed += 1;
            }
            other => assert_eq!(other, Err(ThrottleError::Inner("overloaded"))),
        }
    }
    assert!(shed > 0, "a backend that rejects everything gets shed");
    assert_eq!(ran + shed, 50);
    assert_eq!(throttle.stats().requests, 50, "shed requests count too");
}

#[test]
fn a_throttle_without_a_seed_admits_everything_until_the_backend_rejects() {
    let config = AdaptiveThrottleConfig::builder().build().unwrap();
    assert_eq!(config.seed(), None);
    let throttle = AdaptiveThrottle::new(config, ManualClock::new());
    for _ in 0..100 {
        assert!(throttle.try_admit().is_ok());
        throttle.record(true);
    }
    assert_eq!(throttle.stats().probability, 0.0);
}
