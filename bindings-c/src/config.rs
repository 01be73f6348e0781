//! C configuration values into core's rules: a C field is an `int64_t`, so
//! it becomes a core `Value::Int` and core's rule decides. Nothing here
//! checks a range or picks a default.

use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::{ConfigError, Value};

/// Rule `count` for an `int64_t` field (`min` is the parameter's minimum, 0 or 1).
pub(crate) fn count(parameter: &'static str, n: i64, min: u32) -> Result<u32, ConfigError> {
    rules::count(parameter, Value::from(n), min)
}

/// Rule `duration` for an `int64_t` field of nanoseconds.
pub(crate) fn duration_ns(parameter: &'static str, ns: i64) -> Result<Duration, ConfigError> {
    rules::duration(parameter, Value::from(ns), Unit::Nanoseconds)
}
