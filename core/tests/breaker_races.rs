//! Breaker decisions that race with another change of state, made
//! deterministic: the test acts at the moment the breaker reads its clock
//! (a reset, a clock stepping back, a second failure waiting on the lock).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread;
use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, Clock, RejectReason, Transition};

/// A clock whose every reading runs a closure: the test's hook.
#[derive(Clone)]
struct HookClock(Arc<dyn Fn() -> Duration + Send + Sync>);

impl Clock for HookClock {
    fn now(&self) -> Duration {
        (self.0)()
    }
}

fn config(threshold: u32) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(threshold)
        .recovery_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

const OPEN: Transition = Transition {
    from: CircuitState::Closed,
    to: CircuitState::Open,
};

#[test]
fn a_reset_landing_while_an_open_breaker_admits_lets_the_call_through_as_closed() {
    let now = Arc::new(AtomicU64::new(0));
    let reset_on_next_read = Arc::new(AtomicBool::new(false));
    let breaker_slot: Arc<OnceLock<Weak<CircuitBreaker<HookClock>>>> = Arc::new(OnceLock::new());
    let clock = HookClock(Arc::new({
        let (now, armed, slot) = (
            Arc::clone(&now),
            Arc::clone(&reset_on_next_read),
            Arc::clone(&breaker_slot),
        );
        move || {
            if armed.swap(false, Ordering::SeqCst) {
                if let Some(breaker) = slot.get().and_then(Weak::upgrade) {
                    breaker.reset();
                }
            }
            Duration::from_secs(now.load(Ordering::SeqCst))
        }
    }));
    let breaker = Arc::new(CircuitBreaker::new(config(1), clock));
    breaker_slot.set(Arc::downgrade(&breaker)).unwrap();

    assert_eq!(breaker.record_failure(breaker.acquire_token().unwrap()), Ok(Some(OPEN)));
    now.store(10, Ordering::SeqCst);
    reset_on_next_read.store(true, Ordering::SeqCst);
    let permit = breaker.try_acquire().expect("after the reset the breaker is closed");
    assert!(!permit.is_trial(), "a closed breaker admits a normal call, not a trial");
    assert_eq!(permit.transition(), None);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_clock_stepping_back_between_readings_still_rejects_with_the_time_left() {
    // Readings: the failure stamps 0 s; admission first sees 10 s (recovery
    // due), then, under the breaker's lock, 4 s.
    let readings = Arc::new(Mutex::new(vec![4, 10, 0]));
    let clock = HookClock(Arc::new({
        let readings = Arc::clone(&readings);
        move || {
            let mut left = readings.lock().unwrap();
            let secs = if left.len() > 1 { left.pop().unwrap() } else { left[0] };
            Duration::from_secs(secs)
        }
    }));
    let breaker = CircuitBreaker::new(config(1), clock);
    assert_eq!(breaker.record_failure(breaker.acquire_token().unwrap()), Ok(Some(OPEN)));
    assert_eq!(
        breaker.acquire_token().map_err(|r| (r.reason, r.retry_after)),
        Err((RejectReason::Open, Duration::from_secs(6)))
    );
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn two_failures_racing_past_the_threshold_open_the_breaker_once() {
    // The first failure's opening reads the clock under the breaker's lock;
    // the hook holds it there until the second failure has been counted.
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let hold_next_read = Arc::new(AtomicBool::new(false));
    let clock = HookClock(Arc::new({
        let hold = Arc::clone(&hold_next_read);
        let entered_tx = Mutex::new(entered_tx);
        move || {
            if hold.swap(false, Ordering::SeqCst) {
                entered_tx.lock().unwrap().send(()).unwrap();
                release_rx.lock().unwrap().recv().unwrap();
            }
            Duration::ZERO
        }
    }));
    let transitions = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&transitions);
    let breaker = Arc::new(CircuitBreaker::new(config(1), clock).with_listener(move |t| sink.lock().unwrap().push(t)));
    let (first, second) = (breaker.acquire_token().unwrap(), breaker.acquire_token().unwrap());

    hold_next_read.store(true, Ordering::SeqCst);
    let opener = thread::spawn({
        let breaker = Arc::clone(&breaker);
        move || breaker.record_failure(first)
    });
    entered_rx.recv().unwrap();
    let latecomer = thread::spawn({
        let breaker = Arc::clone(&breaker);
        move || breaker.record_failure(second)
    });
    while breaker.failure_count() < 2 {
        thread::yield_now();
    }
    release_tx.send(()).unwrap();

    assert_eq!(opener.join().unwrap(), Ok(Some(OPEN)));
    assert_eq!(latecomer.join().unwrap(), Ok(None), "the breaker was already open");
    assert_eq!(*transitions.lock().unwrap(), [OPEN]);
    assert_eq!(breaker.state(), CircuitState::Open);
}
