//! `Retry-After` parsing for the middleware.

use std::time::Duration;

use pyo3::prelude::*;
use resilience_core::clock_reading_from_secs;

/// The wait in seconds a `Retry-After` header value asks for, given the
/// wall-clock time as seconds since the UNIX epoch; `None` if unparseable.
#[pyfunction]
pub(crate) fn parse_retry_after(value: &str, now_unix: f64) -> Option<f64> {
    resilience_core::parse_retry_after(value, clock_reading_from_secs(now_unix)).map(|d: Duration| d.as_secs_f64())
}
