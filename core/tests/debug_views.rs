//! Debug output of the load controls, policies and pipelines: what a log
//! line shows of them (their settings and state, never closures).

use std::sync::Arc;
use std::time::Duration;

use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, BreakerConfig, BreakerLayer, CircuitBreaker, ManualClock, Pipeline,
    RateLimiter, RateLimiterConfig, RetryBudget, RetryBudgetConfig, RetryLayer, RetryPolicy, StrategyKind,
};

#[test]
fn a_retry_budget_shows_its_configuration_and_what_it_allows_now() {
    let config = RetryBudgetConfig::builder()
        .min_retries_per_sec(0)
        .retry_ratio(0.5)
        .build()
        .unwrap();
    let budget = RetryBudget::new(config, ManualClock::new());
    for _ in 0..6 {
        budget.deposit();
    }
    let shown = format!("{budget:?}");
    assert!(
        shown.starts_with("RetryBudget { config: RetryBudgetConfig {"),
        "{shown}"
    );
    assert!(shown.contains("available: 3"), "{shown}");
    assert!(shown.ends_with(", .. }"), "{shown}");
}

#[test]
fn a_rate_limiter_shows_its_theoretical_arrival_time() {
    let config = RateLimiterConfig::builder()
        .rate(10)
        .per(Duration::from_secs(1))
        .burst(5)
        .build()
        .unwrap();
    let limiter = RateLimiter::new(config, ManualClock::new());
    assert!(format!("{limiter:?}").contains("tat: 0ns"));
    limiter.try_acquire_n(3).unwrap();
    let shown = format!("{limiter:?}");
    assert!(
        shown.starts_with("RateLimiter { config: RateLimiterConfig {"),
        "{shown}"
    );
    assert!(shown.contains("clock: ManualClock"), "{shown}");
    assert!(shown.contains("tat: 300ms"), "{shown}");
}

#[test]
fn a_throttle_shows_its_configuration_and_clock() {
    let config = AdaptiveThrottleConfig::builder().k(1.5).seed(3).build().unwrap();
    let throttle = AdaptiveThrottle::new(config, ManualClock::new());
    let shown = format!("{throttle:?}");
    assert!(
        shown.starts_with("AdaptiveThrottle { config: AdaptiveThrottleConfig {"),
        "{shown}"
    );
    assert!(
        shown.contains("k: 1.5") && shown.contains("clock: ManualClock"),
        "{shown}"
    );
    assert!(shown.ends_with(", .. }"), "{shown}");
}

#[test]
fn a_policy_shows_its_settings_generator_and_budget() {
    let budget = Arc::new(RetryBudget::new(RetryBudgetConfig::default(), ManualClock::new()));
    let policy = RetryPolicy::builder()
        .max_attempts(4)
        .seed(7)
        .budget(budget)
        .build()
        .unwrap();
    let shown = format!("{policy:?}");
    assert!(shown.starts_with("RetryPolicy { max_attempts: 4,"), "{shown}");
    assert!(shown.contains("seed: Some(7)"), "{shown}");
    assert!(shown.contains("rng: JitterRng {"), "the built-in generator: {shown}");
    assert!(shown.contains("budget: Some(RetryBudget {"), "{shown}");
}

#[test]
fn a_pipeline_and_its_builder_show_their_strategies_in_order() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(BreakerConfig::default(), clock.clone());
    let builder = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(RetryPolicy::default()))
        .breaker(BreakerLayer::new(&breaker));
    let shown = format!("{builder:?}");
    assert_eq!(shown, "PipelineBuilder { strategies: [Retry, Breaker], .. }");

    let pipeline = builder.build().unwrap();
    assert_eq!(pipeline.strategies(), [StrategyKind::Retry, StrategyKind::Breaker]);
    let shown = format!("{pipeline:?}");
    assert!(
        shown.starts_with("Pipeline { strategies: [Retry, Breaker], env: Env { clock: ManualClock {"),
        "{shown}"
    );
    assert!(shown.ends_with(".. }, .. }"), "{shown}");
}
