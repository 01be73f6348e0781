//! Waiting for rate-limiter cells with the async acquire: it sleeps the
//! exact wait the limiter names, and returns at once — never hangs — when
//! more cells are asked for than the burst holds.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{ExceedsBurst, ManualClock, RateLimiter, RateLimiterConfig};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a wait on a ManualClock must not pend"),
    }
}

fn limiter(clock: &ManualClock) -> RateLimiter<ManualClock> {
    let config = RateLimiterConfig::builder()
        .rate(10)
        .per(Duration::from_secs(1))
        .burst(2)
        .build()
        .unwrap();
    RateLimiter::new(config, clock.clone())
}

#[test]
fn an_async_acquire_sleeps_until_its_cells_conform() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock);
    block_on(limiter.acquire_async(2, &clock)).unwrap();
    assert!(clock.sleeps().is_empty(), "the burst was free");
    block_on(limiter.acquire_async(2, &clock)).unwrap();
    assert_eq!(clock.sleeps(), [Duration::from_millis(200)]);
}

#[test]
fn an_async_acquire_above_the_burst_fails_at_once() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock);
    let refused: ExceedsBurst = block_on(limiter.acquire_async(3, &clock)).unwrap_err();
    assert_eq!((refused.requested, refused.burst), (3, 2));
    assert!(clock.sleeps().is_empty());
    assert!(limiter.try_acquire_n(2).is_ok(), "the refusal took nothing");
}
