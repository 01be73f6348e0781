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
