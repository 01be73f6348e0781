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
