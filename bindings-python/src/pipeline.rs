//! A blocking pipeline of a retry around a breaker (either may be absent),
//! run natively: the retry loop calls the breaker's admission, the user's
//! function and the breaker's report without a Python frame in between,
//! so the composed call costs no more than the two nested by hand. Both
//! strategies judge the library's own errors by core's rule
//! `library_errors`; the pipeline's listener hears every event. Pipelines
//! with other strategies (fallback, bulkhead) compose in Python.

use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::breaker::SyncCircuitBreaker;
use crate::checks::require_callable;
use crate::policy::RetryPolicyCore;
use crate::retry_setup::RetrySetup;
use crate::retry_sync::{given, run_with};

/// `retry ∘ breaker`, `retry` or `breaker`, blocking.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct SyncPipelineCore {
    retry: Option<RetrySetup>,
    breaker: Option<Py<SyncCircuitBreaker>>,
    listener: Option<Py<PyAny>>,
}

fn owned(value: Option<&Bound<'_, PyAny>>) -> Option<Py<PyAny>> {
    given(value).map(|v| v.clone().unbind())
}

#[pymethods]
impl SyncPipelineCore {
    #[new]
    #[pyo3(signature = (listener, breaker=None, policy=None, retryable=None, on_retry=None, sleep=None, on_event=None, time_source=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        listener: Option<&Bound<'_, PyAny>>,
        breaker: Option<&Bound<'_, SyncCircuitBreaker>>,
        policy: Option<&Bound<'_, RetryPolicyCore>>,
        retryable: Option<&Bound<'_, PyAny>>,
        on_retry: Option<&Bound<'_, PyAny>>,
        sleep: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
        time_source: Option<&Bound<'_, PyAny>>,
    ) -> Self {
        Self {
            retry: policy.map(|policy| RetrySetup::new(policy, retryable, on_retry, sleep, on_event, time_source)),
            breaker: breaker.map(|b| b.clone().unbind()),
            listener: owned(listener),
        }
    }

    /// `execute_sync`, called as the object itself.
    #[pyo3(signature = (func, *args, **kwargs))]
    fn __call__<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.execute_sync(func, args, kwargs)
    }

    /// Runs `func(*args, **kwargs)` through the retry and the breaker. A
    /// method as well as `__call__`: the pipeline keeps this bound method as
    /// its `execute_sync`, which Python calls with the fast (vectorcall)
    /// convention (issue 13: no Python frame around the native call).
    #[pyo3(signature = (func, *args, **kwargs))]
    fn execute_sync<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = func.py();
        require_callable("func", func)?;
        let listener = self.listener.as_ref().map(|l| l.bind(py));
        let breaker = match &self.breaker {
            Some(b) => Some(b.get().inner()?),
            None => None,
        };
        let mut attempt = || match breaker {
            Some(inner) => inner.call(func, args, kwargs, listener, true),
            None => func.call(args, kwargs),
        };
        let Some(retry) = &self.retry else {
            return attempt();
        };
        let Some(spec) = retry.spec(py, listener, true) else {
            return Err(pyo3::exceptions::PyReferenceError::new_err(
                "the pipeline's retry was cleared",
            ));
        };
        run_with(&spec, py, &mut attempt)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(retry) = &self.retry {
            retry.traverse(&visit)?;
        }
        visit.call(&self.breaker)?;
        visit.call(&self.listener)
    }
}
