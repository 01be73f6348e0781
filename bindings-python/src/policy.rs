//! `RetryPolicyCore`: the core's `RetryPolicy` behind the Python `RetryPolicy`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use resilience_core::rules::{self, Unit};
use resilience_core::{parse_retry_after, RetryPolicy, Value};

use crate::errors::{config_error, config_error_given};
use crate::filters::classify;
use crate::retry_state::RetryStateCore;
use crate::value::{self, value_of};

/// Rule `status_codes` on a Python collection (a `set`, a `list`, any
/// iterable but text, which is one value, not a collection of them).
fn status_codes(codes: &Bound<'_, PyAny>) -> PyResult<Vec<u16>> {
    let py = codes.py();
    let not_a_collection = || config_error(py, &rules::status_codes_not_a_collection(value_of(codes)));
    if codes.is_instance_of::<PyString>() || codes.is_instance_of::<PyBytes>() {
        return Err(not_a_collection());
    }
    let items = match codes.try_iter() {
        Ok(items) => items,
        Err(e) if e.is_instance_of::<PyTypeError>(py) => return Err(not_a_collection()),
        Err(e) => return Err(e),
    };
    let values = items
        .map(|item| item.map(|i| value_of(&i)))
        .collect::<PyResult<Vec<Value>>>()?;
    rules::status_codes(values).map_err(|e| config_error(py, &e))
}

/// A validated retry policy. The Python `RetryPolicy` keeps the user's
/// values for `repr`/equality and asks this object for every decision.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct RetryPolicyCore {
    pub(crate) inner: RetryPolicy,
}

#[pymethods]
impl RetryPolicyCore {
    /// Every value goes through core's rules, in the original's order
    /// (max_attempts, base_delay, max_delay, then the rest).
    #[new]
    #[pyo3(signature = (max_attempts, backoff, base_delay, max_delay, jitter, retryable_status_codes=None, seed=None))]
    fn new(
        max_attempts: &Bound<'_, PyAny>,
        backoff: &Bound<'_, PyAny>,
        base_delay: &Bound<'_, PyAny>,
        max_delay: &Bound<'_, PyAny>,
        jitter: &Bound<'_, PyAny>,
        retryable_status_codes: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = max_attempts.py();
        let attempts = value::count("max_attempts", max_attempts)?;
        let base = value::seconds("base_delay", base_delay)?;
        let max = value::seconds("max_delay", max_delay)?;
        rules::at_least_duration("max_delay", max, "base_delay", base).map_err(|e| config_error(py, &e))?;
        let backoff = rules::backoff(value_of(backoff)).map_err(|e| config_error_given(py, &e, Some(backoff)))?;
        let jitter = rules::jitter(value_of(jitter)).map_err(|e| config_error_given(py, &e, Some(jitter)))?;
        let codes = retryable_status_codes
            .filter(|c| !c.is_none())
            .map(status_codes)
            .transpose()?;
        let seed = match seed {
            None => None,
            Some(seed) => rules::seed(value_of(seed)).map_err(|e| config_error_given(py, &e, Some(seed)))?,
        };
        let mut builder = RetryPolicy::builder()
            .max_attempts(attempts)
            .backoff(backoff)
            .base_delay(base)
            .max_delay(max)
            .jitter(jitter)
            .maybe_seed(seed);
        if let Some(codes) = codes {
            builder = builder.retryable_status_codes(codes);
        }
        let inner = builder.build().map_err(|e| config_error(py, &e))?;
        Ok(Self { inner })
    }

    /// The jittered delay in seconds after failed attempt `attempt`.
    fn calculate_delay(&self, attempt: &Bound<'_, PyAny>) -> PyResult<f64> {
        Ok(self.inner.calculate_delay(value::attempt(attempt)?).as_secs_f64())
    }

    /// Whether to retry `error` after failed attempt `attempt`, given the
    /// exception filter `retryable_errors` (`None`: every error). A filter
    /// that raises means "not retryable" (reported to `sys.unraisablehook`).
    #[pyo3(signature = (error, attempt, retryable_errors=None))]
    fn should_retry(
        &self,
        error: &Bound<'_, PyAny>,
        attempt: &Bound<'_, PyAny>,
        retryable_errors: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let attempt = value::attempt(attempt)?;
        let retryable = match retryable_errors.filter(|f| !f.is_none()) {
            None => true,
            Some(filter) => classify(error, filter)?.retryable(),
        };
        Ok(self.inner.should_retry(attempt, retryable))
    }

    /// Whether to retry a response whose `status` attribute is `status`
    /// after attempt `attempt` (rule `response_status`: a status that is no
    /// integer is never retried).
    fn should_retry_status(&self, status: &Bound<'_, PyAny>, attempt: &Bound<'_, PyAny>) -> PyResult<bool> {
        let attempt = value::attempt(attempt)?;
        Ok(rules::response_status(&value_of(status)).is_some_and(|s| self.inner.should_retry_status(s, attempt)))
    }

    /// The wait in seconds a `Retry-After` header value asks for, capped at
    /// `max_delay`, given the wall clock as seconds since the UNIX epoch;
    /// `None` when the value is neither delta-seconds nor an HTTP-date.
    fn retry_after_hint(&self, header: &str, now_unix: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
        let now = rules::clock_reading(value::reading_secs(now_unix)?, Unit::Seconds);
        Ok(parse_retry_after(header, now).map(|hint| self.inner.cap_retry_after(hint).as_secs_f64()))
    }

    /// A fresh retry sequence over this policy.
    fn start(slf: Py<Self>) -> RetryStateCore {
        RetryStateCore::new(slf)
    }

    /// Total attempts allowed.
    #[getter]
    fn max_attempts(&self) -> u32 {
        self.inner.max_attempts()
    }

    /// The backoff strategy's name (`"exponential"`...).
    #[getter]
    fn backoff(&self) -> &'static str {
        self.inner.backoff().as_str()
    }

    /// The jitter mode's name (`"none"`, `"proportional"`...).
    #[getter]
    fn jitter(&self) -> &'static str {
        self.inner.jitter().as_str()
    }
}
