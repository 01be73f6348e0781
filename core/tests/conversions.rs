//! The unit converters bindings use to turn user numbers into counts and
//! durations: what they accept, and the error they give otherwise.

use std::time::Duration;

use resilience_core::{
    clock_reading_from_secs, count_from_f64, count_from_i64, duration_from_millis, duration_from_nanos_i64,
    duration_from_secs, ConfigError, COUNT_AT_LEAST_ONE, COUNT_AT_LEAST_ZERO, DURATION_REQUIREMENT, NANOS_REQUIREMENT,
};

#[test]
fn a_config_error_names_parameter_requirement_and_value() {
    let error = ConfigError::new("timeout", "a finite number >= 0", -1.5);
    assert_eq!(
        (error.parameter(), error.requirement(), error.got()),
        ("timeout", "a finite number >= 0", "-1.5")
    );
    assert_eq!(
        error.to_string(),
        "invalid timeout: must be a finite number >= 0, got -1.5"
    );
}

#[test]
fn float_counts_must_be_integers_in_range() {
    assert_eq!(count_from_f64("max_attempts", 3.0, 1), Ok(3));
    assert_eq!(count_from_f64("max_queue_size", 0.0, 0), Ok(0));
    assert_eq!(count_from_f64("max_attempts", 4_294_967_295.0, 1), Ok(u32::MAX));
    for bad in [0.0, 2.5, -1.0, 4_294_967_296.0, f64::NAN, f64::INFINITY] {
        let error = count_from_f64("max_attempts", bad, 1).unwrap_err();
        assert_eq!(error.requirement(), COUNT_AT_LEAST_ONE, "{bad}");
    }
    let error = count_from_f64("max_queue_size", -1.0, 0).unwrap_err();
    assert_eq!(error.requirement(), COUNT_AT_LEAST_ZERO);
}

#[test]
fn wide_integer_counts_must_fit_in_u32() {
    assert_eq!(count_from_i64("max_queue_size", 0, 0), Ok(0));
    let error = count_from_i64("max_queue_size", 1 << 32, 0).unwrap_err();
    assert_eq!((error.requirement(), error.got()), (COUNT_AT_LEAST_ZERO, "4294967296"));
}

#[test]
fn seconds_become_durations_and_bad_values_name_the_parameter() {
    assert_eq!(duration_from_secs("timeout", 0.25), Ok(Duration::from_millis(250)));
    for bad in [-0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
        let error = duration_from_secs("timeout", bad).unwrap_err();
        assert_eq!(
            (error.parameter(), error.requirement()),
            ("timeout", DURATION_REQUIREMENT),
            "{bad}"
        );
    }
}

#[test]
fn milliseconds_become_durations_and_bad_values_name_the_parameter() {
    assert_eq!(
        duration_from_millis("timeoutMs", 1500.0),
        Ok(Duration::from_millis(1500))
    );
    for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300] {
        let error = duration_from_millis("timeoutMs", bad).unwrap_err();
        assert_eq!(
            (error.parameter(), error.requirement()),
            ("timeoutMs", DURATION_REQUIREMENT),
            "{bad}"
        );
    }
    // The error shows the value the user gave, in the user's unit.
    assert_eq!(
        duration_from_millis("timeoutMs", 1e300).unwrap_err().got(),
        1e300.to_string()
    );
}

#[test]
fn signed_nanoseconds_must_not_be_negative() {
    assert_eq!(duration_from_nanos_i64("base_delay", 0), Ok(Duration::ZERO));
    assert_eq!(
        duration_from_nanos_i64("base_delay", i64::MAX),
        Ok(Duration::from_nanos(i64::MAX as u64))
    );
    let error = duration_from_nanos_i64("base_delay", i64::MIN).unwrap_err();
    assert_eq!(error.requirement(), NANOS_REQUIREMENT);
}

#[test]
fn clock_readings_clamp_instead_of_failing() {
    assert_eq!(clock_reading_from_secs(2.5), Duration::from_millis(2500));
    for low in [0.0, -3.0, f64::NAN, f64::NEG_INFINITY] {
        assert_eq!(clock_reading_from_secs(low), Duration::ZERO, "{low}");
    }
    for high in [1e300, f64::INFINITY] {
        assert_eq!(clock_reading_from_secs(high), Duration::MAX, "{high}");
    }
}
