//! Python objects as core `Value`s: the only thing this binding does with a
//! user's configuration before core's rules (`resilience_core::rules`) judge
//! it. No range, default or type rule lives here.

use std::time::Duration;

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
use resilience_core::rules::{self, Unit};
use resilience_core::Value;

use crate::errors::config_error_given;

/// `obj` as core sees it: `bool` → `Bool`, `int` → `Int` (`HugeInt` beyond
/// `i128`), `float` → `Float`, `None` → `Absent`, `str` → `Text`, anything
/// else → `Other(type name)`. Subclasses count as their base (an `IntEnum`
/// is an `int`, a numpy `float64` a `float`).
pub(crate) fn value_of(obj: &Bound<'_, PyAny>) -> Value {
    if obj.is_none() {
        return Value::Absent;
    }
    // Before `int`: `bool` is a subclass of `int`.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Value::Bool(b.is_true());
    }
    if obj.is_instance_of::<PyInt>() {
        return match obj.extract::<i128>() {
            Ok(n) => Value::Int(n),
            Err(_) => Value::HugeInt {
                negative: obj.lt(0).unwrap_or(false),
            },
        };
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Value::Float(f.value());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        // Lossy: a string with lone surrogates is still text.
        return Value::text(&s.to_string_lossy());
    }
    Value::other(&type_name(obj))
}

/// The name of `obj`'s type (`"list"`), never its repr.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "object".to_owned(), |n| n.to_string())
}

/// Rule `count` on a Python value, with the parameter's range from core's
/// one table (`rules::COUNTS`).
pub(crate) fn count(parameter: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    rules::count_of(parameter, value_of(obj)).map_err(|e| config_error_given(obj.py(), &e, Some(obj)))
}

/// Rule `duration` on a Python number of seconds.
pub(crate) fn seconds(parameter: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Duration> {
    rules::duration(parameter, value_of(obj), Unit::Seconds).map_err(|e| config_error_given(obj.py(), &e, Some(obj)))
}

/// Rule `ratio` on a Python number.
pub(crate) fn ratio(parameter: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    rules::ratio(parameter, value_of(obj)).map_err(|e| config_error_given(obj.py(), &e, Some(obj)))
}

/// Rule `attempt`: any Python integer (saturated into `i64`).
pub(crate) fn attempt(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    rules::attempt(value_of(obj)).map_err(|e| config_error_given(obj.py(), &e, Some(obj)))
}

/// A clock reading in seconds as a float (an `int` beyond the float range
/// is an infinity); rule `clock_reading` then makes it a duration.
pub(crate) fn reading_secs(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    match obj.extract::<f64>() {
        Ok(x) => Ok(x),
        Err(err) if err.is_instance_of::<PyOverflowError>(obj.py()) => {
            Ok(if obj.lt(0)? { f64::NEG_INFINITY } else { f64::INFINITY })
        }
        Err(err) => Err(err),
    }
}
