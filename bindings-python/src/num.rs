//! Python integers of any size, clamped into the ranges the core takes.

use pyo3::prelude::*;

/// An attempt number: any Python int, saturated into `i64` (attempt 10**30
/// of a backoff is simply a very large attempt).
pub(crate) fn attempt_i64(value: &Bound<'_, PyAny>) -> PyResult<i64> {
    match value.extract::<i64>() {
        Ok(n) => Ok(n),
        Err(err) => {
            if err.is_instance_of::<pyo3::exceptions::PyOverflowError>(value.py()) {
                let negative = value.lt(0)?;
                Ok(if negative { i64::MIN } else { i64::MAX })
            } else {
                Err(err)
            }
        }
    }
}
