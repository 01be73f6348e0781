//! The synchronous retry loop, run natively: call the user's function,
//! classify its exception with `isinstance` (or its returned value with
//! `retry_on_result`), ask the core's `RetryState`, tell the listener, call
//! `on_retry`, sleep (GIL released), try again.
//!
//! The success path of a policy without a budget, a deadline or a result
//! predicate is one call of the user's function with the caller's own
//! argument tuple and keyword dict: no allocation, no clock, no logging work.

use std::time::Duration;

use pyo3::exceptions::{PyException, PyReferenceError};
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use resilience_core::rules::PredicateOutcome;
use resilience_core::{Clock, GiveUpReason, RetryDecision, RetryState};

use crate::checks::require_callable;
use crate::clock::PyClock;
use crate::events::{self, Listeners};
use crate::filters::classify;
use crate::logs::{self, ERROR, INFO, WARNING};
use crate::policy::RetryPolicyCore;
use crate::retry_setup::RetrySetup;
use crate::retry_state::{judge_value, library_hint};
use crate::sleep::sleep_released;
use crate::timing::library_of;

/// What one retry loop needs besides the function.
pub(crate) struct Spec<'a, 'py> {
    pub(crate) core: &'a RetryPolicyCore,
    pub(crate) retryable: Option<&'a Bound<'py, PyAny>>,
    pub(crate) on_retry: Option<&'a Bound<'py, PyAny>>,
    pub(crate) sleep: Option<&'a Bound<'py, PyAny>>,
    pub(crate) listeners: Listeners<'a, 'py>,
    /// The clock the deadline (`max_elapsed`) is read from; `None` without
    /// a deadline.
    pub(crate) clock: Option<&'a PyClock>,
    /// Inside a pipeline: the library's own errors are judged by rule
    /// `library_errors`, not by the user's filter.
    pub(crate) library: bool,
}

/// How an attempt ended.
enum Outcome<'py> {
    Error(PyErr),
    Value(Bound<'py, PyAny>),
}

impl<'py> Spec<'_, 'py> {
    /// Whether a sequence must start before attempt 1: a budget's deposit,
    /// a deadline's start reading, or a result predicate's state.
    fn eager(&self) -> bool {
        self.clock.is_some() || self.core.budget_clock.is_some() || self.core.retry_on_result.is_some()
    }

    fn start(&self, py: Python<'py>) -> PyResult<RetryState> {
        self.core.refresh_budget(py)?;
        Ok(match self.clock {
            Some(clock) => {
                clock.refresh(py)?;
                self.core.inner.start_at(clock.now())
            }
            None => self.core.inner.start(),
        })
    }

    /// The clock reading after an attempt (a failing clock is reported,
    /// never raised in place of the user's outcome).
    fn now(&self, py: Python<'py>) -> Option<Duration> {
        self.core.refresh_budget_or_report(py);
        self.clock.map(|clock| {
            clock.refresh_or_report(py);
            clock.now()
        })
    }
}

pub(crate) fn run<'py>(
    spec: &Spec<'_, 'py>,
    func: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    run_with(spec, func.py(), &mut || func.call(args, kwargs))
}

/// The loop over any attempt: the user's function, or a pipeline's inside
/// (its breaker, natively).
pub(crate) fn run_with<'py>(
    spec: &Spec<'_, 'py>,
    py: Python<'py>,
    attempt: &mut dyn FnMut() -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    if !spec.eager() {
        return match attempt() {
            Ok(value) => Ok(value),
            Err(first) => after_first_error(spec, py, attempt, first),
        };
    }
    let state = spec.start(py)?;
    let first = match attempt() {
        Ok(value) if spec.core.retry_on_result.is_none() => return Ok(value),
        Ok(value) => Outcome::Value(value),
        Err(error) => Outcome::Error(error),
    };
    retry_after_failure(spec, py, state, attempt, first)
}

/// The first attempt of a sequence that needed nothing before it raised.
#[cold]
pub(crate) fn after_first_error<'py>(
    spec: &Spec<'_, 'py>,
    py: Python<'py>,
    attempt: &mut dyn FnMut() -> PyResult<Bound<'py, PyAny>>,
    first: PyErr,
) -> PyResult<Bound<'py, PyAny>> {
    let state = spec.start(py)?;
    retry_after_failure(spec, py, state, attempt, Outcome::Error(first))
}

