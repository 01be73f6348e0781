//! The throttle's own tests, with access to its buckets.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::*;
use crate::time::ManualClock;

fn throttle(k: f64, window_s: u64, seed: u64, clock: &ManualClock) -> AdaptiveThrottle<ManualClock> {
    let config = AdaptiveThrottleConfig::builder()
        .k(k)
        .window(Duration::from_secs(window_s))
        .seed(seed)
        .build()
        .unwrap();
    AdaptiveThrottle::new(config, clock.clone())
}

#[test]
fn the_probability_follows_the_sre_formula() {
    let clock = ManualClock::new();
    let t = throttle(2.0, 120, 1, &clock);
    assert_eq!(t.stats().probability, 0.0);
    for _ in 0..2 {
        assert!(t.try_admit().is_ok(), "no history, no rejection");
        t.record(true);
    }
    // Seven more requests, none accepted (shed or not, each counts).
    for _ in 0..7 {
        if t.try_admit().is_ok() {
            t.record(false);
        }
    }
    let s = t.stats();
    assert_eq!((s.requests, s.accepts), (9, 2));
    assert_eq!(s.probability, 0.5); // (9 - 2·2) / (9 + 1)
}

#[test]
fn history_leaves_the_window_a_bucket_at_a_time() {
    let clock = ManualClock::new();
    let t = throttle(2.0, 10, 3, &clock);
    for _ in 0..10 {
        let _ = t.try_admit();
    }
    clock.set(Duration::from_millis(9_999));
    assert_eq!(t.stats().requests, 10);
    let shed = t.try_admit().unwrap_err();
    // (10 - 0) / 11; the next bucket starts at 10 s.
    assert_eq!(shed.probability, 10.0 / 11.0);
    assert_eq!(shed.retry_after, Duration::from_millis(1));
    clock.set(Duration::from_secs(10));
    assert_eq!(t.stats().requests, 1, "the first bucket left the window");
}

#[test]
fn the_same_seed_sheds_the_same_requests() {
    let run = |seed| {
        let clock = ManualClock::new();
        let t = throttle(1.5, 60, seed, &clock);
        (0..200)
            .map(|i| {
                clock.advance(Duration::from_millis(50));
                let admitted = t.try_admit().is_ok();
                if admitted {
                    t.record(i % 3 == 0);
                }
                admitted
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn a_healthy_backend_is_never_throttled() {
    let clock = ManualClock::new();
    let t = throttle(2.0, 120, 5, &clock);
    let ok = t.call(|| Ok::<u32, &str>(1), Result::is_ok);
    assert_eq!(ok, Ok(1));
    for _ in 0..10_000 {
        clock.advance(Duration::from_millis(7));
        assert!(t.call(|| Ok::<_, ()>(()), Result::is_ok).is_ok());
    }
    assert_eq!(t.stats().probability, 0.0);
}

/// Eight threads count requests while moving the clock across many
/// rotations. At the end, the window holds every request read in it (none
/// lost) and nothing else but requests that arrived late into a bucket
/// already counting a newer epoch (none counted twice).
#[test]
fn rotation_under_eight_threads_neither_loses_nor_double_counts() {
    const THREADS: usize = 8;
    for ops in [3_000usize, 5_000, 8_000] {
        let clock = ManualClock::new();
        let t = Arc::new(throttle(2.0, 1, 0, &clock));
        let start = Arc::new(Barrier::new(THREADS));
        let workers: Vec<_> = (0..THREADS)
            .map(|i| {
                let (t, clock, start) = (t.clone(), clock.clone(), start.clone());
                std::thread::spawn(move || {
                    let rng = JitterRng::from_seed(i as u64);
                    let mut log = Vec::with_capacity(ops);
                    start.wait();
                    for _ in 0..ops {
                        if rng.next_u64().is_multiple_of(40) {
                            clock.advance(Duration::from_millis(10));
                        }
                        let read = t.epochs.of(clock.now());
                        t.requests.add(read, Late::CountInNewer);
                        log.push((read, t.epochs.of(clock.now())));
                    }
                    log
                })
            })
            .collect();
        let log: Vec<(u64, u64)> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
        let end = t.epochs.of(clock.now());
        assert!(end > 30, "the clock must cross many windows: {end}");
        let oldest = end - 9;
        let counted = t.requests.sum(oldest, end, None);
        let read_in_window = log.iter().filter(|&&(read, _)| read >= oldest).count() as u64;
        let maybe_late = log
            .iter()
            .filter(|&&(read, after)| read < oldest && after >= oldest)
            .count() as u64;
        assert!(counted >= read_in_window, "lost: {counted} < {read_in_window}");
        assert!(
            counted <= read_in_window + maybe_late,
            "double-counted: {counted} > {read_in_window} + {maybe_late}"
        );
    }
}
