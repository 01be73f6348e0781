//! C configuration values into core's rules: an `int64_t` field becomes a
//! core `Value::Int`, a `double` a `Value::Float`, and core's rule decides
//! (ranges from core's one table of counts, `rules::COUNTS`). Nothing here
//! checks a range or picks a default.

use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::{ConfigError, Value};

/// Rule `count` for an `int64_t` field; the allowed range is core's for
/// `parameter` (`rules::count_of`).
pub(crate) fn count(parameter: &'static str, n: i64) -> Result<u32, ConfigError> {
    rules::count_of(parameter, Value::from(n))
}

/// Rule `duration` for an `int64_t` field of nanoseconds.
pub(crate) fn duration_ns(parameter: &'static str, ns: i64) -> Result<Duration, ConfigError> {
    rules::duration(parameter, Value::from(ns), Unit::Nanoseconds)
}

/// Rule `ratio` for a `double` field: NaN, zero, negative values and values
/// above 1 all reach the rule as they are.
pub(crate) fn ratio(parameter: &'static str, x: f64) -> Result<f64, ConfigError> {
    rules::ratio(parameter, Value::Float(x))
}
