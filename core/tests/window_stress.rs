//! Many threads on one failure-rate window while virtual time moves: every
//! call is counted in the bucket of its clock reading — never lost, never
//! counted twice — and whole buckets expire.

use std::cell::RefCell;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, Clock, ManualClock};

const THREADS: usize = 8;
const BUCKET: Duration = Duration::from_millis(1);
const BUCKETS: u32 = 10;

thread_local! {
    /// Every reading this thread's breaker calls took, in order.
    static READINGS: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
}

/// A clock that tells each thread which readings its calls used.
#[derive(Clone)]
struct LoggingClock(ManualClock);

impl Clock for LoggingClock {
    fn now(&self) -> Duration {
        let t = self.0.now();
        READINGS.with(|r| r.borrow_mut().push(t));
        t
    }
}

fn never_tripping() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_rate(1.0, u32::MAX)
        .time_window(BUCKET * BUCKETS, BUCKETS)
        .build()
        .unwrap()
}

fn is_failure(thread: usize, i: usize) -> bool {
    (thread + i).is_multiple_of(3)
}

/// Calls whose reading falls in the window that ends at `end`.
fn expected(calls: &[(Duration, bool)], end: Duration) -> (u64, u64) {
    let epoch = |t: Duration| t.as_nanos() / BUCKET.as_nanos();
    let last = epoch(end);
    let live: Vec<_> = calls
        .iter()
        .filter(|(t, _)| epoch(*t) + u128::from(BUCKETS) > last)
        .collect();
    (live.len() as u64, live.iter().filter(|(_, f)| *f).count() as u64)
}

fn call(breaker: &CircuitBreaker<LoggingClock>, failure: bool) -> Duration {
    READINGS.with(|r| r.borrow_mut().clear());
    let _ = breaker.call(|| if failure { Err(()) } else { Ok(()) });
    // The first reading of a call is the one its outcome was counted at.
    READINGS.with(|r| r.borrow()[0])
}

#[test]
fn threads_racing_into_each_new_bucket_lose_no_call() {
    let clock = ManualClock::new();
    let breaker = Arc::new(CircuitBreaker::new(never_tripping(), LoggingClock(clock.clone())));
    let barrier = Arc::new(Barrier::new(THREADS));
    let phases = 25; // two and a half windows: every bucket is reused
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (breaker, barrier, clock) = (Arc::clone(&breaker), Arc::clone(&barrier), clock.clone());
            thread::spawn(move || {
                let mut calls = Vec::new();
                for phase in 0..phases {
                    for i in 0..200 {
                        let failure = is_failure(t, i + phase);
                        calls.push((call(&breaker, failure), failure));
                    }
                    // Everyone then races into the next bucket at once.
                    if barrier.wait().is_leader() && phase + 1 < phases {
                        clock.advance(BUCKET);
                    }
                    barrier.wait();
                }
                calls
            })
        })
        .collect();
    let calls: Vec<_> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let m = breaker.metrics();
    assert_eq!((m.window_calls, m.window_failures), expected(&calls, clock.now()));
    assert_eq!(
        m.window_calls,
        10 * 200 * THREADS as u64,
        "the last ten phases, every call"
    );
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_clock_moving_under_the_callers_loses_no_call() {
    let clock = ManualClock::new();
    let breaker = Arc::new(CircuitBreaker::new(never_tripping(), LoggingClock(clock.clone())));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (breaker, clock) = (Arc::clone(&breaker), clock.clone());
            thread::spawn(move || {
                let mut calls = Vec::new();
                for i in 0..5_000 {
                    if t == 0 && i % 50 == 0 {
                        // One thread moves time on while the others count.
                        clock.advance(BUCKET / 4);
                    }
                    let failure = is_failure(t, i);
                    calls.push((call(&breaker, failure), failure));
                }
                calls
            })
        })
        .collect();
    let calls: Vec<_> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let m = breaker.metrics();
    let (want_calls, want_failures) = expected(&calls, clock.now());
    assert!(
        want_calls > 0 && want_calls < calls.len() as u64,
        "the run must outlast the window"
    );
    assert_eq!((m.window_calls, m.window_failures), (want_calls, want_failures));
}
