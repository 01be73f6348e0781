//! `RetryExecutor.execute_sync`, bound natively to one executor's settings.
//!
//! The method form used to be a Python method that repacked its arguments
//! and called `retry_call` with eleven parameters to parse: ~5× the
//! overhead of the `@retry` decorator for the same decision (issue 13).
//! The executor now keeps one of these per instance (its bound method
//! `execute_sync`), built from its policy,
//! callbacks, sleep and clock (and rebuilt when one of them is assigned), so
//! `executor.execute_sync(f, ...)` is one native call, exactly as a
//! decorated function is. The loop is the decorator's own (`retry_sync`).

use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::checks::require_callable;
use crate::clock::PyClock;
use crate::events::Listeners;
use crate::policy::RetryPolicyCore;
use crate::retry_sync::{after_first_error, deadline_clock, given, run_with, Spec};

/// `execute_sync(func, *args, **kwargs)` of one executor.
#[pyclass(module = "resilience.retry")]
pub(crate) struct RetryRunner {
    policy: Option<Py<RetryPolicyCore>>,
    retryable: Option<Py<PyAny>>,
    on_retry: Option<Py<PyAny>>,
    sleep: Option<Py<PyAny>>,
    on_event: Option<Py<PyAny>>,
    clock: Option<PyClock>,
    /// Whether a sequence starts before the first call (a budget, a
    /// deadline, a result predicate); otherwise the success path is the
    /// function's call alone.
    eager: bool,
}

fn kept(value: Option<&Bound<'_, PyAny>>) -> Option<Py<PyAny>> {
    given(value).map(|v| v.clone().unbind())
}

#[pymethods]
impl RetryRunner {
    /// The arguments of `retry_call` but the function's: `sleep=None`
    /// sleeps natively with the GIL released, `time_source=None` reads the
    /// deadline from `time.monotonic`.
    #[new]
    #[pyo3(signature = (policy, retryable=None, on_retry=None, sleep=None, *, on_event=None, time_source=None))]
    fn new(
        policy: &Bound<'_, RetryPolicyCore>,
        retryable: Option<&Bound<'_, PyAny>>,
        on_retry: Option<&Bound<'_, PyAny>>,
        sleep: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
        time_source: Option<&Bound<'_, PyAny>>,
    ) -> Self {
        let core = policy.get();
        Self {
            policy: Some(policy.clone().unbind()),
            retryable: kept(retryable),
            on_retry: kept(on_retry),
            sleep: kept(sleep),
            on_event: kept(on_event),
            eager: core.inner.max_elapsed().is_some() || core.budget_clock.is_some() || core.retry_on_result.is_some(),
            clock: deadline_clock(core, time_source),
        }
    }

    /// Runs `func(*args, **kwargs)` with retries; a non-callable `func` is
    /// a `TypeError` at once (never retried). A method, not `__call__`: the
    /// executor keeps this bound method, which Python calls with the fast
    /// (vectorcall) convention: no argument tuple built for the call.
    #[pyo3(signature = (func, *args, **kwargs))]
    fn execute_sync<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = func.py();
        require_callable("func", func)?;
        let Some(policy) = &self.policy else {
            return Err(pyo3::exceptions::PyReferenceError::new_err(
                "the executor's runner was cleared",
            ));
        };
        let mut attempt = || func.call(args, kwargs);
        // The success path of a policy that needs nothing before the first
        // call: the call alone, nothing built (as `@retry`).
        let first = if self.eager {
            None
        } else {
            match attempt() {
                Ok(value) => return Ok(value),
                Err(first) => Some(first),
            }
        };
        let spec = Spec {
            core: policy.get(),
            retryable: self.retryable.as_ref().map(|v| v.bind(py)),
            on_retry: self.on_retry.as_ref().map(|v| v.bind(py)),
            sleep: self.sleep.as_ref().map(|v| v.bind(py)),
            listeners: Listeners {
                own: self.on_event.as_ref().map(|v| v.bind(py)),
                pipeline: None,
            },
            clock: self.clock.as_ref(),
            library: false,
        };
        match first {
            Some(first) => after_first_error(&spec, py, &mut attempt, first),
            None => run_with(&spec, py, &mut attempt),
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.policy)?;
        visit.call(&self.retryable)?;
        visit.call(&self.on_retry)?;
        visit.call(&self.sleep)?;
        visit.call(&self.on_event)?;
        if let Some(clock) = &self.clock {
            visit.call(clock.user_source())?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.policy = None;
        self.retryable = None;
        self.on_retry = None;
        self.sleep = None;
        self.on_event = None;
        self.clock = None;
    }
}
