//! The messages and source chains of the errors not covered by
//! `text_forms.rs`: misused permits and slots, the load controls' refusals,
//! timeouts, pipeline errors, and configuration errors that name a
//! parameter needing another.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, Admission, Allowed, BreakerConfig, Bulkhead, BulkheadConfig,
    CircuitBreaker, ConfigError, ConfigErrorKind, Idiom, LibraryError, ManualClock, PermitMisuse, PipelineError,
    RateLimitError, RateLimiter, RateLimiterConfig, SlotMisuse, ThrottleError, Throttled, TimedOut, Value,
};

#[derive(Debug, PartialEq)]
struct Down;

impl fmt::Display for Down {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("service down")
    }
}

impl Error for Down {}

fn source_text(error: &dyn Error) -> Option<String> {
    error.source().map(ToString::to_string)
}

#[test]
fn misused_permits_and_slots_say_why_they_were_refused() {
    let breaker = CircuitBreaker::new(BreakerConfig::default(), ManualClock::new());
    let other = CircuitBreaker::new(BreakerConfig::default(), ManualClock::new());
    let token = breaker.acquire_token().unwrap();
    let foreign = other.record_success(token).unwrap_err();
    assert_eq!(foreign, PermitMisuse::OtherBreaker);
    assert_eq!(foreign.to_string(), "the permit was issued by another circuit breaker");
    assert_eq!(breaker.record_success(token), Ok(None));
    let twice = breaker.record_success(token).unwrap_err();
    assert_eq!(
        twice.to_string(),
        "the permit was already reported, or was never issued"
    );

    let bulkhead = Bulkhead::new(BulkheadConfig::default());
    let other = Bulkhead::new(BulkheadConfig::default());
    let Admission::Acquired(slot) = bulkhead.try_acquire() else {
        panic!("an empty bulkhead admits")
    };
    let foreign = other.release(slot).unwrap_err();
    assert_eq!(foreign, SlotMisuse::OtherBulkhead);
    assert_eq!(foreign.to_string(), "the slot or ticket was issued by another bulkhead");
    assert_eq!(bulkhead.release(slot), Ok(None));
    let twice = bulkhead.release(slot).unwrap_err();
    assert_eq!(
        twice.to_string(),
        "the slot or ticket is not held or queued (released or cancelled already, or never issued)"
    );
}

#[test]
fn a_rate_limit_says_how_long_to_wait_and_keeps_the_refusal_as_its_source() {
    let config = RateLimiterConfig::builder()
        .rate(10)
        .per(Duration::from_secs(1))
        .burst(1)
        .build()
        .unwrap();
    let limiter = RateLimiter::new(config, ManualClock::new());
    assert!(limiter.try_acquire().is_ok());
    let limited = limiter.try_acquire().unwrap_err();
    let RateLimitError::Limited(inner) = limited else {
        panic!("a spent burst is a wait: {limited:?}")
    };
    assert_eq!(inner.to_string(), "rate limited (retry after 100ms)");
    assert_eq!(limited.to_string(), inner.to_string());
    assert_eq!(source_text(&limited), Some(inner.to_string()));

    let never = limiter.try_acquire_n(2).unwrap_err();
    assert_eq!(
        never.to_string(),
        "2 cells requested at once, but the burst is 1: they can never be granted"
    );
    assert_eq!(source_text(&never), Some(never.to_string()));
}

/// The first request a throttle with nothing but rejections sheds (the
/// seed makes it the same request every run), with the requests before it.
fn first_shed(throttle: &AdaptiveThrottle<ManualClock>) -> (u32, Throttled) {
    for before in 0..1_000 {
        match throttle.try_admit() {
            Ok(()) => throttle.record(false),
            Err(shed) => return (before, shed),
        }
    }
    panic!("a throttle whose backend rejects everything sheds")
}

#[test]
fn a_shed_request_says_how_likely_shedding_was_and_when_the_window_moves() {
    let config = AdaptiveThrottleConfig::builder()
        .k(1.0)
        .window(Duration::from_secs(120))
        .seed(42)
        .build()
        .unwrap();
    let throttle = AdaptiveThrottle::new(config, ManualClock::new());
    let (before, shed) = first_shed(&throttle);
    assert!(before > 0, "no history, no shedding");
    // Nothing accepted: the probability is r / (r + 1) over the r requests before.
    assert_eq!(shed.probability, f64::from(before) / f64::from(before + 1));
    // A 120 s window has 12 s buckets; at 0 s the oldest moves in 12 s.
    assert_eq!(shed.retry_after, Duration::from_secs(12));
    let expected = format!(
        "request throttled locally (rejection probability {:.3}, retry after 12s)",
        shed.probability
    );
    assert_eq!(shed.to_string(), expected);

    let error: ThrottleError<Down> = ThrottleError::Throttled(shed);
    assert_eq!(error.to_string(), expected);
    assert_eq!(source_text(&error), Some(expected));
    let error: ThrottleError<Down> = ThrottleError::Inner(Down);
    assert_eq!(error.to_string(), "service down");
    assert_eq!(source_text(&error).as_deref(), Some("service down"));
}

