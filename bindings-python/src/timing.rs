//! Timeouts, hedging and the pipeline's rules (issue 10) for the `async
//! def` drivers written in Python: the sans-IO decisions of core's
//! `Timeout`/`Deadline`, `HedgingState`, rule `pipeline_order` and rule
//! `library_errors`. Python owns the I/O (tasks, timers, cancellation).

use std::time::Duration;

use pyo3::exceptions::{PyException, PyTimeoutError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use resilience_core::rules::{self, Unit};
use resilience_core::{
    Deadline, HedgeOutcome, HedgeStep, HedgingConfig, HedgingState, LibraryError, StrategyKind, Timeout,
};

use crate::errors::{config_error, config_error_given};
use crate::retry_state::judge_value;
use crate::value::{self, value_of};

/// A clock reading in seconds through rule `clock_reading`.
fn reading(now: &Bound<'_, PyAny>) -> PyResult<Duration> {
    Ok(rules::clock_reading(value::reading_secs(now)?, Unit::Seconds))
}

/// Rule `timeout` on a number of seconds, named `parameter`; the validated
/// duration in seconds.
#[pyfunction]
pub(crate) fn timeout_seconds(parameter: &str, seconds: &Bound<'_, PyAny>) -> PyResult<f64> {
    let py = seconds.py();
    let name: &'static str = match parameter {
        "attempt_timeout" => "attempt_timeout",
        "total_timeout" => "total_timeout",
        _ => "timeout",
    };
    let d = rules::timeout(name, value_of(seconds), Unit::Seconds)
        .map_err(|e| config_error_given(py, &e, Some(seconds)))?;
    let timeout = Timeout::new(d).map_err(|e| config_error(py, &e))?;
    Ok(timeout.duration().as_secs_f64())
}

/// The sans-IO timeout decision of a call that started at clock reading
/// `start` (seconds) with a timeout of `seconds`.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct DeadlineCore {
    inner: Deadline,
}

#[pymethods]
impl DeadlineCore {
    #[new]
    fn new(seconds: &Bound<'_, PyAny>, start: &Bound<'_, PyAny>) -> PyResult<Self> {
        let timeout = value::seconds("timeout", seconds)?;
        Ok(Self {
            inner: Deadline::after(reading(start)?, timeout),
        })
    }

    /// Rule `timeout_expiry`: whether the call has timed out at `now`.
    fn expired(&self, now: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.expired(reading(now)?))
    }

    /// Time left at `now`, in nanoseconds (exact), zero once expired.
    fn remaining_ns(&self, now: &Bound<'_, PyAny>) -> PyResult<u128> {
        Ok(self.inner.remaining(reading(now)?).as_nanos())
    }

    /// Time left at `now`, in seconds.
    fn remaining(&self, now: &Bound<'_, PyAny>) -> PyResult<f64> {
        Ok(self.inner.remaining(reading(now)?).as_secs_f64())
    }
}

static TIMEOUT_MARK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The builtin `TimeoutError` a timeout raises: the message says which
/// timeout expired; `strategy` ("timeout", "total_timeout",
/// "attempt_timeout") and `timeout` (seconds) are attributes, so the
/// pipeline can tell it from a `TimeoutError` of the user's own.
#[pyfunction]
pub(crate) fn timeout_error<'py>(py: Python<'py>, strategy: &str, seconds: f64) -> PyResult<Bound<'py, PyAny>> {
    let error = PyTimeoutError::new_err(format!("{strategy} of {seconds}s expired"));
    let value = error.value(py).clone().into_any();
    value.setattr(intern!(py, "strategy"), strategy)?;
    value.setattr(intern!(py, "timeout"), seconds)?;
    let mark = TIMEOUT_MARK.get_or_init(py, || py.None());
    value.setattr(intern!(py, "_resilience"), mark.bind(py))?;
    Ok(value)
}

// ---- Hedging ---------------------------------------------------------------

/// A validated hedging configuration.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct HedgingCore {
    inner: HedgingConfig,
}

#[pymethods]
impl HedgingCore {
    #[new]
    fn new(hedge_delay: &Bound<'_, PyAny>, max_hedged_attempts: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = hedge_delay.py();
        let delay = value::seconds("hedge_delay", hedge_delay)?;
        let hedges = rules::hedged_attempts(value_of(max_hedged_attempts))
            .map_err(|e| config_error_given(py, &e, Some(max_hedged_attempts)))?;
        let inner = HedgingConfig::builder()
            .hedge_delay(delay)
            .max_hedged_attempts(hedges)
            .build()
            .map_err(|e| config_error(py, &e))?;
        Ok(Self { inner })
    }

    /// A fresh hedge.
    fn start(&self) -> HedgingStateCore {
        HedgingStateCore {
            inner: self.inner.start(),
            until: None,
        }
    }

    #[getter]
    fn hedge_delay(&self) -> f64 {
        self.inner.hedge_delay().as_secs_f64()
    }

    #[getter]
    fn max_hedged_attempts(&self) -> u32 {
        self.inner.max_hedged_attempts()
    }
}

/// Where a hedge stands (core's `HedgingState`).
#[pyclass(module = "resilience._core")]
pub(crate) struct HedgingStateCore {
    inner: HedgingState,
    until: Option<f64>,
}

