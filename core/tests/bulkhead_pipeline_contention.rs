//! A pipeline's bulkhead under contention: a call that finds the slot
//! taken never waits, but when the slot is handed to it while it is
//! withdrawing from the queue, it keeps the slot and runs. No call runs
//! beside another, every call either runs or is rejected, and the bulkhead
//! ends empty.

use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use resilience_core::{Bulkhead, BulkheadConfig, BulkheadLayer, ManualClock, Pipeline, PipelineError};

const THREADS: u32 = 3;
const CALLS: u32 = 20_000;

#[test]
fn calls_racing_for_one_slot_run_one_at_a_time_or_are_rejected() {
    let config = BulkheadConfig::builder()
        .max_concurrent(1)
        .max_queue_size(1)
        .build()
        .unwrap();
    let bulkhead = Bulkhead::new(config);
    let clock = ManualClock::new();
    let pipeline = Pipeline::builder(clock.clone(), clock)
        .bulkhead(BulkheadLayer::new(&bulkhead))
        .build()
        .unwrap();
    let (inside, ran, rejected) = (AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0));
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..CALLS {
                    let outcome = pipeline.call(|| {
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two calls inside one slot");
                        inside.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, ()>(())
                    });
                    match outcome {
                        Ok(()) => ran.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            assert_eq!(e, PipelineError::BulkheadFull);
                            rejected.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            });
        }
    });
    assert_eq!(
        ran.load(Ordering::Relaxed) + rejected.load(Ordering::Relaxed),
        THREADS * CALLS
    );
    assert!(ran.load(Ordering::Relaxed) > 0);
    let stats = bulkhead.stats();
    assert_eq!((stats.active, stats.queued), (0, 0));
}
