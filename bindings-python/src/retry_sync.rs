//! The synchronous retry loop, run natively: call the user's function,
//! classify its exception with `isinstance`, ask the core's `RetryState`,
//! call `on_retry`, sleep (GIL released), try again.
//!
//! The success path is one call of the user's function with the caller's
//! own argument tuple and keyword dict: no allocation, no logging work.

use pyo3::exceptions::{PyException, PyReferenceError};
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use resilience_core::rules::PredicateOutcome;
use resilience_core::{GiveUpReason, RetryDecision, RetryPolicy, RetryState};

use crate::checks::require_callable;
use crate::filters::classify;
use crate::logs::{self, ERROR, INFO, WARNING};
use crate::policy::RetryPolicyCore;
use crate::sleep::sleep_released;

/// What one retry loop needs besides the function.
struct Spec<'a, 'py> {
    policy: &'a RetryPolicy,
    retryable: Option<&'a Bound<'py, PyAny>>,
    on_retry: Option<&'a Bound<'py, PyAny>>,
    sleep: Option<&'a Bound<'py, PyAny>>,
}

fn run<'py>(
    spec: &Spec<'_, 'py>,
    func: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    match func.call(args, kwargs) {
        Ok(value) => Ok(value),
        Err(first) => retry_after_failure(spec, func, args, kwargs, first),
    }
}

#[cold]
fn retry_after_failure<'py>(
    spec: &Spec<'_, 'py>,
    func: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
    first: PyErr,
) -> PyResult<Bound<'py, PyAny>> {
    let py = func.py();
    let max_attempts = spec.policy.max_attempts();
    let mut state = RetryState::new();
    let mut error = first;
    loop {
        // KeyboardInterrupt, SystemExit, GeneratorExit and CancelledError are
        // not `Exception`s: never retried, never swallowed.
        if !error.is_instance_of::<PyException>(py) {
            return Err(error);
        }
        // Rule `predicate_on_last_attempt`: the filter is asked only when an
        // attempt is left; rule `failing_predicate`: a filter that raises
        // means "not retryable" (its exception goes to sys.unraisablehook).
        let mut interrupt = None;
        let decision = state.on_failure_classified(
            spec.policy,
            || match spec.retryable {
                None => PredicateOutcome::Yes,
                Some(filter) => classify(error.value(py), filter).unwrap_or_else(|e| {
                    interrupt = Some(e);
                    PredicateOutcome::Failed
                }),
            },
            None,
        );
        if let Some(interrupt) = interrupt {
            return Err(interrupt);
        }
        match decision {
            RetryDecision::GiveUp { reason, .. } => {
                if reason == GiveUpReason::Exhausted {
                    logs::emit(py, ERROR, "retry_exhausted", (max_attempts, error.value(py)))?;
                }
                // The user's exception object, its traceback intact.
                return Err(error);
            }
            RetryDecision::Retry { attempt, delay } => {
                let seconds = delay.as_secs_f64();
                logs::emit(
                    py,
                    INFO,
                    "retry_attempt",
                    (attempt, max_attempts, seconds, error.value(py)),
                )?;
                if let Some(callback) = spec.on_retry {
                    notify(callback, attempt, &error)?;
                }
                match spec.sleep {
                    Some(sleep) => {
                        sleep.call1((seconds,))?;
                    }
                    None => sleep_released(py, delay)?,
                }
            }
            // A decision this release does not know: stop, raising the error.
            _ => return Err(error),
        }
        match func.call(args, kwargs) {
            Ok(value) => return Ok(value),
            Err(e) => error = e,
        }
    }
}

/// Calls `on_retry(attempt, error)`; an `Exception` it raises is logged and
/// ignored (as in the original), anything else propagates.
fn notify(callback: &Bound<'_, PyAny>, attempt: u32, error: &PyErr) -> PyResult<()> {
    let py = callback.py();
    if !callback.is_truthy()? {
        return Ok(());
    }
    match callback.call1((attempt, error.value(py))) {
        Ok(_) => Ok(()),
        Err(e) if e.is_instance_of::<PyException>(py) => {
            logs::emit(py, WARNING, "retry_callback_failed", (e.value(py),))
        }
        Err(e) => Err(e),
    }
}

