//! Circuit breakers over the core's `CircuitBreaker`: `SyncCircuitBreaker`
//! (the whole `call` runs natively) and `BreakerCore`, the permit API the
//! Python `AsyncCircuitBreaker` drives.

use std::sync::OnceLock;

use pyo3::exceptions::{PyBaseException, PyException, PyRuntimeError};
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ConfigError, PermitToken, Rejected};

use crate::checks::{require_callable, require_exception_types};
use crate::clock::PyClock;
use crate::duration::duration_arg;
use crate::errors::config_error;
use crate::num::attempt_i64;

/// The original's message, kept for parity.
const OPEN_MESSAGE: &str = "Circuit breaker is open";

/// `resilience.errors.CircuitBreakerOpenError`, a `RuntimeError` subclass.
static OPEN_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
/// `BaseException.__new__`, which sets `args` as `__init__` would.
static EXCEPTION_NEW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The rejection as `CircuitBreakerOpenError("Circuit breaker is open")`
/// carrying `retry_after` in seconds. Built with `BaseException.__new__`
/// and one store into the class's `retry_after` slot: no Python frame (its
/// `__init__` is for users) and no instance dict. Only the rejecting path
/// pays for it.
#[cold]
fn open_error(py: Python<'_>, rejected: Rejected) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = OPEN_ERROR.import(py, "resilience.errors", "CircuitBreakerOpenError")?;
        let new = EXCEPTION_NEW.get_or_try_init(py, || {
            py.get_type::<PyBaseException>()
                .getattr(intern!(py, "__new__"))
                .map(Bound::unbind)
        })?;
        let error = new.bind(py).call1((class, OPEN_MESSAGE))?;
        error.setattr(intern!(py, "retry_after"), rejected.retry_after.as_secs_f64())?;
        Ok(PyErr::from_value(error))
    };
    build().unwrap_or_else(|failed| failed)
}

/// `resilience.circuit_sync.CircuitState` members: CLOSED, OPEN, HALF_OPEN.
static STATES: PyOnceLock<[Py<PyAny>; 3]> = PyOnceLock::new();

fn state_member(py: Python<'_>, state: CircuitState) -> PyResult<Bound<'_, PyAny>> {
    let members = STATES.get_or_try_init(py, || -> PyResult<_> {
        let class = py.import("resilience.circuit_sync")?.getattr("CircuitState")?;
        Ok([
            class.getattr("CLOSED")?.unbind(),
            class.getattr("OPEN")?.unbind(),
            class.getattr("HALF_OPEN")?.unbind(),
        ])
    })?;
    let [closed, open, half_open] = members;
    let member = match state {
        CircuitState::Closed => closed,
        CircuitState::Open => open,
        CircuitState::HalfOpen => half_open,
    };
    Ok(member.bind(py).clone())
}

fn positive_u32(parameter: &'static str, value: &Bound<'_, PyAny>) -> PyResult<u32> {
    let n = attempt_i64(value)?;
    if n < 1 {
        return Err(config_error(&ConfigError::new(parameter, ">= 1", n)));
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `value`, or `default` when it was not given (or given as `None`).
fn or_default<'py>(py: Python<'py>, value: Option<Bound<'py, PyAny>>, default: Bound<'py, PyAny>) -> Bound<'py, PyAny> {
    let _ = py;
    value.filter(|v| !v.is_none()).unwrap_or(default)
}

/// What both breaker classes share: the core breaker, its clock, and the
/// exception filter.
pub(crate) struct BreakerInner {
    core: CircuitBreaker<PyClock>,
    expected: Py<PyAny>,
    failure_threshold: Py<PyAny>,
    recovery_timeout: Py<PyAny>,
}

impl BreakerInner {
    fn new(
        failure_threshold: &Bound<'_, PyAny>,
        recovery_timeout: &Bound<'_, PyAny>,
        expected_exception: &Bound<'_, PyAny>,
        time_source: Option<&Bound<'_, PyAny>>,
        half_open_max_calls: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let config = BreakerConfig::builder()
            .failure_threshold(positive_u32("failure_threshold", failure_threshold)?)
            .recovery_timeout(duration_arg("recovery_timeout", recovery_timeout)?)
            .half_open_max_calls(positive_u32("half_open_max_calls", half_open_max_calls)?)
            .build()
            .map_err(|e| config_error(&e))?;
        require_exception_types("expected_exception", expected_exception)?;
        let source = time_source.filter(|s| !s.is_none()).map(|s| s.clone().unbind());
        Ok(Self {
            core: CircuitBreaker::new(config, PyClock::new(source)),
            expected: expected_exception.clone().unbind(),
            failure_threshold: failure_threshold.clone().unbind(),
            recovery_timeout: recovery_timeout.clone().unbind(),
        })
    }

    /// Reads the clock before a core call that may need the time (only
    /// when the breaker is not closed: the closed path never reads it).
    fn refresh_unless_closed(&self, py: Python<'_>) -> PyResult<()> {
        if self.core.state() != CircuitState::Closed {
            self.core.clock().refresh(py)?;
        }
        Ok(())
    }

    /// Reads the clock before recording a failure (which may open the
    /// breaker). The user's exception is what the caller sees, unchanged
    /// (errors keep their identity across the boundary), so a clock that
    /// raises here is reported through `sys.unraisablehook` instead of
    /// replacing it, and the failure is recorded at the last good reading. (On the next call a still-broken clock raises from
    /// `acquire`, where there is no user error to hide.)
    fn refresh_before_failure(&self, py: Python<'_>) {
        let clock = self.core.clock();
        if let Err(clock_error) = clock.refresh(py) {
            let source = clock.source(py).ok();
            clock_error.write_unraisable(py, source.as_ref());
        }
    }

    fn acquire(&self, py: Python<'_>) -> PyResult<PermitToken> {
        self.refresh_unless_closed(py)?;
        self.core.acquire_token().map_err(|rejected| open_error(py, rejected))
    }

    /// Reports a call that raised `error`: counted if it is an `Exception`
    /// matching `expected_exception`, otherwise the permit is just released.
    fn on_error(&self, py: Python<'_>, token: PermitToken, error: &Bound<'_, PyAny>) -> PyResult<()> {
        let counted = match error.is_instance_of::<PyException>() {
            true => error.is_instance(self.expected.bind(py)),
            false => Ok(false),
        };
        match counted {
            Ok(true) => {
                self.refresh_before_failure(py);
                self.core.record_failure(token);
                Ok(())
            }
            Ok(false) => {
                self.core.release(token);
                Ok(())
            }
            Err(e) => {
                self.core.release(token);
                Err(e)
            }
        }
    }

    fn call<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = func.py();
        let token = self.acquire(py)?;
        match func.call(args, kwargs) {
            Ok(value) => {
                self.core.record_success(token);
                Ok(value)
            }
            Err(error) => {
                self.on_error(py, token, error.value(py))?;
                Err(error)
            }
        }
    }

    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.refresh_unless_closed(py)?;
        state_member(py, self.core.state())
    }

    fn time_source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.clock().source(py)
    }
}

