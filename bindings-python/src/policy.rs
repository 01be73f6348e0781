//! `RetryPolicyCore`: the core's `RetryPolicy` behind the Python `RetryPolicy`.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use resilience_core::rules::{self, Unit};
use resilience_core::{parse_retry_after, RetryPolicy, Value};

use crate::clock::PyClock;
use crate::errors::{config_error, config_error_given};
use crate::filters::classify;
use crate::load::RetryBudgetCore;
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
    /// The retry budget's clock, read before every core call that may
    /// deposit or withdraw (a Python clock is never called from core).
    pub(crate) budget_clock: Option<Arc<PyClock>>,
    /// `retry_on_result`: a predicate on a returned value (`None`: every
    /// value is accepted).
    pub(crate) retry_on_result: Option<Py<PyAny>>,
}

impl RetryPolicyCore {
    /// Reads the budget's clock, if the policy has a budget.
    pub(crate) fn refresh_budget(&self, py: Python<'_>) -> PyResult<()> {
        match &self.budget_clock {
            Some(clock) => clock.refresh(py),
            None => Ok(()),
        }
    }

    /// [`refresh_budget`](Self::refresh_budget) after a user's call: a
    /// failing clock is reported, never raised in place of their outcome.
    pub(crate) fn refresh_budget_or_report(&self, py: Python<'_>) {
        if let Some(clock) = &self.budget_clock {
            clock.refresh_or_report(py);
        }
    }
}

#[pymethods]
impl RetryPolicyCore {
    /// Every value goes through core's rules, in the original's order
    /// (max_attempts, base_delay, max_delay, then the rest).
    #[new]
    #[pyo3(signature = (
        max_attempts, backoff, base_delay, max_delay, jitter, retryable_status_codes=None, seed=None, *,
        max_elapsed=None, attempt_timeout=None, budget=None, retry_on_result=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        max_attempts: &Bound<'_, PyAny>,
        backoff: &Bound<'_, PyAny>,
        base_delay: &Bound<'_, PyAny>,
        max_delay: &Bound<'_, PyAny>,
        jitter: &Bound<'_, PyAny>,
        retryable_status_codes: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        max_elapsed: Option<&Bound<'_, PyAny>>,
        attempt_timeout: Option<&Bound<'_, PyAny>>,
        budget: Option<&Bound<'_, RetryBudgetCore>>,
        retry_on_result: Option<&Bound<'_, PyAny>>,
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
        // Rule `optional`: None is no deadline, no attempt timeout.
        let max_elapsed = match max_elapsed {
            None => None,
            Some(v) => rules::optional(value_of(v), |v| rules::duration("max_elapsed", v, Unit::Seconds))
                .map_err(|e| config_error_given(py, &e, Some(v)))?,
        };
        let attempt_timeout = match attempt_timeout {
            None => None,
            Some(v) => rules::optional(value_of(v), |v| rules::timeout("attempt_timeout", v, Unit::Seconds))
                .map_err(|e| config_error_given(py, &e, Some(v)))?,
        };
        let mut builder = RetryPolicy::builder()
            .max_attempts(attempts)
            .backoff(backoff)
            .base_delay(base)
            .max_delay(max)
            .jitter(jitter)
            .maybe_seed(seed)
            .maybe_max_elapsed(max_elapsed)
            .maybe_attempt_timeout(attempt_timeout);
        if let Some(codes) = codes {
            builder = builder.retryable_status_codes(codes);
        }
        if let Some(budget) = budget {
            builder = builder.budget(budget.get().budget.clone());
        }
        let inner = builder.build().map_err(|e| config_error(py, &e))?;
        Ok(Self {
            inner,
            budget_clock: budget.map(|b| b.get().clock.clone()),
            retry_on_result: retry_on_result.filter(|p| !p.is_none()).map(|p| p.clone().unbind()),
        })
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

    /// A fresh retry sequence over this policy (with a budget, the first
    /// attempt's deposit); `now` is the clock reading when attempt 1
    /// starts (the deadline counts from it; `None`: the waits alone).
    #[pyo3(signature = (now=None))]
    fn start(slf: &Bound<'_, Self>, now: Option<&Bound<'_, PyAny>>) -> PyResult<RetryStateCore> {
        let py = slf.py();
        let now = now
            .filter(|n| !n.is_none())
            .map(|n| value::reading_secs(n))
            .transpose()?;
        let policy = slf.get();
        policy.refresh_budget(py)?;
        let state = match now {
            Some(now) => policy.inner.start_at(rules::clock_reading(now, Unit::Seconds)),
            None => policy.inner.start(),
        };
        Ok(RetryStateCore::new(slf.clone().unbind(), state))
    }

    /// The deadline of a whole sequence in seconds (`None`: none).
    #[getter]
    fn max_elapsed(&self) -> Option<f64> {
        self.inner.max_elapsed().map(|d| d.as_secs_f64())
    }

    /// How long one attempt may take in seconds (`None`: no limit).
    #[getter]
    fn attempt_timeout(&self) -> Option<f64> {
        self.inner.attempt_timeout().map(|d| d.as_secs_f64())
    }

    /// Whether the policy draws on a retry budget.
    #[getter]
    fn has_budget(&self) -> bool {
        self.inner.budget().is_some()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // The budget's clock is shared with the budget object, which visits it.
        visit.call(&self.retry_on_result)
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
