//! The budget's own tests, with access to the epoch each decision used.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::*;
use crate::rng::JitterRng;
use crate::time::ManualClock;

fn budget(ttl_ms: u64, floor: u32, ratio: f64, clock: &ManualClock) -> RetryBudget {
    let config = RetryBudgetConfig::builder()
        .ttl(Duration::from_millis(ttl_ms))
        .min_retries_per_sec(floor)
        .retry_ratio(ratio)
        .build()
        .unwrap();
    RetryBudget::new(config, clock.clone())
}

#[test]
fn the_floor_is_min_retries_per_sec_times_ttl() {
    let clock = ManualClock::new();
    let b = budget(2_000, 3, 0.2, &clock);
    assert_eq!(b.available(), 6);
    assert_eq!((0..7).filter(|_| b.try_withdraw()).count(), 6);
    // Retries expire after ttl, so the floor comes back.
    clock.advance(Duration::from_millis(1_999));
    assert_eq!(b.available(), 0);
    clock.advance(Duration::from_millis(1));
    assert_eq!(b.available(), 6);
}

#[test]
fn deposits_earn_the_ratio_and_expire_a_tenth_at_a_time() {
    let clock = ManualClock::new();
    let b = budget(1_000, 0, 0.25, &clock);
    for _ in 0..8 {
        b.deposit();
    }
    assert_eq!(b.available(), 2);
    assert!(b.try_withdraw());
    clock.set(Duration::from_millis(150));
    for _ in 0..4 {
        b.deposit();
    }
    assert_eq!(b.available(), 2);
    clock.set(Duration::from_millis(999));
    assert_eq!(b.available(), 2);
    // At 1 s the tenth [0, 100 ms) leaves the window with its eight
    // deposits and its retry: four deposits remain, worth one retry.
    clock.set(Duration::from_millis(1_000));
    assert_eq!(b.available(), 1);
    clock.set(Duration::from_millis(1_100));
    assert_eq!(b.available(), 0);
}

#[test]
fn budget_time_never_moves_back() {
    let clock = ManualClock::new();
    let b = budget(1_000, 0, 1.0, &clock);
    b.deposit();
    clock.set(Duration::from_millis(2_000));
    b.deposit();
    assert!(b.try_withdraw());
    // A clock that jumps back still sees the newest tenth's retry.
    clock.set(Duration::ZERO);
    assert!(!b.try_withdraw());
    assert_eq!(b.available(), 0);
}

#[test]
fn huge_clock_readings_saturate() {
    let clock = ManualClock::new();
    let b = budget(60_000, u32::MAX, 1.0, &clock);
    clock.set(Duration::MAX);
    b.deposit();
    assert!(b.try_withdraw());
    assert!(b.available() > 1_000_000);
}

/// A granted withdrawal's tenth and its count in that tenth.
type Granted = Option<(u64, u64)>;

/// One thread's record of what it did.
#[derive(Default)]
struct Log {
    /// (epoch, kept, ticket taken before the call)
    deposits: Vec<(u64, bool, u64)>,
    /// (epoch read, granted (tenth, count), epoch of the clock after, ticket taken after the call)
    withdrawals: Vec<(u64, Granted, u64, u64)>,
}

