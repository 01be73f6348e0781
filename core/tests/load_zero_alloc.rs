//! Load control allocates nothing once built: a budgeted retry's success
//! path, withdrawals, throttle decisions and limiter answers (admitted or
//! refused), measured with a counting global allocator.

use std::sync::Arc;
use std::time::Duration;

use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, Clock, ManualClock, RateLimiter, RateLimiterConfig, Retry, RetryBudget,
    RetryBudgetConfig, RetryPolicy,
};

fn allocations_during(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

#[test]
fn load_control_hot_paths_do_not_allocate() {
    let clock = ManualClock::new();
    let budget = Arc::new(RetryBudget::new(RetryBudgetConfig::default(), clock.clone()));
    let policy = RetryPolicy::builder().seed(1).budget(budget.clone()).build().unwrap();
    let throttle = AdaptiveThrottle::new(
        AdaptiveThrottleConfig::builder().seed(1).build().unwrap(),
        clock.clone(),
    );
    let limiter = RateLimiter::new(RateLimiterConfig::builder().burst(5).build().unwrap(), clock.clone());
    let n = allocations_during(|| {
        for i in 0..10_000u64 {
            let r = Retry::new(&policy, |_| {}).call(|_| Ok::<u64, &str>(i));
            assert_eq!(r.unwrap(), i);
            let _ = budget.try_withdraw();
            if throttle.try_admit().is_ok() {
                throttle.record(i % 3 == 0);
            }
            let _ = limiter.try_acquire();
            let _ = limiter.try_acquire_n(2);
            clock.advance(Duration::from_millis(3));
        }
    });
    assert_eq!(n, 0);
    // A counter stuck at zero would pass the assertion above.
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
    assert!(clock.now() > Duration::from_secs(29), "the windows rotated many times");
}
