//! `resilience._core`: the native half of the `resilience` Python package.
//!
//! Every decision and every rule comes from `resilience-core`; this crate
//! only turns Python values into core `Value`s (`value.rs`), maps core
//! errors to Python exceptions (`errors.rs`), runs the synchronous loops
//! (calling the user's callables, classifying their exceptions with
//! `isinstance`, sleeping with the GIL released) and hands the decision API
//! to the `async def` drivers written in Python.

mod breaker;
mod breaker_config;
mod bulkhead;
mod checks;
mod clock;
mod errors;
mod fallback;
mod filters;
mod logs;
mod policy;
mod retry_state;
mod retry_sync;
mod sleep;
mod value;

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Core's defaults, in the units Python uses (seconds for durations).
fn add_defaults(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let secs = |d: Duration| d.as_secs_f64();
    m.add("DEFAULT_MAX_ATTEMPTS", resilience_core::DEFAULT_MAX_ATTEMPTS)?;
    m.add("DEFAULT_BASE_DELAY", secs(resilience_core::DEFAULT_BASE_DELAY))?;
    m.add("DEFAULT_MAX_DELAY", secs(resilience_core::DEFAULT_MAX_DELAY))?;
    m.add("DEFAULT_FAILURE_THRESHOLD", resilience_core::DEFAULT_FAILURE_THRESHOLD)?;
    m.add(
        "DEFAULT_RECOVERY_TIMEOUT",
        secs(resilience_core::DEFAULT_RECOVERY_TIMEOUT),
    )?;
    m.add(
        "DEFAULT_HALF_OPEN_MAX_CALLS",
        resilience_core::DEFAULT_HALF_OPEN_MAX_CALLS,
    )?;
    m.add(
        "DEFAULT_MINIMUM_THROUGHPUT",
        resilience_core::DEFAULT_MINIMUM_THROUGHPUT,
    )?;
    m.add(
        "DEFAULT_SAMPLING_DURATION",
        secs(resilience_core::DEFAULT_SAMPLING_DURATION),
    )?;
    m.add("DEFAULT_SAMPLING_BUCKETS", resilience_core::DEFAULT_SAMPLING_BUCKETS)?;
    m.add("DEFAULT_MAX_CONCURRENT", resilience_core::DEFAULT_MAX_CONCURRENT)?;
    m.add("DEFAULT_MAX_QUEUE_SIZE", resilience_core::DEFAULT_MAX_QUEUE_SIZE)?;
    m.add(
        "DEFAULT_BULKHEAD_TIMEOUT",
        secs(resilience_core::DEFAULT_BULKHEAD_TIMEOUT),
    )?;
    m.add("SNAPSHOT_VERSION", resilience_core::SNAPSHOT_VERSION)?;
    // The HTTP status codes every binding's HTTP helper retries by default.
    let codes = PyTuple::new(m.py(), resilience_core::DEFAULT_RETRYABLE_STATUS_CODES)?;
    m.add("DEFAULT_RETRYABLE_STATUS_CODES", codes)?;
    Ok(())
}

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
    m.add_function(wrap_pyfunction!(filters::falls_back, m)?)?;
    m.add_class::<bulkhead::BulkheadCore>()?;
    m.add_function(wrap_pyfunction!(checks::not_callable, m)?)?;
    m.add_function(wrap_pyfunction!(checks::require_optional_callable, m)?)?;
    m.add_function(wrap_pyfunction!(checks::require_exception_types, m)?)?;
    m.add("PermitMisuseError", m.py().get_type::<errors::PermitMisuseError>())?;
    m.add("SlotMisuseError", m.py().get_type::<errors::SlotMisuseError>())?;
    breaker::fleet::register(m)?; // resilience.redis (issue 12)
    clock::init(m.py())?;
    add_defaults(m)
}
