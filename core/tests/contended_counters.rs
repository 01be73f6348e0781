//! Threads updating one lock-free word at once lose no update: a retry
//! budget's deposit bucket and a rate limiter's theoretical arrival time,
//! each hammered by several threads (a compare-and-swap that loses to
//! another thread's must try again, never drop its update).

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use resilience_core::{ManualClock, RateLimitError, RateLimiter, RateLimiterConfig, RetryBudget, RetryBudgetConfig};

const THREADS: u64 = 4;
const OPS: u64 = 50_000;

/// Runs `op` `OPS` times on each of `THREADS` threads.
fn hammer(op: impl Fn() + Send + Sync) {
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..OPS).for_each(|_| op()));
        }
    });
}

#[test]
fn concurrent_deposits_into_one_bucket_are_all_counted() {
    let config = RetryBudgetConfig::builder()
        .min_retries_per_sec(0)
        .retry_ratio(1.0)
        .build()
        .unwrap();
    // The clock stands still: every deposit goes to the same bucket.
    let budget = RetryBudget::new(config, ManualClock::new());
    hammer(|| budget.deposit());
    assert_eq!(budget.available(), THREADS * OPS);
}

/// A limiter one cell per nanosecond with room for every cell asked for
/// here: every acquire conforms and moves the arrival time on.
fn roomy_limiter() -> RateLimiter<ManualClock> {
    let config = RateLimiterConfig::builder()
        .rate(1_000_000_000)
        .per(Duration::from_secs(1))
        .burst(u32::MAX)
        .build()
        .unwrap();
    RateLimiter::new(config, ManualClock::new())
}

/// The limiter's theoretical arrival time: what asking for the whole burst
/// must wait for.
fn arrival_time(limiter: &RateLimiter<ManualClock>) -> Duration {
    match limiter.try_acquire_n(u32::MAX) {
        Err(RateLimitError::Limited(limited)) => limited.retry_after,
        other => panic!("the whole burst cannot conform after other takes: {other:?}"),
    }
}

#[test]
fn concurrent_single_cells_each_move_the_arrival_time() {
    let limiter = Arc::new(roomy_limiter());
    hammer(|| limiter.try_acquire().unwrap());
    assert_eq!(arrival_time(&limiter), Duration::from_nanos(THREADS * OPS));
}

#[test]
fn concurrent_multi_cell_takes_each_move_the_arrival_time() {
    let limiter = Arc::new(roomy_limiter());
    hammer(|| limiter.try_acquire_n(2).unwrap());
    assert_eq!(arrival_time(&limiter), Duration::from_nanos(2 * THREADS * OPS));
}