#[cold]
fn retry_after_failure<'py>(
    spec: &Spec<'_, 'py>,
    py: Python<'py>,
    mut state: RetryState,
    attempt: &mut dyn FnMut() -> PyResult<Bound<'py, PyAny>>,
    first: Outcome<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let policy = &spec.core.inner;
    let max_attempts = policy.max_attempts();
    let predicate = spec.core.retry_on_result.as_ref().map(|p| p.bind(py));
    let mut outcome = first;
    loop {
        let decision = match &outcome {
            Outcome::Value(value) => {
                let Some(predicate) = predicate else {
                    return Ok(value.clone());
                };
                let judged = judge_value(predicate, value)?;
                let now = spec.now(py);
                match state.on_result(policy, || judged, None, now) {
                    None => return Ok(value.clone()),
                    Some(decision) => decision,
                }
            }
            Outcome::Error(error) => {
                // KeyboardInterrupt, SystemExit, GeneratorExit and
                // CancelledError are not `Exception`s: never retried, never
                // swallowed.
                if !error.is_instance_of::<PyException>(py) {
                    return Err(error.clone_ref(py));
                }
                let now = spec.now(py);
                let library = if spec.library {
                    library_of(error.value(py))?
                } else {
                    None
                };
                match library {
                    Some(kind) => {
                        let hint = library_hint(error.value(py), kind);
                        match now {
                            Some(now) => state.on_failure_at(policy, kind.retryable(), hint, now),
                            None => state.on_failure_with_hint(policy, kind.retryable(), hint),
                        }
                    }
                    None => {
                        // Rule `predicate_on_last_attempt`: the filter is asked
                        // only when an attempt is left; rule `failing_predicate`:
                        // a filter that raises means "not retryable" (its
                        // exception goes to sys.unraisablehook).
                        let mut interrupt = None;
                        let classify = || match spec.retryable {
                            None => PredicateOutcome::Yes,
                            Some(filter) => classify(error.value(py), filter).unwrap_or_else(|e| {
                                interrupt = Some(e);
                                PredicateOutcome::Failed
                            }),
                        };
                        let decision = match now {
                            Some(now) => state.on_failure_classified_at(policy, classify, None, now),
                            None => state.on_failure_classified(policy, classify, None),
                        };
                        if let Some(interrupt) = interrupt {
                            return Err(interrupt);
                        }
                        decision
                    }
                }
            }
        };
        let (cause, error, result) = match &outcome {
            Outcome::Error(e) => (
                e.value(py).clone().into_any(),
                Some(e.value(py).clone().into_any()),
                None,
            ),
            Outcome::Value(v) => (v.clone(), None, Some(v.clone())),
        };
        match decision {
            RetryDecision::GiveUp { attempts, reason } => {
                if reason == GiveUpReason::Exhausted {
                    logs::emit(py, ERROR, "retry_exhausted", (max_attempts, &cause))?;
                }
                spec.listeners.deliver(py, || events::gave_up(py, attempts, reason))?;
                return match outcome {
                    // The user's exception object, its traceback intact.
                    Outcome::Error(error) => Err(error),
                    // Out of retries on a value: the last one is the answer.
                    Outcome::Value(value) => Ok(value),
                };
            }
            RetryDecision::Retry { attempt, delay } => {
                let seconds = delay.as_secs_f64();
                logs::emit(py, INFO, "retry_attempt", (attempt, max_attempts, seconds, &cause))?;
                spec.listeners.deliver(py, || {
                    events::retry_scheduled(py, attempt, seconds, error.as_ref(), result.as_ref())
                })?;
                if let Some(callback) = spec.on_retry {
                    notify(callback, attempt, &cause)?;
                }
                match spec.sleep {
                    Some(sleep) => {
                        sleep.call1((seconds,))?;
                    }
                    None => sleep_released(py, delay)?,
                }
            }
            // A decision this release does not know: stop, surfacing the outcome.
            _ => {
                return match outcome {
                    Outcome::Error(error) => Err(error),
                    Outcome::Value(value) => Ok(value),
                }
            }
        }
        outcome = match attempt() {
            Ok(value) => Outcome::Value(value),
            Err(e) => Outcome::Error(e),
        };
    }
}

