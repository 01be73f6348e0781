//! One retry configuration as the native synchronous loop holds it: the
//! policy, the user's callbacks, the sleep and the deadline's clock, and
//! the loop run over them. `@retry`'s decorated function
//! (`RetryingFunction`), an executor's `execute_sync` (`RetryRunner`) and
//! a native pipeline's retry each keep one, so all take the same path.

use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::clock::PyClock;
use crate::events::Listeners;
use crate::policy::RetryPolicyCore;
use crate::retry_sync::{after_first_error, deadline_clock, given, run_with, Spec};

/// What a native retry loop holds besides the function it calls.
pub(crate) struct RetrySetup {
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

impl RetrySetup {
    /// `sleep=None` sleeps natively with the GIL released, `time_source=None`
    /// reads the deadline from `time.monotonic`.
    pub(crate) fn new(
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

    /// Runs `func(*args, **kwargs)` with retries; `cleared` is the error
    /// once the garbage collector has cleared this setup. Inlined: it is the
    /// whole success path of `@retry` and `execute_sync`.
    #[inline]
    pub(crate) fn run<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
        cleared: &'static str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = func.py();
        if self.policy.is_none() {
            return Err(pyo3::exceptions::PyReferenceError::new_err(cleared));
        }
        let mut attempt = || func.call(args, kwargs);
        // The success path of a policy that needs nothing before the first
        // call: the call alone, nothing built.
        let first = if self.eager {
            None
        } else {
            match attempt() {
                Ok(value) => return Ok(value),
                Err(first) => Some(first),
            }
        };
        let Some(spec) = self.spec(py, None, false) else {
            return Err(pyo3::exceptions::PyReferenceError::new_err(cleared)); // checked above
        };
        match first {
            Some(first) => after_first_error(&spec, py, &mut attempt, first),
            None => run_with(&spec, py, &mut attempt),
        }
    }

    /// The loop's view of this setup; `pipeline` is a pipeline's listener
    /// and `library` whether the library's own errors are judged by core's
    /// rule (inside a pipeline). `None` once cleared.
    pub(crate) fn spec<'a, 'py>(
        &'a self,
        py: Python<'py>,
        pipeline: Option<&'a Bound<'py, PyAny>>,
        library: bool,
    ) -> Option<Spec<'a, 'py>> {
        Some(Spec {
            core: self.policy.as_ref()?.get(),
            retryable: self.retryable.as_ref().map(|v| v.bind(py)),
            on_retry: self.on_retry.as_ref().map(|v| v.bind(py)),
            sleep: self.sleep.as_ref().map(|v| v.bind(py)),
            listeners: Listeners {
                own: self.on_event.as_ref().map(|v| v.bind(py)),
                pipeline,
            },
            clock: self.clock.as_ref(),
            library,
        })
    }

    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
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

    pub(crate) fn clear(&mut self) {
        self.policy = None;
        self.retryable = None;
        self.on_retry = None;
        self.sleep = None;
        self.on_event = None;
        self.clock = None;
    }
}
