//! The limiter's own tests.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::error::ConfigErrorKind;
use crate::rules::MAX_DURATION;
use crate::time::ManualClock;

fn limiter(rate: u32, per_ms: u64, burst: u32, clock: &ManualClock) -> RateLimiter<ManualClock> {
    let config = RateLimiterConfig::builder()
        .rate(rate)
        .per(Duration::from_millis(per_ms))
        .burst(burst)
        .build()
        .unwrap();
    RateLimiter::new(config, clock.clone())
}

fn wait(r: Result<(), RateLimitError>) -> Duration {
    match r {
        Err(RateLimitError::Limited(l)) => l.retry_after,
        other => panic!("expected a wait, got {other:?}"),
    }
}

#[test]
fn the_burst_then_one_cell_per_interval() {
    let clock = ManualClock::new();
    let l = limiter(10, 1_000, 3, &clock);
    for _ in 0..3 {
        l.try_acquire().unwrap();
    }
    assert_eq!(wait(l.try_acquire()), Duration::from_millis(100));
    clock.advance(Duration::from_millis(99));
    assert_eq!(wait(l.try_acquire()), Duration::from_millis(1));
    clock.advance(Duration::from_millis(1));
    l.try_acquire().unwrap();
    assert_eq!(wait(l.try_acquire_n(2)), Duration::from_millis(200));
}

#[test]
fn the_wait_is_exact_for_n_cells() {
    let clock = ManualClock::new();
    let l = limiter(4, 1_000, 4, &clock);
    l.try_acquire_n(4).unwrap();
    let d = wait(l.try_acquire_n(3));
    assert_eq!(d, Duration::from_millis(750));
    clock.advance(d - Duration::from_nanos(1));
    assert_eq!(wait(l.try_acquire_n(3)), Duration::from_nanos(1));
    clock.advance(Duration::from_nanos(1));
    l.try_acquire_n(3).unwrap();
}

#[test]
fn more_than_the_burst_is_an_error_at_once() {
    let clock = ManualClock::new();
    let l = limiter(1, 1_000, 2, &clock);
    let e = ExceedsBurst { requested: 3, burst: 2 };
    assert_eq!(l.try_acquire_n(3), Err(RateLimitError::ExceedsBurst(e)));
    assert_eq!(l.acquire(3, &clock), Err(e));
    assert!(clock.sleeps().is_empty());
    assert_eq!(l.try_acquire_n(0), Ok(()));
    assert_eq!(
        l.try_acquire_n(u32::MAX).unwrap_err().to_string(),
        format!(
            "{} cells requested at once, but the burst is 2: they can never be granted",
            u32::MAX
        )
    );
}

#[test]
fn blocking_and_async_acquire_sleep_exactly() {
    let clock = ManualClock::new();
    let l = limiter(2, 1_000, 1, &clock);
    for _ in 0..3 {
        l.acquire(1, &clock).unwrap();
    }
    assert_eq!(clock.sleeps(), vec![Duration::from_millis(500); 2]);
    let mut f = pin!(l.acquire_async(1, &clock));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(clock.sleeps().len(), 3);
}

#[test]
fn a_burst_that_takes_longer_than_the_clock_to_refill_is_refused() {
    let huge = RateLimiterConfig::builder().rate(1).per(MAX_DURATION).burst(2).build();
    assert_eq!(huge.unwrap_err().kind(), ConfigErrorKind::TooLarge);
    let ok = RateLimiterConfig::builder()
        .rate(1)
        .per(MAX_DURATION)
        .burst(1)
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let l = RateLimiter::new(ok, clock.clone());
    l.try_acquire().unwrap();
    assert_eq!(wait(l.try_acquire()), MAX_DURATION);
    let zero = RateLimiterConfig::builder().per(Duration::ZERO).build().unwrap_err();
    assert_eq!((zero.parameter(), zero.kind()), ("per", ConfigErrorKind::TooSmall));
}

