//! Configuration values: the defaults every binding inherits, the
//! accessors that report them back, and the builders' rejections.

use std::time::Duration;

use resilience_core::{
    BackoffStrategy, BreakerConfig, Bulkhead, BulkheadConfig, CircuitBreaker, Clock, Jitter, ManualClock, RetryPolicy,
    Value, DEFAULT_BASE_DELAY, DEFAULT_BULKHEAD_TIMEOUT, DEFAULT_FAILURE_THRESHOLD, DEFAULT_HALF_OPEN_MAX_CALLS,
    DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_DELAY, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_RECOVERY_TIMEOUT,
};

#[test]
fn the_default_policy_is_the_originals() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.max_attempts(), DEFAULT_MAX_ATTEMPTS);
    assert_eq!(policy.backoff(), BackoffStrategy::Exponential);
    assert_eq!(policy.base_delay(), DEFAULT_BASE_DELAY);
    assert_eq!(policy.max_delay(), DEFAULT_MAX_DELAY);
    assert_eq!(policy.jitter(), Jitter::Proportional);
    assert_eq!(policy.retryable_status_codes(), None);
    assert_eq!(policy.seed(), None);
    assert_eq!(
        (DEFAULT_MAX_ATTEMPTS, DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY),
        (3, Duration::from_secs(1), Duration::from_secs(60))
    );
    // The builder starts from the same values.
    assert_eq!(RetryPolicy::builder().build().unwrap(), policy);
}

#[test]
fn policies_compare_by_configuration_not_by_generator_position() {
    let a = RetryPolicy::builder().seed(1).build().unwrap();
    let b = RetryPolicy::builder().seed(1).build().unwrap();
    let _ = a.calculate_delay(1); // moves a's generator only
    assert_eq!(a, b);
    assert_ne!(a, RetryPolicy::builder().seed(2).build().unwrap());
    assert_ne!(a, RetryPolicy::builder().seed(1).max_attempts(4).build().unwrap());
    assert_ne!(a, RetryPolicy::builder().seed(1).jitter(Jitter::Full).build().unwrap());
    let with_codes = RetryPolicy::builder().seed(1).retryable_status_codes([503, 500, 503]);
    let with_codes = with_codes.build().unwrap();
    assert_ne!(a, with_codes);
    assert_eq!(
        with_codes.retryable_status_codes(),
        Some(&[500, 503][..]),
        "sorted, deduplicated"
    );
}

#[test]
fn maybe_seed_sets_or_clears_the_seed() {
    let seeded = RetryPolicy::builder().maybe_seed(Some(9)).build().unwrap();
    assert_eq!(seeded.seed(), Some(9));
    let same = RetryPolicy::builder().seed(9).build().unwrap();
    assert_eq!(seeded.calculate_delay(2), same.calculate_delay(2));
    let cleared = RetryPolicy::builder().seed(9).maybe_seed(None).build().unwrap();
    assert_eq!(cleared.seed(), None);
}

#[test]
fn a_policy_needs_at_least_one_attempt() {
    let error = RetryPolicy::builder().max_attempts(0).build().unwrap_err();
    assert_eq!(error.parameter(), "max_attempts");
    assert_eq!(error.got(), &Value::Int(0));
}

#[test]
fn jitter_from_a_flag_is_the_originals_on_or_off() {
    assert_eq!(Jitter::from_bool(true), Jitter::Proportional);
    assert_eq!(Jitter::from_bool(false), Jitter::None);
    let enabled: Vec<bool> = Jitter::ALL.iter().map(|j| j.is_enabled()).collect();
    assert_eq!(enabled, [false, true, true, true, true]);
}

#[test]
fn a_breaker_config_reports_what_was_built() {
    let defaults = BreakerConfig::default();
    assert_eq!(defaults.failure_threshold(), DEFAULT_FAILURE_THRESHOLD);
    assert_eq!(defaults.recovery_timeout(), DEFAULT_RECOVERY_TIMEOUT);
    assert_eq!(defaults.half_open_max_calls(), DEFAULT_HALF_OPEN_MAX_CALLS);
    let config = BreakerConfig::builder()
        .failure_threshold(4)
        .recovery_timeout(Duration::from_millis(250))
        .half_open_max_calls(2)
        .build()
        .unwrap();
    assert_eq!(
        (
            config.failure_threshold(),
            config.recovery_timeout(),
            config.half_open_max_calls()
        ),
        (4, Duration::from_millis(250), 2)
    );
    let clock = ManualClock::starting_at(Duration::from_secs(5));
    let breaker = CircuitBreaker::new(config, clock);
    assert_eq!(breaker.config(), &config);
    assert_eq!(breaker.clock().now(), Duration::from_secs(5));
}

#[test]
fn a_breaker_rejects_zero_counts_naming_the_parameter() {
    let zero_threshold = BreakerConfig::builder().failure_threshold(0).build().unwrap_err();
    assert_eq!(
        (zero_threshold.parameter(), zero_threshold.got()),
        ("failure_threshold", &Value::Int(0))
    );
    let zero_trials = BreakerConfig::builder().half_open_max_calls(0).build().unwrap_err();
    assert_eq!(
        (zero_trials.parameter(), zero_trials.got()),
        ("half_open_max_calls", &Value::Int(0))
    );
}

#[test]
fn a_bulkhead_config_has_the_originals_defaults_and_needs_a_slot() {
    let defaults = BulkheadConfig::default();
    assert_eq!(
        (defaults.max_concurrent(), defaults.max_queue_size(), defaults.timeout()),
        (DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_BULKHEAD_TIMEOUT)
    );
    assert_eq!(
        (DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_BULKHEAD_TIMEOUT),
        (10, 100, Duration::from_secs(30))
    );
    let error = BulkheadConfig::builder()
        .max_concurrent(0)
        .max_queue_size(5)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert_eq!((error.parameter(), error.got()), ("max_concurrent", &Value::Int(0)));
    let config = BulkheadConfig::builder()
        .max_concurrent(2)
        .max_queue_size(0)
        .timeout(Duration::from_millis(10))
        .build()
        .unwrap();
    assert_eq!(Bulkhead::new(config).config(), &config);
}
