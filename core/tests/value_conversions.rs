//! Rust values become core `Value`s the way a binding's values do, so Rust
//! callers can run the same rules.

use std::time::Duration;

use resilience_core::{rules, ConfigErrorKind, Value};

#[test]
fn rust_values_convert_to_the_matching_value() {
    assert_eq!(Value::from(u64::MAX), Value::Int(i128::from(u64::MAX)));
    assert_eq!(Value::from(2.5), Value::Float(2.5));
    assert_eq!(Value::from(true), Value::Bool(true));
    assert_eq!(
        Value::from(Duration::from_millis(5)),
        Value::Duration(Duration::from_millis(5))
    );
    let long = "x".repeat(100);
    assert_eq!(Value::from(long.as_str()), Value::Text(long.clone()), "the whole text");
}

#[test]
fn converted_values_go_through_the_rules() {
    assert_eq!(rules::count_of("max_attempts", Value::from(3u64)), Ok(3));
    let err = rules::count_of("max_attempts", Value::from(2.5)).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::NotAnInteger);
    let err = rules::count_of("max_attempts", Value::from(true)).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::WrongType);
    let err = rules::count_of("max_attempts", Value::from("3")).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::WrongType);
}

#[test]
fn status_codes_given_as_one_value_are_the_wrong_type() {
    let err = rules::status_codes_not_a_collection(Value::from(503u64));
    assert_eq!(err.parameter(), "retryable_status_codes");
    assert_eq!(err.kind(), ConfigErrorKind::WrongType);
    assert_eq!(err.got(), &Value::Int(503));
}
