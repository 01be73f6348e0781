//! The jitter generator's public behaviour, and jitter over an empty range.

use std::time::Duration;

use resilience_core::{BackoffStrategy, Jitter, JitterRng, RetryPolicy};

#[test]
fn a_clone_continues_the_sequence_from_where_the_original_stands() {
    let original = JitterRng::from_seed(5);
    let _ = original.next_u64();
    let clone = original.clone();
    let ahead: Vec<u64> = (0..4).map(|_| original.next_u64()).collect();
    let from_clone: Vec<u64> = (0..4).map(|_| clone.next_u64()).collect();
    assert_eq!(ahead, from_clone);
}

#[test]
fn generators_seeded_from_the_os_differ() {
    // Two equal 64-bit OS seeds are a 2^-64 event: equality means the
    // entropy source was not used.
    let a = JitterRng::from_entropy();
    let b = JitterRng::from_entropy();
    assert_ne!(a.next_u64(), b.next_u64());
}

#[test]
fn an_unseeded_policy_draws_from_its_threads_own_generator() {
    let policy = RetryPolicy::default();
    assert!(format!("{policy:?}").contains("rng: JitterSource::PerThread"));
    // Proportional jitter on a 1 s delay: 750..1250 ms, and varying.
    let draws = |p: &RetryPolicy| -> Vec<Duration> { (0..16).map(|_| p.calculate_delay(1)).collect() };
    let here = draws(&policy);
    assert!(here
        .iter()
        .all(|d| (Duration::from_millis(750)..Duration::from_millis(1250)).contains(d)));
    assert!(here.windows(2).any(|w| w[0] != w[1]), "{here:?}");
    // Another thread has its own OS-seeded generator: the same policy
    // draws a different sequence there (equal would be a 2^-64 event per
    // draw).
    let there = std::thread::scope(|s| s.spawn(|| draws(&policy)).join().unwrap());
    assert_ne!(here, there);
    // A seeded policy keeps its one sequence across threads.
    let seeded = RetryPolicy::builder().seed(11).build().unwrap();
    let first = std::thread::scope(|s| s.spawn(|| draws(&seeded)).join().unwrap());
    let again = RetryPolicy::builder().seed(11).build().unwrap();
    assert_eq!(first, draws(&again));
}

#[test]
fn with_a_zero_base_every_jitter_mode_waits_zero() {
    for jitter in Jitter::ALL {
        for backoff in BackoffStrategy::ALL {
            let policy = RetryPolicy::builder()
                .base_delay(Duration::ZERO)
                .max_delay(Duration::ZERO)
                .backoff(backoff)
                .jitter(jitter)
                .seed(3)
                .build()
                .unwrap();
            for attempt in 1..=4 {
                assert_eq!(
                    policy.calculate_delay(attempt),
                    Duration::ZERO,
                    "{jitter} {backoff} {attempt}"
                );
            }
            let mut state = policy.start();
            assert!(matches!(
                state.on_failure(&policy, true),
                resilience_core::RetryDecision::Retry {
                    delay: Duration::ZERO,
                    ..
                }
            ));
        }
    }
}
