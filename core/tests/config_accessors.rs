//! Built configurations report back what they were built with, and the
//! objects built from them hand back their configuration and clock: what
//! bindings read to show a component's settings.

use std::time::Duration;

use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, BackoffStrategy, BreakBackoff, BreakerConfig, BreakerLayer,
    CircuitBreaker, Clock, HedgingConfig, ManualClock, RateLimiter, RateLimiterConfig, RetryBudget, RetryBudgetConfig,
    RetryLayer, RetryPolicy, SlowCallRule, TripRule, Window, DEFAULT_BURST, DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_HEDGE_DELAY, DEFAULT_MAX_HEDGED_ATTEMPTS, DEFAULT_PER, DEFAULT_RATE,
};

#[test]
fn a_failure_rate_breaker_config_reports_its_rules() {
    let config = BreakerConfig::builder()
        .failure_rate(0.5, 20)
        .count_window(50)
        .slow_calls(Duration::from_secs(2), 0.8)
        .break_backoff(BackoffStrategy::Linear, Duration::from_secs(120))
        .build()
        .unwrap();
    assert_eq!(
        config.trip_rule(),
        TripRule::FailureRate {
            ratio: 0.5,
            minimum_throughput: 20,
            window: Window::Count { size: 50 }
        }
    );
    // The consecutive threshold is not part of a failure-rate rule: the default is reported.
    assert_eq!(config.failure_threshold(), DEFAULT_FAILURE_THRESHOLD);
    assert_eq!(
        config.slow_calls(),
        Some(SlowCallRule {
            duration: Duration::from_secs(2),
            ratio: 0.8
        })
    );
    assert_eq!(
        config.break_backoff(),
        Some(BreakBackoff {
            strategy: BackoffStrategy::Linear,
            max: Duration::from_secs(120)
        })
    );
    assert_eq!(config.window(), Some(Window::Count { size: 50 }));
}

#[test]
fn a_consecutive_breaker_config_has_no_rate_rules() {
    let config = BreakerConfig::builder().failure_threshold(3).build().unwrap();
    assert_eq!(config.trip_rule(), TripRule::Consecutive { failure_threshold: 3 });
    assert_eq!(config.failure_threshold(), 3);
    assert_eq!(config.slow_calls(), None);
    assert_eq!(config.break_backoff(), None);
}

#[test]
fn a_hedging_config_reports_its_delay_and_copies() {
    let default = HedgingConfig::default();
    assert_eq!(default.hedge_delay(), DEFAULT_HEDGE_DELAY);
    assert_eq!(default.max_hedged_attempts(), DEFAULT_MAX_HEDGED_ATTEMPTS);
    let config = HedgingConfig::builder()
        .hedge_delay(Duration::from_millis(150))
        .max_hedged_attempts(4)
        .build()
        .unwrap();
    assert_eq!(config.hedge_delay(), Duration::from_millis(150));
    assert_eq!(config.max_hedged_attempts(), 4);
    assert_eq!(config.total_attempts(), 5);
}

#[test]
fn a_rate_limiter_config_defaults_to_the_builders_values() {
    let default = RateLimiterConfig::default();
    assert_eq!(default, RateLimiterConfig::builder().build().unwrap());
    assert_eq!(
        (default.rate(), default.per(), default.burst()),
        (DEFAULT_RATE, DEFAULT_PER, DEFAULT_BURST)
    );
    assert_eq!(default.emission_interval(), Duration::from_millis(10));

    let config = RateLimiterConfig::builder()
        .rate(3)
        .per(Duration::from_secs(2))
        .burst(1)
        .build()
        .unwrap();
    assert_eq!(
        (config.rate(), config.per(), config.burst()),
        (3, Duration::from_secs(2), 1)
    );
    // 2 s / 3, rounded up to the nanosecond.
    assert_eq!(config.emission_interval(), Duration::from_nanos(666_666_667));
}

#[test]
fn load_controls_hand_back_their_configuration_and_clock() {
    let clock = ManualClock::starting_at(Duration::from_secs(7));

    let limiter_config = RateLimiterConfig::builder().rate(5).build().unwrap();
    let limiter = RateLimiter::new(limiter_config, clock.clone());
    assert_eq!(*limiter.config(), limiter_config);
    assert_eq!(limiter.clock().now(), Duration::from_secs(7));

    let throttle_config = AdaptiveThrottleConfig::builder().k(1.5).seed(3).build().unwrap();
    let throttle = AdaptiveThrottle::new(throttle_config, clock.clone());
    assert_eq!(*throttle.config(), throttle_config);
    assert_eq!(throttle.clock().now(), Duration::from_secs(7));

    let budget_config = RetryBudgetConfig::builder().retry_ratio(0.5).build().unwrap();
    let budget = RetryBudget::new(budget_config, clock);
    assert_eq!(*budget.config(), budget_config);
}

#[test]
fn pipeline_layers_hand_back_their_policy_and_breaker() {
    let policy = RetryPolicy::builder().max_attempts(4).seed(1).build().unwrap();
    let layer = RetryLayer::new(policy.clone());
    assert_eq!(*layer.policy(), policy);

    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(BreakerConfig::default(), clock);
    let _ = breaker.call(|| Err::<(), _>("down"));
    let layer = BreakerLayer::new(&breaker);
    assert!(std::ptr::eq(layer.breaker(), &breaker));
    assert_eq!(layer.breaker().failure_count(), 1);
}
