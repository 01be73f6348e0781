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
mod events;
mod fallback;
mod filters;
mod lease;
mod load;
mod logs;
mod pipeline;
mod policy;
mod retry_runner;
mod retry_setup;
mod retry_state;
mod retry_sync;
mod sleep;
mod timing;
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
    m.add("DEFAULT_TIMEOUT", secs(resilience_core::DEFAULT_TIMEOUT))?;
    m.add("DEFAULT_HEDGE_DELAY", secs(resilience_core::DEFAULT_HEDGE_DELAY))?;
    m.add(
        "DEFAULT_MAX_HEDGED_ATTEMPTS",
        resilience_core::DEFAULT_MAX_HEDGED_ATTEMPTS,
    )?;
    m.add("DEFAULT_BUDGET_TTL", secs(resilience_core::DEFAULT_BUDGET_TTL))?;
    m.add(
        "DEFAULT_MIN_RETRIES_PER_SEC",
        resilience_core::DEFAULT_MIN_RETRIES_PER_SEC,
    )?;
    m.add("DEFAULT_RETRY_RATIO", resilience_core::DEFAULT_RETRY_RATIO)?;
    m.add("DEFAULT_THROTTLE_K", resilience_core::DEFAULT_THROTTLE_K)?;
    m.add(
        "DEFAULT_THROTTLE_WINDOW",
        secs(resilience_core::DEFAULT_THROTTLE_WINDOW),
    )?;
    m.add("DEFAULT_RATE", resilience_core::DEFAULT_RATE)?;
    m.add("DEFAULT_PER", secs(resilience_core::DEFAULT_PER))?;
    m.add("DEFAULT_BURST", resilience_core::DEFAULT_BURST)?;
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
    m.add_class::<retry_runner::RetryRunner>()?;
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
    // Issues 10 and 11: timeouts, hedging, pipeline rules, events, load control.
    m.add_function(wrap_pyfunction!(timing::timeout_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(timing::timeout_error, m)?)?;
    m.add_class::<timing::DeadlineCore>()?;
    m.add_class::<timing::HedgingCore>()?;
    m.add_class::<timing::HedgingStateCore>()?;
    m.add_function(wrap_pyfunction!(timing::hedge_accepts, m)?)?;
    m.add_function(wrap_pyfunction!(timing::pipeline_order, m)?)?;
    m.add_function(wrap_pyfunction!(timing::needs_cancellation, m)?)?;
    m.add_function(wrap_pyfunction!(timing::library_error, m)?)?;
    m.add_function(wrap_pyfunction!(events::event_types, m)?)?;
    m.add_class::<pipeline::SyncPipelineCore>()?;
    m.add_class::<load::RetryBudgetCore>()?;
    m.add_class::<load::ThrottleCore>()?;
    m.add_class::<load::LimiterCore>()?;
    m.add("PermitMisuseError", m.py().get_type::<errors::PermitMisuseError>())?;
    m.add("SlotMisuseError", m.py().get_type::<errors::SlotMisuseError>())?;
    breaker::fleet::register(m)?; // resilience.redis (issue 12)
    lease::register(m)?; // shared limiters and budgets (issue 12)
    clock::init(m.py())?;
    add_defaults(m)
}