/// The native base of `resilience.circuit_sync.SyncCircuitBreaker`: a
/// thread-safe breaker whose whole `call` runs here. The Python subclass's
/// `__init__` configures it (so subclasses may have their own `__init__`
/// signature and call `super().__init__(...)`, as with the original).
#[pyclass(
    frozen,
    subclass,
    weakref,
    module = "resilience._core",
    name = "SyncCircuitBreakerBase"
)]
pub(crate) struct SyncCircuitBreaker {
    inner: OnceLock<BreakerInner>,
}

impl SyncCircuitBreaker {
    pub(crate) fn inner(&self) -> PyResult<&BreakerInner> {
        self.inner
            .get()
            .ok_or_else(|| PyRuntimeError::new_err("SyncCircuitBreaker.__init__ was not called"))
    }
}

#[pymethods]
impl SyncCircuitBreaker {
    /// Accepts (and leaves to `__init__`) whatever a subclass is called with.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        Self { inner: OnceLock::new() }
    }

    /// Validates and stores the configuration (called by `__init__`, once).
    #[pyo3(signature = (failure_threshold=None, recovery_timeout=None, expected_exception=None, time_source=None, *, half_open_max_calls=None))]
    fn _configure(
        &self,
        py: Python<'_>,
        failure_threshold: Option<Bound<'_, PyAny>>,
        recovery_timeout: Option<Bound<'_, PyAny>>,
        expected_exception: Option<Bound<'_, PyAny>>,
        time_source: Option<&Bound<'_, PyAny>>,
        half_open_max_calls: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        // The original's defaults: 5 failures, 30 s, every Exception.
        let failure_threshold = or_default(py, failure_threshold, 5_u32.into_pyobject(py)?.into_any());
        let recovery_timeout = or_default(py, recovery_timeout, 30.0_f64.into_pyobject(py)?.into_any());
        let expected = or_default(py, expected_exception, py.get_type::<PyException>().into_any());
        let half_open = or_default(py, half_open_max_calls, 1_u32.into_pyobject(py)?.into_any());
        let inner = BreakerInner::new(
            &failure_threshold,
            &recovery_timeout,
            &expected,
            time_source,
            &half_open,
        )?;
        self.inner
            .set(inner)
            .map_err(|_| PyRuntimeError::new_err("SyncCircuitBreaker is already initialised"))
    }

    /// The current state; an open breaker past its recovery timeout reads HALF_OPEN.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner()?.state(py)
    }

    /// Counted failures since the last success or reset.
    fn failure_count(&self) -> PyResult<u32> {
        Ok(self.inner()?.core.failure_count())
    }

    /// Runs `func(*args, **kwargs)` through the breaker. A non-callable
    /// `func` is a `TypeError` before any permit is taken (never a failure).
    #[pyo3(signature = (func, *args, **kwargs))]
    fn call<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        require_callable("func", func)?;
        self.inner()?.call(func, args, kwargs)
    }

    /// Back to CLOSED with no failures.
    fn reset(&self) -> PyResult<()> {
        self.inner()?.core.reset();
        Ok(())
    }

    #[getter]
    fn failure_threshold<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.inner()?.failure_threshold.bind(py).clone())
    }

    #[getter]
    fn recovery_timeout<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.inner()?.recovery_timeout.bind(py).clone())
    }

    #[getter]
    fn expected_exception<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.inner()?.expected.bind(py).clone())
    }

    #[getter]
    fn half_open_max_calls(&self) -> PyResult<u32> {
        Ok(self.inner()?.core.config().half_open_max_calls())
    }

    #[getter]
    fn _time_source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner()?.time_source(py)
    }
}

