//! The one place where core errors become Python exceptions.
//!
//! A `ConfigError` becomes `resilience.errors.ParameterTypeError` (a
//! `TypeError`) when its kind says the value has the wrong type
//! (`wrong_type`, `not_an_integer`), else `ParameterValueError` (a
//! `ValueError`); both carry the core's `kind` and `parameter`. The message
//! is the original's where provide.foundation had one for the same
//! (parameter, kind) — users match on those — and otherwise the core's
//! Python message, which names the parameter, the allowed range and the
//! value, and stays short whatever the value.

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use pyo3::{intern, PyErr};
use resilience_core::{ConfigError, ConfigErrorKind, Idiom, SnapshotError};

static TYPE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static VALUE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static SNAPSHOT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A value's repr in a message is cut beyond this many characters.
const MAX_REPR: usize = 40;

pyo3::create_exception!(
    _core,
    PermitMisuseError,
    PyRuntimeError,
    "A breaker permit was reported twice, or to a breaker that did not issue it; nothing changed."
);
pyo3::create_exception!(
    _core,
    SlotMisuseError,
    PyRuntimeError,
    "A bulkhead slot or ticket was released or cancelled twice, or by a bulkhead that did not issue it; nothing changed."
);

/// Whether a kind means "the value has the wrong type" (a Python `TypeError`).
pub(crate) fn is_type_error(kind: ConfigErrorKind) -> bool {
    matches!(kind, ConfigErrorKind::WrongType | ConfigErrorKind::NotAnInteger)
}

/// `repr(obj)`, cut to a message-friendly length.
fn short_repr(obj: &Bound<'_, PyAny>) -> String {
    let text = obj
        .repr()
        .map_or_else(|_| "<unrepresentable>".to_owned(), |r| r.to_string_lossy().into_owned());
    match text.char_indices().nth(MAX_REPR) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// attrs' `instance_of` message, which the original `RetryPolicy` raised for
/// a value of the wrong type.
fn attrs_message(parameter: &str, types: &str, given: &Bound<'_, PyAny>) -> String {
    let class = given
        .get_type()
        .repr()
        .map_or_else(|_| "<class '?'>".to_owned(), |r| r.to_string_lossy().into_owned());
    format!(
        "'{parameter}' must be {types} (got {} that is a {class}).",
        short_repr(given)
    )
}

/// The original's message for this (parameter, kind), if it had one.
fn original_message(e: &ConfigError, given: Option<&Bound<'_, PyAny>>) -> Option<String> {
    use ConfigErrorKind::{BelowOther, NotAnInteger, TooSmall, WrongType};
    let fixed = match (e.parameter(), e.kind()) {
        ("max_attempts", TooSmall) => "max_attempts must be at least 1",
        ("base_delay", TooSmall) => "base_delay must be positive",
        ("max_delay", TooSmall) => "max_delay must be positive",
        ("max_delay", BelowOther) => "max_delay must be >= base_delay",
        ("max_attempts", WrongType | NotAnInteger) => {
            return given.map(|g| attrs_message("max_attempts", "<class 'int'>", g))
        }
        (parameter @ ("base_delay" | "max_delay"), WrongType) => {
            return given.map(|g| attrs_message(parameter, "(<class 'int'>, <class 'float'>)", g))
        }
        _ => return None,
    };
    Some(fixed.to_owned())
}

/// A `ParameterTypeError` / `ParameterValueError` with `message`, `kind`
/// and `parameter`.
pub(crate) fn parameter_error(py: Python<'_>, type_error: bool, message: String, kind: &str, parameter: &str) -> PyErr {
    let (cell, name) = if type_error {
        (&TYPE_ERROR, "ParameterTypeError")
    } else {
        (&VALUE_ERROR, "ParameterValueError")
    };
    let build = || -> PyResult<PyErr> {
        let class = cell.import(py, "resilience.errors", name)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "kind"), kind)?;
        kwargs.set_item(intern!(py, "parameter"), parameter)?;
        Ok(PyErr::from_value(class.call((message.as_str(),), Some(&kwargs))?))
    };
    build().unwrap_or_else(|_| {
        // Only if the package's own module cannot be imported.
        if type_error {
            PyTypeError::new_err(message)
        } else {
            PyValueError::new_err(message)
        }
    })
}

/// A configuration error as the Python exception of its kind.
pub(crate) fn config_error(py: Python<'_>, e: &ConfigError) -> PyErr {
    config_error_given(py, e, None)
}

/// As [`config_error`], with the rejected Python object at hand (for the
/// original's messages that show it).
pub(crate) fn config_error_given(py: Python<'_>, e: &ConfigError, given: Option<&Bound<'_, PyAny>>) -> PyErr {
    let message = original_message(e, given).unwrap_or_else(|| e.message(Idiom::Python));
    parameter_error(py, is_type_error(e.kind()), message, e.kind().as_str(), e.parameter())
}

/// A snapshot that could not be read, as `resilience.errors.SnapshotError`
/// (a `ValueError`) with `kind` "malformed" or "unsupported_version"; the
/// message names the parameter that brought it (`initial_state`).
pub(crate) fn snapshot_error(py: Python<'_>, e: &SnapshotError) -> PyErr {
    let kind = match e {
        SnapshotError::UnsupportedVersion { .. } => "unsupported_version",
        _ => "malformed",
    };
    let build = || -> PyResult<PyErr> {
        let class = SNAPSHOT_ERROR.import(py, "resilience.errors", "SnapshotError")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "kind"), kind)?;
        let message = format!("invalid initial_state: {e}");
        Ok(PyErr::from_value(class.call((message,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|failed| failed)
}
