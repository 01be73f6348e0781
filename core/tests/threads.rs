//! The README's "policies and bulkheads are thread-safe", checked: one
//! seeded policy shared by 8 threads draws exactly the jitter a single
//! thread would, and one bulkhead hammered by 8 threads never admits more
//! than `max_concurrent` holders and ends empty.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use resilience_core::{
    Admission, BackoffStrategy, Bulkhead, BulkheadConfig, BulkheadStats, CancelOutcome, Jitter, RetryPolicy, Slot,
    Ticket,
};

const THREADS: usize = 8;
const DRAWS: usize = 5_000;
const ATTEMPT: i64 = 3;

fn policy(jitter: Jitter) -> RetryPolicy {
    RetryPolicy::builder()
        .backoff(BackoffStrategy::Exponential)
        .base_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(300))
        .jitter(jitter)
        .seed(2024)
        .build()
        .unwrap()
}

/// The documented range of one jittered delay after attempt 3 (raw 400 ms,
/// capped at 300 ms; decorrelated starts from the 100 ms base).
fn bounds(jitter: Jitter) -> (Duration, Duration) {
    let capped = Duration::from_millis(300);
    match jitter {
        Jitter::None => (capped, capped),
        Jitter::Proportional => (capped.mul_f64(0.75), capped.mul_f64(1.25)),
        Jitter::Full => (Duration::ZERO, capped),
        Jitter::Equal => (capped / 2, capped),
        Jitter::Decorrelated => (Duration::from_millis(100), capped),
        other => panic!("no documented range for {other}"),
    }
}

#[test]
fn a_shared_seeded_policy_draws_the_same_multiset_as_one_thread() {
    for jitter in Jitter::ALL {
        let shared = policy(jitter);
        let mut concurrent: Vec<Duration> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| s.spawn(|| (0..DRAWS).map(|_| shared.calculate_delay(ATTEMPT)).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let single = policy(jitter);
        let mut sequential: Vec<Duration> = (0..THREADS * DRAWS).map(|_| single.calculate_delay(ATTEMPT)).collect();

        let (low, high) = bounds(jitter);
        for d in &concurrent {
            assert!(low <= *d && *d <= high, "{jitter}: {d:?} outside {low:?}..={high:?}");
        }
        concurrent.sort_unstable();
        sequential.sort_unstable();
        assert_eq!(
            concurrent, sequential,
            "{jitter}: threads drew other values than one thread"
        );
        if jitter.is_enabled() {
            // Not a constant: the comparison above says something.
            assert_ne!(concurrent.first(), concurrent.last(), "{jitter}");
        }
    }
}

/// Shared bookkeeping of the bulkhead test.
struct Hammer {
    bulkhead: Bulkhead,
    /// Threads holding a slot right now, counted by the test itself.
    holders: AtomicU32,
    most_holders: AtomicU32,
    /// Tickets a release handed a slot to, not yet claimed by their waiter.
    granted: Mutex<HashSet<Ticket>>,
    handovers: AtomicU64,
    withdrawn: AtomicU64,
}

impl Hammer {
    fn hold_then_release(&self, slot: Slot) {
        let now = self.holders.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_holders.fetch_max(now, Ordering::SeqCst);
        let stats = self.bulkhead.stats();
        assert!(stats.active <= MAX_CONCURRENT, "{stats:?}");
        thread::yield_now();
        // Stop counting ourselves before the slot can pass to a waiter.
        self.holders.fetch_sub(1, Ordering::SeqCst);
        if let Some(next) = self.bulkhead.release(slot).expect("released once, by its holder") {
            self.handovers.fetch_add(1, Ordering::Relaxed);
            self.granted.lock().unwrap().insert(next);
        }
    }

    fn claim(&self, ticket: Ticket) -> bool {
        self.granted.lock().unwrap().remove(&ticket)
    }

    /// A queued waiter: polls for its hand-over a while, then gives up,
    /// which either withdraws it or finds the slot already granted.
    fn wait(&self, ticket: Ticket) {
        for _ in 0..50 {
            if self.claim(ticket) {
                return self.hold_then_release(ticket.slot());
            }
            thread::yield_now();
        }
        match self.bulkhead.cancel(ticket).expect("a ticket of this bulkhead") {
            CancelOutcome::Withdrawn => {
                self.withdrawn.fetch_add(1, Ordering::Relaxed);
            }
            CancelOutcome::AlreadyGranted(slot) => {
                // The release may not have recorded the grant yet.
                while !self.claim(ticket) {
                    thread::yield_now();
                }
                self.hold_then_release(slot);
            }
            other => panic!("unknown cancel outcome {other:?}"),
        }
    }
}

const MAX_CONCURRENT: u32 = 2;

#[test]
fn a_bulkhead_hammered_by_threads_never_exceeds_its_slots_and_ends_empty() {
    let config = BulkheadConfig::builder()
        .max_concurrent(MAX_CONCURRENT)
        .max_queue_size(3)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let hammer = Hammer {
        bulkhead: Bulkhead::new(config),
        holders: AtomicU32::new(0),
        most_holders: AtomicU32::new(0),
        granted: Mutex::new(HashSet::new()),
        handovers: AtomicU64::new(0),
        withdrawn: AtomicU64::new(0),
    };
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..2_000 {
                    match hammer.bulkhead.try_acquire() {
                        Admission::Acquired(slot) => hammer.hold_then_release(slot),
                        Admission::Queued(ticket) => hammer.wait(ticket),
                        _ => thread::yield_now(),
                    }
                }
            });
        }
    });
    let most = hammer.most_holders.load(Ordering::SeqCst);
    assert!(most <= MAX_CONCURRENT, "{most} holders at once");
    assert_eq!(hammer.bulkhead.stats(), BulkheadStats { active: 0, queued: 0 });
    assert!(
        hammer.granted.lock().unwrap().is_empty(),
        "a granted slot was never used"
    );
    assert!(
        hammer.handovers.load(Ordering::Relaxed) > 0,
        "the test must exercise hand-overs to queued waiters"
    );
}