#[test]
fn a_timeout_says_how_long_it_waited() {
    let timed_out = TimedOut::new(Duration::from_millis(250));
    assert_eq!(timed_out.to_string(), "timed out after 250ms");
    assert!(timed_out.source().is_none());
}

#[test]
fn a_pipeline_error_shows_whichever_error_it_carries() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder().failure_threshold(1).build().unwrap();
    let breaker = CircuitBreaker::new(config, clock);
    let _ = breaker.call(|| Err::<(), _>("down"));
    let rejected = breaker.try_acquire().unwrap_err();

    let inner: PipelineError<Down> = PipelineError::Inner(Down);
    assert_eq!(inner.to_string(), "service down");
    assert_eq!(source_text(&inner).as_deref(), Some("service down"));
    assert_eq!(inner.library(), None);
    assert_eq!(inner.into_inner(), Some(Down));

    let open: PipelineError<Down> = PipelineError::BreakerOpen(rejected);
    assert_eq!(open.to_string(), "circuit breaker is open (retry after 30s)");
    assert_eq!(source_text(&open), Some(open.to_string()));
    assert_eq!(open.into_inner(), None);

    let timed_out: PipelineError<Down> = PipelineError::TimedOut(TimedOut::new(Duration::from_secs(2)));
    assert_eq!(timed_out.to_string(), "timed out after 2s");
    assert_eq!(source_text(&timed_out), Some(timed_out.to_string()));
    assert_eq!(timed_out.library(), Some(LibraryError::TimedOut));

    let full: PipelineError<Down> = PipelineError::BulkheadFull;
    assert_eq!(full.to_string(), "bulkhead full");
    assert!(full.source().is_none());
    assert_eq!(full.into_inner(), None);
}

#[test]
fn library_errors_have_stable_names_and_fixed_rules() {
    let all = [
        LibraryError::BreakerOpen,
        LibraryError::TimedOut,
        LibraryError::BulkheadFull,
    ];
    let names: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["breaker_open", "timed_out", "bulkhead_full"]);
    for error in all {
        assert_eq!(error.to_string(), error.as_str());
        assert!(
            error.retryable() && error.falls_back() && error.hedge_failed(),
            "{error}"
        );
        assert_eq!(error.counts_as_breaker_failure(), error == LibraryError::TimedOut);
    }
}

#[test]
fn a_parameter_that_needs_another_names_the_other_in_each_idiom() {
    let window = BreakerConfig::builder()
        .time_window(Duration::from_secs(10), 10)
        .build()
        .unwrap_err();
    assert_eq!(window.kind(), ConfigErrorKind::RequiresOther);
    assert_eq!(window.kind().as_str(), "requires_other");
    assert_eq!(window.allowed(), &Allowed::Requires("failure_ratio"));
    assert_eq!(window.got(), &Value::Absent);
    // Nothing was given, so the message names no value.
    assert_eq!(
        window.to_string(),
        "invalid window: must be set together with failure_ratio"
    );
    assert_eq!(window.to_string(), window.message(Idiom::Rust));
    assert_eq!(
        window.message(Idiom::JavaScript),
        "invalid window: must be set together with failureRatio"
    );

    let slow = BreakerConfig::builder()
        .slow_calls(Duration::from_secs(1), 0.5)
        .build()
        .unwrap_err();
    assert!(slow.is_duration());
    assert_eq!(
        slow.message(Idiom::JavaScript),
        "invalid slowCallDurationMs: must be set together with failureRatio"
    );
    assert_eq!(
        slow.message(Idiom::C),
        "invalid slow_call_duration_ns: must be set together with failure_ratio"
    );

    // A value given alongside is still shown.
    let given = ConfigError::new(
        ConfigErrorKind::RequiresOther,
        "window",
        Allowed::Requires("failure_ratio"),
        Value::Int(3),
    );
    assert_eq!(
        given.message(Idiom::Python),
        "invalid window: must be set together with failure_ratio, got 3"
    );
}

#[test]
fn number_ranges_say_whether_their_lower_bound_is_allowed() {
    let number = |min_inclusive, max| {
        ConfigError::new(
            ConfigErrorKind::TooSmall,
            "k",
            Allowed::Number {
                min: 0.0,
                min_inclusive,
                max,
            },
            Value::Float(-0.5),
        )
        .message(Idiom::Python)
    };
    assert_eq!(
        number(true, Some(1.0)),
        "invalid k: must be a number in [0, 1], got -0.5"
    );
    assert_eq!(
        number(false, Some(1.0)),
        "invalid k: must be a number in (0, 1], got -0.5"
    );
    assert_eq!(number(true, None), "invalid k: must be a finite number >= 0, got -0.5");
    assert_eq!(number(false, None), "invalid k: must be a finite number > 0, got -0.5");
}

#[test]
fn an_integer_beyond_any_range_is_named_by_its_sign() {
    let err = resilience_core::rules::count_of("max_attempts", Value::HugeInt { negative: false }).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::TooLarge);
    assert_eq!(
        err.message(Idiom::Python),
        "invalid max_attempts: must be an integer in 1..=4294967295, got an integer above 2^127"
    );
}
