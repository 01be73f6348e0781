//! The one place where core errors become Python exceptions.

use pyo3::exceptions::PyValueError;
use pyo3::PyErr;
use resilience_core::{ConfigError, DURATION_REQUIREMENT};

/// A configuration error as the `ValueError` the original raises.
///
/// Where provide.foundation had a message for the same mistake, that exact
/// message is used (users match on it); every other rejected value (NaN,
/// infinity, a zero threshold...) gets the core's message, which names the
/// parameter, the allowed range and the value.
pub(crate) fn config_error(e: &ConfigError) -> PyErr {
    let negative = e.got().trim().starts_with('-');
    let original = match (e.parameter(), e.requirement()) {
        ("max_attempts", ">= 1") => Some("max_attempts must be at least 1"),
        ("base_delay", DURATION_REQUIREMENT) if negative => Some("base_delay must be positive"),
        ("max_delay", DURATION_REQUIREMENT) if negative => Some("max_delay must be positive"),
        ("max_delay", ">= base_delay") => Some("max_delay must be >= base_delay"),
        _ => None,
    };
    match original {
        Some(msg) => PyValueError::new_err(msg),
        None => PyValueError::new_err(e.to_string()),
    }
}
