//! The permit ledger under contention: threads claiming places side by
//! side never share one, a token reported by two threads at once is taken
//! exactly once, and a reset racing with reports makes them stale without
//! losing or refusing any.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;

use resilience_core::{BreakerConfig, CircuitBreaker, ManualClock, PermitMisuse};

const THREADS: usize = 4;

fn breaker() -> CircuitBreaker<ManualClock> {
    // Successes only: the breaker stays closed, every token is a normal one.
    CircuitBreaker::new(BreakerConfig::default(), ManualClock::new())
}

#[test]
fn threads_holding_many_tokens_never_get_the_same_one() {
    let breaker = breaker();
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..200 {
                    let held: Vec<_> = (0..64).map(|_| breaker.acquire_token().unwrap()).collect();
                    for token in held {
                        // A token handed to two threads would be refused here once.
                        assert_eq!(breaker.record_success(token), Ok(None));
                    }
                }
            });
        }
    });
    assert_eq!(breaker.tokens_outstanding(), 0);
}

#[test]
fn a_token_reported_by_two_threads_at_once_is_taken_exactly_once() {
    const TOKENS: usize = 20_000;
    let breaker = breaker();
    let tokens: Vec<_> = (0..TOKENS).map(|_| breaker.acquire_token().unwrap()).collect();
    let accepted: Vec<AtomicU32> = (0..TOKENS).map(|_| AtomicU32::new(0)).collect();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for (token, accepted) in tokens.iter().zip(&accepted) {
                    match breaker.record_success(*token) {
                        Ok(None) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        other => assert_eq!(other, Err(PermitMisuse::NotOutstanding)),
                    }
                }
            });
        }
    });
    assert!(accepted.iter().all(|a| a.load(Ordering::Relaxed) == 1));
    assert_eq!(breaker.tokens_outstanding(), 0);
}

#[test]
fn resets_racing_with_reports_never_refuse_or_leak_a_token() {
    let breaker = breaker();
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                breaker.reset();
            }
        });
        let workers: Vec<_> = (0..THREADS - 1)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..20_000 {
                        let token = breaker.acquire_token().unwrap();
                        // Current or stale, a report made once is accepted.
                        assert_eq!(breaker.record_success(token), Ok(None));
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        done.store(true, Ordering::Release);
    });
    assert_eq!(breaker.tokens_outstanding(), 0);
}
