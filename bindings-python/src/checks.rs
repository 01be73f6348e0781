//! Misuse caught where it is made, never at call time.
//!
//! A non-callable operation is rejected when it is wrapped or handed to an
//! executor: otherwise its `TypeError` would be retried, slept on, or counted
//! as a breaker failure. An exception filter (`expected_exception`,
//! `retryable_errors`, `expected_exceptions`) is checked when it is
//! configured: otherwise the first failure would meet an `isinstance` or
//! `except` that raises a library `TypeError` in place of the user's error.
//! One wording for every entry point, sync (native) and async (Python).

use pyo3::exceptions::PyBaseException;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

use crate::errors::parameter_error;

/// The kind these misuses carry (core's name for "not a value of the expected type").
const WRONG_TYPE: &str = "wrong_type";

/// What a rejected value was, in a few words (never its repr: a huge value
/// must not make a huge message).
fn describe(value: &Bound<'_, PyAny>) -> String {
    let name = |t: &Bound<'_, PyType>| t.name().map_or_else(|_| "?".to_owned(), |n| n.to_string());
    match value.cast::<PyType>() {
        Ok(class) => format!("the class {}", name(class)),
        Err(_) => name(&value.get_type()),
    }
}

/// The `TypeError` for a non-callable `parameter`: "func must be callable,
/// got int" (a `ParameterTypeError` of kind `wrong_type`).
#[pyfunction]
pub(crate) fn not_callable(parameter: &str, value: &Bound<'_, PyAny>) -> PyErr {
    let message = format!("{parameter} must be callable, got {}", describe(value));
    parameter_error(value.py(), true, message, WRONG_TYPE, parameter)
}

/// Rejects `value` unless it is callable or `None` (an optional callback:
/// `time_source`, `on_retry`, `sleep_func`...).
#[pyfunction]
pub(crate) fn require_optional_callable(parameter: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if value.is_none() {
        return Ok(());
    }
    require_callable(parameter, value)
}

/// Rejects a non-callable `value` (a pointer test; free on the success path).
pub(crate) fn require_callable(parameter: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if value.is_callable() {
        Ok(())
    } else {
        Err(not_callable(parameter, value))
    }
}

/// The first value in `filter` that `except` would refuse: `None` when
/// `filter` is an exception class or a (possibly nested) tuple of them,
/// which is what both `isinstance` and `except` accept.
fn first_non_exception<'py>(filter: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    if let Ok(class) = filter.cast::<PyType>() {
        return Ok((!class.is_subclass_of::<PyBaseException>()?).then(|| filter.clone()));
    }
    if let Ok(items) = filter.cast::<PyTuple>() {
        for item in items.iter() {
            if let Some(bad) = first_non_exception(&item)? {
                return Ok(Some(bad));
            }
        }
        return Ok(None);
    }
    Ok(Some(filter.clone()))
}

/// Rejects an exception filter that is not an exception class or a tuple of
/// exception classes, with a `TypeError` naming `parameter`.
#[pyfunction]
pub(crate) fn require_exception_types(parameter: &str, filter: &Bound<'_, PyAny>) -> PyResult<()> {
    let Some(bad) = first_non_exception(filter)? else {
        return Ok(());
    };
    let got = if bad.is(filter) {
        describe(&bad)
    } else {
        format!("a tuple holding {}", describe(&bad))
    };
    let message = format!("{parameter} must be an exception class or a tuple of exception classes, got {got}");
    Err(parameter_error(filter.py(), true, message, WRONG_TYPE, parameter))
}
