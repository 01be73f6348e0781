//! `resilience._core`: the native half of the `resilience` Python package.
//!
//! Every decision comes from `resilience-core`; this crate only turns Python
//! values into core configuration, runs the synchronous loops (calling the
//! user's callables, classifying their exceptions with `isinstance`,
//! sleeping with the GIL released) and hands the decision API to the
//! `async def` drivers written in Python.

mod breaker;
mod bulkhead;
mod checks;
mod clock;
mod duration;
mod errors;
mod fallback;
mod logs;
mod num;
mod policy;
mod retry_state;
mod retry_sync;
mod sleep;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<policy::RetryPolicyCore>()?;
    m.add_class::<retry_state::RetryStateCore>()?;
    m.add_class::<retry_sync::RetryingFunction>()?;
    m.add_function(wrap_pyfunction!(retry_sync::retry_call, m)?)?;
    m.add_class::<breaker::BreakerCore>()?;
    m.add_class::<breaker::SyncCircuitBreaker>()?;
    m.add_class::<breaker::BreakerFunction>()?;
    m.add_class::<fallback::FallbackStateCore>()?;
    m.add_function(wrap_pyfunction!(fallback::fallback_call, m)?)?;
    m.add_class::<bulkhead::BulkheadCore>()?;
    m.add_function(wrap_pyfunction!(checks::not_callable, m)?)?;
    m.add_function(wrap_pyfunction!(checks::require_exception_types, m)?)?;
    // The HTTP status codes every binding's HTTP helper retries by default.
    let codes = pyo3::types::PyTuple::new(m.py(), resilience_core::DEFAULT_RETRYABLE_STATUS_CODES)?;
    m.add("DEFAULT_RETRYABLE_STATUS_CODES", codes)?;
    Ok(())
}