/// Calls `on_retry(attempt, cause)` (the error, or the value judged a
/// failure); an `Exception` it raises is logged and ignored (as in the
/// original), anything else propagates.
fn notify(callback: &Bound<'_, PyAny>, attempt: u32, cause: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = callback.py();
    if !callback.is_truthy()? {
        return Ok(());
    }
    match callback.call1((attempt, cause)) {
        Ok(_) => Ok(()),
        Err(e) if e.is_instance_of::<PyException>(py) => {
            logs::emit(py, WARNING, "retry_callback_failed", (e.value(py),))
        }
        Err(e) => Err(e),
    }
}

/// `None` stands for "not given" in every optional argument.
pub(crate) fn given<'a, 'py>(value: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    value.filter(|v| !v.is_none())
}

/// The deadline's clock: the executor's `time_source` (else
/// `time.monotonic`), only for a policy with `max_elapsed`.
pub(crate) fn deadline_clock(policy: &RetryPolicyCore, time_source: Option<&Bound<'_, PyAny>>) -> Option<PyClock> {
    policy
        .inner
        .max_elapsed()
        .map(|_| PyClock::new(given(time_source).map(|t| t.clone().unbind())))
}

/// Runs `func(*args, **kwargs)` with retries: the engine of
/// `RetryExecutor.execute_sync` (and of a pipeline's retry). `sleep=None`
/// sleeps natively with the GIL released; otherwise `sleep(seconds)` is
/// called with the GIL held. A non-callable `func` is a `TypeError` at once
/// (never retried).
#[pyfunction]
#[pyo3(signature = (policy, retryable, on_retry, sleep, func, args, kwargs=None, *, on_event=None, pipeline_event=None, time_source=None, library=false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn retry_call<'py>(
    policy: &Bound<'py, RetryPolicyCore>,
    retryable: Option<&Bound<'py, PyAny>>,
    on_retry: Option<&Bound<'py, PyAny>>,
    sleep: Option<&Bound<'py, PyAny>>,
    func: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
    on_event: Option<&Bound<'py, PyAny>>,
    pipeline_event: Option<&Bound<'py, PyAny>>,
    time_source: Option<&Bound<'py, PyAny>>,
    library: bool,
) -> PyResult<Bound<'py, PyAny>> {
    require_callable("func", func)?;
    let core = policy.get();
    let clock = deadline_clock(core, time_source);
    let spec = Spec {
        core,
        retryable: given(retryable),
        on_retry: given(on_retry),
        sleep: given(sleep),
        listeners: Listeners {
            own: given(on_event),
            pipeline: given(pipeline_event),
        },
        clock: clock.as_ref(),
        library,
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
    setup: RetrySetup,
}

#[pymethods]
impl RetryingFunction {
    #[new]
    #[pyo3(signature = (func, policy, retryable=None, on_retry=None, sleep=None, *, on_event=None, time_source=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        func: &Bound<'_, PyAny>,
        policy: &Bound<'_, RetryPolicyCore>,
        retryable: Option<&Bound<'_, PyAny>>,
        on_retry: Option<&Bound<'_, PyAny>>,
        sleep: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
        time_source: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // Rejected when decorating, not when the first call fails.
        require_callable("func", func)?;
        if let Some(on_event) = given(on_event) {
            require_callable("on_event", on_event)?;
        }
        Ok(Self {
            func: Some(func.clone().unbind()),
            setup: RetrySetup::new(policy, retryable, on_retry, sleep, on_event, time_source),
        })
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Some(func) = &self.func else {
            return Err(PyReferenceError::new_err("the decorated function was cleared"));
        };
        self.setup
            .run(func.bind(py), args, kwargs, "the decorated function was cleared")
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
        self.setup.traverse(&visit)
    }

    fn __clear__(&mut self) {
        self.func = None;
        self.setup.clear();
    }
}
