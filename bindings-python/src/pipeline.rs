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
use crate::clock::PyClock;
use crate::events::Listeners;
use crate::policy::RetryPolicyCore;
use crate::retry_sync::{deadline_clock, given, run_with, Spec};

/// The retry of a native pipeline: an executor's policy and callbacks.
struct RetryLayer {
    policy: Py<RetryPolicyCore>,
    retryable: Option<Py<PyAny>>,
    on_retry: Option<Py<PyAny>>,
    sleep: Option<Py<PyAny>>,
    on_event: Option<Py<PyAny>>,
    clock: Option<PyClock>,
}

/// `retry ∘ breaker`, `retry` or `breaker`, blocking.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct SyncPipelineCore {
    retry: Option<RetryLayer>,
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
            retry: policy.map(|policy| RetryLayer {
                clock: deadline_clock(policy.get(), time_source),
                policy: policy.clone().unbind(),
                retryable: owned(retryable),
                on_retry: owned(on_retry),
                sleep: owned(sleep),
                on_event: owned(on_event),
            }),
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
        let bind = |v: &Option<Py<PyAny>>| v.as_ref().map(|v| v.bind(py).clone());
        let (retryable, on_retry, sleep, on_event) = (
            bind(&retry.retryable),
            bind(&retry.on_retry),
            bind(&retry.sleep),
            bind(&retry.on_event),
        );
        let spec = Spec {
            core: retry.policy.get(),
            retryable: retryable.as_ref(),
            on_retry: on_retry.as_ref(),
            sleep: sleep.as_ref(),
            listeners: Listeners {
                own: on_event.as_ref(),
                pipeline: listener,
            },
            clock: retry.clock.as_ref(),
            library: true,
        };
        run_with(&spec, py, &mut attempt)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(retry) = &self.retry {
            visit.call(&retry.policy)?;
            visit.call(&retry.retryable)?;
            visit.call(&retry.on_retry)?;
            visit.call(&retry.sleep)?;
            visit.call(&retry.on_event)?;
            if let Some(clock) = &retry.clock {
                visit.call(clock.user_source())?;
            }
        }
        visit.call(&self.breaker)?;
        visit.call(&self.listener)
    }
}
