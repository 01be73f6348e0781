//! User-supplied durations (seconds, as Python numbers): every one is
//! validated by the core's `duration_from_secs`, so NaN, infinity, a
//! negative value or one too large for a `Duration` is a `ValueError` naming
//! the parameter, never a hang, a silent `False` or an `OverflowError`.

use std::time::Duration;

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use resilience_core::duration_from_secs;

use crate::errors::config_error;

/// `value` (an `int`, a `float`, or anything with `__float__`) as a duration.
pub(crate) fn duration_arg(parameter: &'static str, value: &Bound<'_, PyAny>) -> PyResult<Duration> {
    let seconds = match value.extract::<f64>() {
        Ok(seconds) => seconds,
        // An int beyond the float range: as infinite as the core can tell.
        Err(err) if err.is_instance_of::<PyOverflowError>(value.py()) => {
            if value.lt(0)? {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        Err(err) => return Err(err),
    };
    duration_from_secs(parameter, seconds).map_err(|e| config_error(&e))
}