/// `None` stands for "not given" in every optional argument.
fn given<'a, 'py>(value: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    value.filter(|v| !v.is_none())
}

/// Runs `func(*args, **kwargs)` with retries: the engine of
/// `RetryExecutor.execute_sync`. `sleep=None` sleeps natively with the GIL
/// released; otherwise `sleep(seconds)` is called with the GIL held. A
/// non-callable `func` is a `TypeError` at once (never retried).
#[pyfunction]
#[pyo3(signature = (policy, retryable, on_retry, sleep, func, args, kwargs=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn retry_call<'py>(
    policy: &Bound<'py, RetryPolicyCore>,
    retryable: Option<&Bound<'py, PyAny>>,
    on_retry: Option<&Bound<'py, PyAny>>,
    sleep: Option<&Bound<'py, PyAny>>,
    func: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    require_callable("func", func)?;
    let spec = Spec {
        policy: &policy.get().inner,
        retryable: given(retryable),
        on_retry: given(on_retry),
        sleep: given(sleep),
    };
    run(&spec, func, args, kwargs)
}

static METHOD_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The descriptor protocol of a plain function: looked up on an instance,
/// a wrapper becomes a bound method; on the class, it stays itself.
pub(crate) fn bind_method<'py>(
    wrapper: &Bound<'py, PyAny>,
    instance: Option<&Bound<'py, PyAny>>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let _ = owner;
    match given(instance) {
        None => Ok(wrapper.clone()),
        Some(instance) => {
            let method_type = METHOD_TYPE.import(wrapper.py(), "types", "MethodType")?;
            method_type.call1((wrapper, instance))
        }
    }
}

/// A function decorated with `@retry`: calling it runs the retry loop.
///
/// It carries a `__dict__` so `functools.wraps` can copy the function's
/// name, docstring and `__wrapped__`, and binds like a function when used
/// as a method.
#[pyclass(dict, weakref, module = "resilience.decorators")]
pub(crate) struct RetryingFunction {
    func: Option<Py<PyAny>>,
    policy: Option<Py<RetryPolicyCore>>,
    retryable: Option<Py<PyAny>>,
    on_retry: Option<Py<PyAny>>,
    sleep: Option<Py<PyAny>>,
}

fn unbound_none(value: Option<&Bound<'_, PyAny>>) -> Option<Py<PyAny>> {
    given(value).map(|v| v.clone().unbind())
}

#[pymethods]
impl RetryingFunction {
    #[new]
    #[pyo3(signature = (func, policy, retryable=None, on_retry=None, sleep=None))]
    fn new(
        func: &Bound<'_, PyAny>,
        policy: &Bound<'_, RetryPolicyCore>,
        retryable: Option<&Bound<'_, PyAny>>,
        on_retry: Option<&Bound<'_, PyAny>>,
        sleep: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // Rejected when decorating, not when the first call fails.
        require_callable("func", func)?;
        Ok(Self {
            func: Some(func.clone().unbind()),
            policy: Some(policy.clone().unbind()),
            retryable: unbound_none(retryable),
            on_retry: unbound_none(on_retry),
            sleep: unbound_none(sleep),
        })
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (Some(func), Some(policy)) = (&self.func, &self.policy) else {
            return Err(PyReferenceError::new_err("the decorated function was cleared"));
        };
        let retryable = self.retryable.as_ref().map(|v| v.bind(py));
        let on_retry = self.on_retry.as_ref().map(|v| v.bind(py));
        let sleep = self.sleep.as_ref().map(|v| v.bind(py));
        let spec = Spec {
            policy: &policy.get().inner,
            retryable,
            on_retry,
            sleep,
        };
        run(&spec, func.bind(py), args, kwargs)
    }

    /// Binds like a plain function: `obj.method` is a bound method.
    fn __get__<'py>(
        slf: &Bound<'py, Self>,
        instance: Option<&Bound<'py, PyAny>>,
        owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        bind_method(slf.as_any(), instance, owner)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.func)?;
        visit.call(&self.policy)?;
        visit.call(&self.retryable)?;
        visit.call(&self.on_retry)?;
        visit.call(&self.sleep)?;
        Ok(())
    }

    fn __clear__(&mut self) {
        self.func = None;
        self.policy = None;
        self.retryable = None;
        self.on_retry = None;
        self.sleep = None;
    }
}
