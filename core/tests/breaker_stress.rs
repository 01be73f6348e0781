//! Many threads on one breaker: no lost failure counts, and never more
//! than `half_open_max_calls` trials in flight at once.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ManualClock};

const THREADS: u32 = 8;
const CALLS: u32 = 20_000;

#[test]
fn concurrent_failures_are_all_counted() {
    let config = BreakerConfig::builder().failure_threshold(u32::MAX).build().unwrap();
    let breaker = Arc::new(CircuitBreaker::new(config, ManualClock::new()));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let b = Arc::clone(&breaker);
            thread::spawn(move || {
                for _ in 0..CALLS {
                    let _ = b.call(|| Err::<(), _>("boom"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(breaker.failure_count(), THREADS * CALLS);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn half_open_trials_never_exceed_the_limit() {
    for limit in [1u32, 3] {
        let clock = ManualClock::new();
        let config = BreakerConfig::builder()
            .failure_threshold(1)
            .recovery_timeout(Duration::from_millis(1))
            .half_open_max_calls(limit)
            .build()
            .unwrap();
        let breaker = Arc::new(CircuitBreaker::new(config, clock.clone()));
        let in_flight = Arc::new(AtomicU32::new(0));
        let max_seen = Arc::new(AtomicU32::new(0));
        let trials = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (b, clock) = (Arc::clone(&breaker), clock.clone());
                let (in_flight, max_seen, trials) =
                    (Arc::clone(&in_flight), Arc::clone(&max_seen), Arc::clone(&trials));
                thread::spawn(move || {
                    for i in 0..CALLS {
                        // Time keeps moving so the breaker keeps re-entering half-open.
                        clock.advance(Duration::from_micros(500));
                        let Ok(permit) = b.try_acquire() else { continue };
                        if !permit.is_trial() {
                            // Closed: fail to re-open the breaker.
                            permit.failure();
                            continue;
                        }
                        trials.fetch_add(1, Ordering::Relaxed);
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        max_seen.fetch_max(now, Ordering::SeqCst);
                        thread::yield_now();
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        match (t + i) % 3 {
                            0 => drop(permit.success()),
                            1 => drop(permit.failure()),
                            _ => permit.release(),
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(trials.load(Ordering::Relaxed) > 100, "the test must exercise half-open");
        let seen = max_seen.load(Ordering::SeqCst);
        assert!(seen <= limit, "{seen} trials at once with limit {limit}");
    }
}

/// Callers that report every token twice on purpose (and some tokens of
/// another breaker) still never see more than `half_open_max_calls` trials
/// at once, and every misuse is refused.
#[test]
fn double_reports_never_free_extra_trial_slots() {
    let limit = 2u32;
    let clock = ManualClock::new();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_millis(1))
        .half_open_max_calls(limit)
        .build()
        .unwrap();
    let breaker = Arc::new(CircuitBreaker::new(config, clock.clone()));
    let stranger = Arc::new(CircuitBreaker::new(config, clock.clone()));
    let in_flight = Arc::new(AtomicU32::new(0));
    let max_seen = Arc::new(AtomicU32::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let admitted = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (b, s, clock) = (Arc::clone(&breaker), Arc::clone(&stranger), clock.clone());
            let (in_flight, max_seen) = (Arc::clone(&in_flight), Arc::clone(&max_seen));
            let (refused, admitted) = (Arc::clone(&refused), Arc::clone(&admitted));
            thread::spawn(move || {
                for i in 0..CALLS / 4 {
                    clock.advance(Duration::from_micros(500));
                    let Ok(token) = b.acquire_token() else { continue };
                    admitted.fetch_add(1, Ordering::Relaxed);
                    if token.is_trial() {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        max_seen.fetch_max(now, Ordering::SeqCst);
                        thread::yield_now();
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                    }
                    let first = match (t + i) % 3 {
                        0 => b.record_success(token).map(drop),
                        1 => b.record_failure(token).map(drop),
                        _ => b.release(token),
                    };
                    assert!(first.is_ok());
                    // The bug under test: reporting again must change nothing.
                    if b.release(token).is_err() {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    if b.record_success(token).is_err() {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Ok(foreign) = s.acquire_token() {
                        assert!(b.record_success(foreign).is_err());
                        let _ = s.release(foreign);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let seen = max_seen.load(Ordering::SeqCst);
    assert!(seen <= limit, "{seen} trials at once with limit {limit}");
    assert!(admitted.load(Ordering::Relaxed) > 100);
    assert_eq!(refused.load(Ordering::Relaxed), 2 * admitted.load(Ordering::Relaxed));
    assert_eq!(breaker.tokens_outstanding(), 0, "every token came back exactly once");
}
