//! Asking a user's exception filter (`retryable_errors`,
//! `expected_exception`, `expected_exceptions`) about an error: an
//! `isinstance` that answers yes or no — or fails, when a class's
//! `__instancecheck__` raises. What a failure means is core's rule
//! (`rules::PredicateOutcome`): retry → not retryable, breaker → counted as
//! a failure, fallback → not expected. The user's own error always surfaces
//! unchanged; the filter's exception goes to `sys.unraisablehook`.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use resilience_core::rules::PredicateOutcome;

/// How `filter` classifies `error`. A filter raising an `Exception` is
/// reported to `sys.unraisablehook` (with the filter as the object) and
/// answers `Failed`; a `BaseException` that is no `Exception`
/// (`KeyboardInterrupt`) propagates.
pub(crate) fn classify(error: &Bound<'_, PyAny>, filter: &Bound<'_, PyAny>) -> PyResult<PredicateOutcome> {
    match error.is_instance(filter) {
        Ok(yes) => Ok(PredicateOutcome::from_bool(yes)),
        Err(failure) if failure.is_instance_of::<PyException>(error.py()) => {
            failure.write_unraisable(error.py(), Some(filter));
            Ok(PredicateOutcome::Failed)
        }
        Err(interrupt) => Err(interrupt),
    }
}

/// Whether a fallback chain falls back for `error` under `filter` (rule
/// `failing_predicate`: a failing filter means "not expected").
#[pyfunction]
pub(crate) fn falls_back(error: &Bound<'_, PyAny>, filter: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(classify(error, filter)?.falls_back())
}