/// Eight threads deposit, withdraw and move the shared clock forward. Every
/// granted retry must fit the window it was granted in: the retries of the
/// tenths before plus its rank in its own tenth, at most the floor plus the
/// ratio of every deposit in the window that did not certainly start after
/// it finished.
#[test]
fn eight_threads_on_a_moving_clock_never_overdraw() {
    const THREADS: usize = 8;
    const OPS: usize = 6_000;
    let clock = ManualClock::new();
    let b = Arc::new(budget(1_000, 5, 0.25, &clock));
    let ticket = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (b, clock, ticket, start) = (b.clone(), clock.clone(), ticket.clone(), start.clone());
            std::thread::spawn(move || {
                let rng = JitterRng::from_seed(t as u64);
                let mut log = Log::default();
                start.wait();
                for _ in 0..OPS {
                    let now = clock.now();
                    let e = b.epochs.of(now);
                    match rng.next_u64() % 100 {
                        // The clock moves 2 ms about every 33 operations: ~50 tenths in all.
                        0..=2 => clock.advance(Duration::from_millis(2)),
                        3..=39 => {
                            let before = ticket.fetch_add(1, Ordering::SeqCst);
                            let kept = b.deposit_at(now);
                            log.deposits.push((e, kept, before));
                        }
                        _ => {
                            let granted = b.withdraw_at(now);
                            let after = ticket.fetch_add(1, Ordering::SeqCst);
                            log.withdrawals.push((e, granted, b.epochs.of(clock.now()), after));
                        }
                    }
                }
                log
            })
        })
        .collect();
    let logs: Vec<Log> = workers.into_iter().map(|w| w.join().unwrap()).collect();

    // Deposit tickets by tenth, sorted, for counting the ones a retry may have seen.
    let mut deposits: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    for &(e, kept, before) in logs.iter().flat_map(|l| l.deposits.iter()) {
        if kept {
            deposits.entry(e).or_default().push(before);
        }
    }
    deposits.values_mut().for_each(|v| v.sort_unstable());
    let granted: Vec<_> = logs
        .iter()
        .flat_map(|l| l.withdrawals.iter())
        .filter_map(|&(read, g, after_epoch, after)| g.map(|(e, c)| (read, e, c, after_epoch, after)))
        .collect();
    let denied = logs
        .iter()
        .flat_map(|l| l.withdrawals.iter())
        .filter(|w| w.1.is_none())
        .count();
    assert!(
        granted.len() > 500,
        "the test must exercise the budget: {}",
        granted.len()
    );
    assert!(denied > 500, "the test must hit the limit: {denied}");
    assert!(
        clock.now() > Duration::from_secs(2),
        "the clock must cross many windows"
    );

    // Counts per tenth are exactly 1..=n: one linear order of withdrawals.
    let mut per_tenth: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    for &(read, e, c, after_epoch, _) in &granted {
        assert!(
            e >= read && e <= after_epoch,
            "tenth {e} outside [{read}, {after_epoch}]"
        );
        per_tenth.entry(e).or_default().push(c);
    }
    for counts in per_tenth.values_mut() {
        counts.sort_unstable();
        assert!(counts.iter().copied().eq(1..=counts.len() as u64), "{counts:?}");
    }
    let n = |k: u64| per_tenth.get(&k).map_or(0, |v| v.len() as u64);
    for &(_, e, c, _, after) in &granted {
        let oldest = e.saturating_sub(9);
        let spent: u64 = (oldest..e).map(n).sum::<u64>() + c;
        let seen: usize = (oldest..=e)
            .filter_map(|k| deposits.get(&k))
            .map(|tickets| tickets.partition_point(|&before| before < after))
            .sum();
        let allowed = (b.reserve + b.per_deposit * seen as u128) / RETRY;
        assert!(u128::from(spent) <= allowed, "tenth {e}: {spent} retries > {allowed}");
    }
}

#[test]
fn a_tenth_whose_retry_count_is_full_refuses_more_whatever_the_floor() {
    // A floor of 60 million retries per minute allows more than a tenth's
    // 24-bit count can hold; reaching it takes 16.7 million retries, so the
    // head is set as they would have left it.
    let clock = ManualClock::new();
    let b = budget(60_000, 1_000_000, 0.2, &clock);
    assert_eq!(b.withdraw_at(Duration::ZERO), Some((0, 1)));
    b.head.store(pack(0, COUNT_MAX), Ordering::Release);
    assert_eq!(b.withdraw_at(Duration::ZERO), None);
    assert_eq!(b.available(), 0);
    assert_eq!(
        unpack(b.head.load(Ordering::Acquire)),
        (0, COUNT_MAX),
        "a refusal changes nothing"
    );
    // The next tenth starts counting again.
    assert_eq!(b.withdraw_at(Duration::from_secs(6)), Some((1, 1)));
}