#[pymethods]
impl HedgingStateCore {
    /// Rule `hedge_timing` at clock reading `now`: the attempt to start
    /// (> 0), 0 to wait (until `until`, or `None`: until an attempt ends),
    /// or -1 when the hedge is over.
    fn next(&mut self, now: &Bound<'_, PyAny>) -> PyResult<i64> {
        Ok(match self.inner.next(reading(now)?) {
            HedgeStep::Launch { attempt } => i64::from(attempt),
            HedgeStep::Wait { until } => {
                self.until = until.map(|d| d.as_secs_f64());
                0
            }
            _ => -1,
        })
    }

    /// Where the last `Wait` said the next copy is due (seconds), if anywhere.
    #[getter]
    fn until(&self) -> Option<f64> {
        self.until
    }

    /// Rule `hedge_outcome`: attempt `attempt` ended at `now`; `accepted`
    /// says whether its answer is acceptable. `"won"`, `"continue"`,
    /// `"all_failed"` or `"ignored"`.
    fn on_outcome(&mut self, attempt: u32, accepted: bool, now: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        Ok(match self.inner.on_outcome(attempt, accepted, reading(now)?) {
            HedgeOutcome::Won { .. } => "won",
            HedgeOutcome::Continue => "continue",
            HedgeOutcome::AllFailed { .. } => "all_failed",
            _ => "ignored",
        })
    }

    /// Attempts started so far.
    #[getter]
    fn launched(&self) -> u32 {
        self.inner.launched()
    }
}

/// Whether a hedged copy's returned `value` is an answer: asks
/// `failure_on_result(value)`; a predicate that raises an `Exception`
/// accepts the value (core's rule `failing_predicate`; reported to
/// `sys.unraisablehook`); anything else it raises propagates.
#[pyfunction]
pub(crate) fn hedge_accepts(failure_on_result: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(!judge_value(failure_on_result, value)?.hedge_failed())
}

// ---- The pipeline's rules ----------------------------------------------------

/// Rule `pipeline_order` on strategy names, outer to inner: the names back
/// (validated), or a `ParameterValueError`/`ParameterTypeError` naming
/// `strategies` (`duplicate`, `out_of_order`) or `strategy`
/// (`unknown_name`, `wrong_type`).
#[pyfunction]
pub(crate) fn pipeline_order(names: &Bound<'_, PyAny>) -> PyResult<Vec<&'static str>> {
    let py = names.py();
    let values = names
        .try_iter()?
        .map(|n| n.map(|n| value_of(&n)))
        .collect::<PyResult<Vec<_>>>()?;
    let kinds = rules::pipeline_names(values).map_err(|e| config_error(py, &e))?;
    Ok(kinds.into_iter().map(StrategyKind::as_str).collect())
}

/// Whether a strategy needs a runtime that can abandon a running call
/// (timeouts, hedging): a blocking pipeline cannot hold it.
#[pyfunction]
pub(crate) fn needs_cancellation(py: Python<'_>, name: &str) -> PyResult<bool> {
    let kind: StrategyKind = name.parse().map_err(|e| config_error(py, &e))?;
    Ok(kind.needs_cancellation())
}

static OPEN_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FULL_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static LIMITED_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static THROTTLED_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Which error of the library `error` is, if any: an open breaker's
/// rejection, a timeout of this package, a full bulkhead, a rate limiter's
/// refusal, a shed request.
pub(crate) fn library_of(error: &Bound<'_, PyAny>) -> PyResult<Option<LibraryError>> {
    let py = error.py();
    if !error.is_instance_of::<PyException>() {
        return Ok(None);
    }
    let open = OPEN_ERROR.import(py, "resilience.errors", "CircuitBreakerOpenError")?;
    if error.is_instance(open)? {
        return Ok(Some(LibraryError::BreakerOpen));
    }
    if error.is_instance_of::<PyTimeoutError>() && error.hasattr(intern!(py, "_resilience"))? {
        return Ok(Some(LibraryError::TimedOut));
    }
    let full = FULL_ERROR.import(py, "resilience.errors", "BulkheadFullError")?;
    if error.is_instance(full)? {
        return Ok(Some(LibraryError::BulkheadFull));
    }
    let limited = LIMITED_ERROR.import(py, "resilience.errors", "RateLimitedError")?;
    if error.is_instance(limited)? {
        return Ok(Some(LibraryError::RateLimited));
    }
    let throttled = THROTTLED_ERROR.import(py, "resilience.errors", "ThrottledError")?;
    if error.is_instance(throttled)? {
        return Ok(Some(LibraryError::Throttled));
    }
    Ok(None)
}

/// A library error's name and how rule `library_errors` treats it:
/// `(name, retryable, counts_as_breaker_failure, falls_back, hedge_failed)`.
type LibraryRules = (&'static str, bool, bool, bool, bool);

/// Rule `library_errors` for `error`: `None` for the user's own error, else
/// `(name, retryable, counts_as_breaker_failure, falls_back, hedge_failed)`.
#[pyfunction]
pub(crate) fn library_error(error: &Bound<'_, PyAny>) -> PyResult<Option<LibraryRules>> {
    Ok(library_of(error)?.map(|kind| {
        (
            kind.as_str(),
            kind.retryable(),
            kind.counts_as_breaker_failure(),
            kind.falls_back(),
            kind.hedge_failed(),
        )
    }))
}
