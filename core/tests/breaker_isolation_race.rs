//! An isolation that lands while an open breaker admits a trial, made
//! deterministic: the test isolates the breaker at the moment admission
//! reads its clock (after the lock-free check, before the locked one).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, Clock, RejectReason};

/// A clock whose every reading runs a closure: the test's hook.
#[derive(Clone)]
struct HookClock(Arc<dyn Fn() -> Duration + Send + Sync>);

impl Clock for HookClock {
    fn now(&self) -> Duration {
        (self.0)()
    }
}

#[test]
fn an_isolation_landing_while_a_trial_is_admitted_rejects_it_as_isolated() {
    let now = Arc::new(AtomicU64::new(0));
    let isolate_on_next_read = Arc::new(AtomicBool::new(false));
    let slot: Arc<OnceLock<Weak<CircuitBreaker<HookClock>>>> = Arc::new(OnceLock::new());
    let clock = HookClock(Arc::new({
        let (now, armed, slot) = (Arc::clone(&now), Arc::clone(&isolate_on_next_read), Arc::clone(&slot));
        move || {
            if armed.swap(false, Ordering::SeqCst) {
                if let Some(breaker) = slot.get().and_then(Weak::upgrade) {
                    breaker.isolate();
                }
            }
            Duration::from_secs(now.load(Ordering::SeqCst))
        }
    }));
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let breaker = Arc::new(CircuitBreaker::new(config, clock));
    slot.set(Arc::downgrade(&breaker)).unwrap();
    assert!(breaker
        .record_failure(breaker.acquire_token().unwrap())
        .unwrap()
        .is_some());

    // The break is over: the lock-free check lets the call on to the locked
    // one, and the isolation lands in between.
    now.store(10, Ordering::SeqCst);
    isolate_on_next_read.store(true, Ordering::SeqCst);
    let rejected = breaker.acquire_token().unwrap_err();
    assert_eq!(rejected.reason, RejectReason::Isolated);
    assert_eq!(breaker.state(), CircuitState::Isolated);
    assert_eq!(breaker.tokens_outstanding(), 0, "no trial was handed out");
    assert_eq!(breaker.metrics().rejections, 1);
}
