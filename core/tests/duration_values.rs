//! Rule `duration` on the values bindings pass: integers beyond any range
//! keep their sign's meaning, and floats are exact in every unit
//! (JavaScript's fractional milliseconds, a float number of nanoseconds).

use std::time::Duration;

use resilience_core::rules::{self, Unit, MAX_DURATION};
use resilience_core::{ConfigErrorKind, Value};

#[test]
fn integers_beyond_any_range_are_too_small_or_too_large_by_their_sign() {
    let below = rules::duration("recovery_timeout", Value::HugeInt { negative: true }, Unit::Seconds).unwrap_err();
    assert_eq!(below.kind(), ConfigErrorKind::TooSmall);
    let above = rules::duration("recovery_timeout", Value::HugeInt { negative: false }, Unit::Seconds).unwrap_err();
    assert_eq!(above.kind(), ConfigErrorKind::TooLarge);
}

#[test]
fn fractional_milliseconds_are_exact_nanoseconds() {
    assert_eq!(
        rules::duration("recovery_timeout", Value::Float(1.5), Unit::Milliseconds),
        Ok(Duration::from_micros(1_500))
    );
    let max_ms = MAX_DURATION.as_nanos() as f64 / 1e6;
    let err = rules::duration("recovery_timeout", Value::Float(max_ms * 2.0), Unit::Milliseconds).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::TooLarge);
}

#[test]
fn a_float_number_of_nanoseconds_is_a_duration_too() {
    assert_eq!(
        rules::duration("recovery_timeout", Value::Float(2.5e9), Unit::Nanoseconds),
        Ok(Duration::from_millis(2_500))
    );
    let err = rules::duration("recovery_timeout", Value::Float(-1.0), Unit::Nanoseconds).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::TooSmall);
}