/// The permit API of a breaker, for the Python `AsyncCircuitBreaker`:
/// `acquire()` → token (or `CircuitBreakerOpenError` when open), then
/// exactly one of `success(token)` / `error(token, exc)`.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct BreakerCore {
    inner: BreakerInner,
}

#[pymethods]
impl BreakerCore {
    #[new]
    #[pyo3(signature = (failure_threshold, recovery_timeout, expected_exception, time_source, half_open_max_calls))]
    fn new(
        failure_threshold: &Bound<'_, PyAny>,
        recovery_timeout: &Bound<'_, PyAny>,
        expected_exception: &Bound<'_, PyAny>,
        time_source: Option<&Bound<'_, PyAny>>,
        half_open_max_calls: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: BreakerInner::new(
                failure_threshold,
                recovery_timeout,
                expected_exception,
                time_source,
                half_open_max_calls,
            )?,
        })
    }

    /// Asks to run one call without raising: `(token, 0.0)` when admitted,
    /// `(None, seconds_until_recovery)` when rejected.
    fn try_acquire(&self, py: Python<'_>) -> PyResult<(Option<u64>, f64)> {
        self.inner.refresh_unless_closed(py)?;
        Ok(match self.inner.core.acquire_token() {
            Ok(token) => (Some(token.to_raw()), 0.0),
            Err(rejected) => (None, rejected.retry_after.as_secs_f64()),
        })
    }

    /// Asks to run one call; raises `CircuitBreakerOpenError` (a `RuntimeError`).
    fn acquire(&self, py: Python<'_>) -> PyResult<u64> {
        self.inner.acquire(py).map(|t| t.to_raw())
    }

    /// The permitted call returned.
    fn success(&self, token: u64) {
        self.inner.core.record_success(PermitToken::from_raw(token));
    }

    /// The permitted call raised `error` (counted only if it matches the filter).
    fn error(&self, py: Python<'_>, token: u64, error: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.on_error(py, PermitToken::from_raw(token), error)
    }

    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner.state(py)
    }

    fn failure_count(&self) -> u32 {
        self.inner.core.failure_count()
    }

    fn reset(&self) {
        self.inner.core.reset();
    }

    #[getter]
    fn half_open_max_calls(&self) -> u32 {
        self.inner.core.config().half_open_max_calls()
    }

    #[getter]
    fn time_source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner.time_source(py)
    }
}

/// A function decorated with `@circuit_breaker`: calling it runs the call
/// through its breaker natively (no Python frame in between). Like
/// `RetryingFunction`, it carries a `__dict__` for `functools.wraps` and
/// binds as a method.
#[pyclass(dict, weakref, module = "resilience.decorators")]
pub(crate) struct BreakerFunction {
    breaker: Option<Py<SyncCircuitBreaker>>,
    func: Option<Py<PyAny>>,
}

#[pymethods]
impl BreakerFunction {
    #[new]
    fn new(breaker: &Bound<'_, SyncCircuitBreaker>, func: &Bound<'_, PyAny>) -> PyResult<Self> {
        require_callable("func", func)?;
        Ok(Self {
            breaker: Some(breaker.clone().unbind()),
            func: Some(func.clone().unbind()),
        })
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (Some(breaker), Some(func)) = (&self.breaker, &self.func) else {
            return Err(pyo3::exceptions::PyReferenceError::new_err(
                "the decorated function was cleared",
            ));
        };
        breaker.get().inner()?.call(func.bind(py), args, kwargs)
    }

    /// Binds like a plain function: `obj.method` is a bound method.
    fn __get__<'py>(
        slf: &Bound<'py, Self>,
        instance: Option<&Bound<'py, PyAny>>,
        owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::retry_sync::bind_method(slf.as_any(), instance, owner)
    }

    /// The breaker this function runs through.
    #[getter]
    fn _breaker<'py>(&self, py: Python<'py>) -> Option<Bound<'py, SyncCircuitBreaker>> {
        self.breaker.as_ref().map(|b| b.bind(py).clone())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.breaker)?;
        visit.call(&self.func)?;
        Ok(())
    }

    fn __clear__(&mut self) {
        self.breaker = None;
        self.func = None;
    }
}