#[test]
fn eight_threads_take_exactly_the_burst_then_the_rate() {
    const THREADS: usize = 8;
    let clock = ManualClock::new();
    let l = Arc::new(limiter(1_000, 1_000, 50, &clock));
    let granted = Arc::new(AtomicU32::new(0));
    let barrier = Arc::new(Barrier::new(THREADS));
    let run = |steps: u32| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (l, granted, barrier, clock) = (l.clone(), granted.clone(), barrier.clone(), clock.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..2_000u32 {
                        if steps > 0 && i % 100 == 0 {
                            clock.advance(Duration::from_millis(1));
                        }
                        if l.try_acquire().is_ok() {
                            granted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
    };
    run(0);
    assert_eq!(
        granted.load(Ordering::Relaxed),
        50,
        "exactly the burst with the clock still"
    );
    run(1);
    // The clock moved 8 × 20 ms: at most 160 more cells (one per ms).
    let more = granted.load(Ordering::Relaxed) - 50;
    assert!(more <= 160 && more > 0, "{more}");
}

proptest! {
    /// Over any run of requests at non-decreasing times, the cells granted
    /// from the start to time t never exceed burst + t / T.
    #[test]
    fn never_more_than_burst_plus_rate(rate in 1u32..1_000, per_ms in 1u64..10_000, burst in 1u32..100,
                                       steps in prop::collection::vec((0u64..50_000_000, 1u32..10), 1..200)) {
        let clock = ManualClock::new();
        let l = limiter(rate, per_ms, burst, &clock);
        let t = l.config().interval_ns() as u128;
        let mut granted = 0u128;
        for (advance_ns, n) in steps {
            clock.advance(Duration::from_nanos(advance_ns));
            match l.try_acquire_n(n) {
                Ok(()) => granted += u128::from(n),
                Err(RateLimitError::Limited(w)) => {
                    prop_assert!(w.retry_after > Duration::ZERO);
                    prop_assert!(w.retry_after.as_nanos() <= t * u128::from(burst));
                }
                Err(RateLimitError::ExceedsBurst(e)) => prop_assert!(n > burst && e.burst == burst),
            }
            let elapsed = clock.now().as_nanos();
            prop_assert!(granted <= u128::from(burst) + elapsed / t, "{granted} cells by {elapsed} ns");
        }
    }
}

/// The GCRA rule written plainly in u128: (answer, next TAT).
fn model(tat: u128, now: u128, t: u128, burst: u128, n: u128) -> (Result<(), u128>, u128) {
    let next = tat.max(now) + t * n;
    let limit = now + t * burst;
    if next > limit {
        (Err(next - limit), tat)
    } else {
        (Ok(()), next.min(u128::from(u64::MAX)))
    }
}

proptest! {
    /// Every answer — one cell or many, admitted or with its exact wait —
    /// is the plain rule's.
    #[test]
    fn answers_match_the_plain_rule(rate in 1u32..1_000, per_ms in 1u64..5_000, burst in 1u32..20,
                                    steps in prop::collection::vec((0u64..20_000_000, 0u32..25), 1..200)) {
        let clock = ManualClock::new();
        let l = limiter(rate, per_ms, burst, &clock);
        let t = u128::from(l.config().interval_ns());
        let mut tat = 0u128;
        for (advance_ns, n) in steps {
            clock.advance(Duration::from_nanos(advance_ns));
            let now = clock.now().as_nanos();
            let got = if n == 1 { l.try_acquire() } else { l.try_acquire_n(n) };
            if n == 0 || n > burst {
                prop_assert!(n == 0 && got.is_ok() || matches!(got, Err(RateLimitError::ExceedsBurst(_))));
                continue;
            }
            let (want, next) = model(tat, now, t, u128::from(burst), u128::from(n));
            tat = next;
            match (got, want) {
                (Ok(()), Ok(())) => {}
                (Err(RateLimitError::Limited(w)), Err(wait)) => prop_assert_eq!(w.retry_after.as_nanos(), wait),
                (got, want) => prop_assert!(false, "got {:?}, want {:?}", got, want),
            }
        }
    }
}
