//! The injected time sources: the manual clock's controls, the blanket
//! implementations (references, `Arc`, closures) and the system clock.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{AsyncSleeper, Clock, ManualClock, Sleeper, SystemClock, SystemSleeper};

fn now_of(clock: impl Clock) -> Duration {
    clock.now()
}

#[test]
fn a_manual_clock_starts_where_told_and_can_be_set_backwards() {
    let clock = ManualClock::starting_at(Duration::from_secs(10));
    assert_eq!(clock.now(), Duration::from_secs(10));
    clock.set(Duration::from_secs(3));
    assert_eq!(clock.now(), Duration::from_secs(3));
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), Duration::from_nanos(u64::MAX), "advancing saturates");
}

#[test]
fn clearing_sleeps_forgets_them_but_keeps_the_time() {
    let clock = ManualClock::new();
    Sleeper::sleep(&clock, Duration::from_millis(5));
    clock.clear_sleeps();
    assert!(clock.sleeps().is_empty());
    assert_eq!(clock.now(), Duration::from_millis(5));
}

#[test]
fn references_and_arcs_of_a_clock_read_the_same_time() {
    let clock = ManualClock::starting_at(Duration::from_secs(7));
    assert_eq!(now_of(&clock), Duration::from_secs(7));
    let shared: Arc<dyn Clock + Send + Sync> = Arc::new(clock.clone());
    assert_eq!(now_of(Arc::clone(&shared)), Duration::from_secs(7));
    clock.advance(Duration::from_secs(1));
    assert_eq!(now_of(shared), Duration::from_secs(8));
}

#[test]
fn a_closure_is_a_blocking_sleeper() {
    let slept = Mutex::new(Vec::new());
    let sleeper = |d: Duration| slept.lock().unwrap().push(d);
    Sleeper::sleep(&sleeper, Duration::from_millis(3));
    assert_eq!(*slept.lock().unwrap(), vec![Duration::from_millis(3)]);
}

#[test]
fn a_closure_returning_a_future_is_an_async_sleeper() {
    let slept = Mutex::new(Vec::new());
    let sleeper = |d: Duration| {
        slept.lock().unwrap().push(d);
        std::future::ready(())
    };
    let mut sleep = pin!(AsyncSleeper::sleep(&sleeper, Duration::from_millis(4)));
    let ready = sleep.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert_eq!(ready, Poll::Ready(()));
    assert_eq!(*slept.lock().unwrap(), vec![Duration::from_millis(4)]);
}

#[test]
fn the_system_clock_starts_near_zero_and_never_goes_back() {
    for clock in [SystemClock::new(), SystemClock::default()] {
        let first = clock.now();
        let second = clock.now();
        assert!(second >= first);
        // Its origin is its creation: far below a minute, whatever the load.
        assert!(first < Duration::from_secs(60), "{first:?}");
    }
}

#[test]
fn the_system_sleeper_returns_after_a_zero_sleep() {
    let clock = SystemClock::new();
    SystemSleeper.sleep(Duration::ZERO);
    assert!(clock.now() < Duration::from_secs(60));
}
