//! Circuit breakers over the core's `CircuitBreaker`: `SyncCircuitBreaker`
//! (the whole `call` runs natively, on the core's permit guard: a
//! closed-state call takes no ledger entry) and `BreakerCore`, the token API
//! the Python `AsyncCircuitBreaker` drives (the same tokens and checks as
//! C's permits, reported once). Either way a call admitted before `reset()`
//! is stale and changes nothing when it ends.

use std::sync::OnceLock;

use pyo3::exceptions::{PyBaseException, PyException, PyRuntimeError};
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use resilience_core::{
    BreakerConfig, CircuitBreaker, CircuitState, PermitMisuse, PermitToken, RejectReason, Rejected, Transition,
};

use crate::breaker_config::{breaker_config, RateOptions};
use crate::checks::{require_callable, require_exception_types, require_optional_callable};
use crate::clock::PyClock;
use crate::errors::{snapshot_error, PermitMisuseError};
use crate::events::{self, Listeners};
use crate::filters::classify;
use crate::retry_state::judge_value;
use crate::retry_sync::given;
use crate::timing::library_of;

// Shared (fleet) mode for `resilience.redis` (issue 12): src/fleet.rs.
#[path = "fleet.rs"]
pub(crate) mod fleet;

/// The original's message, kept for parity.
const OPEN_MESSAGE: &str = "Circuit breaker is open";

/// `resilience.errors.CircuitBreakerOpenError`, a `RuntimeError` subclass.
static OPEN_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
/// `BaseException.__new__`, which sets `args` as `__init__` would.
static EXCEPTION_NEW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
/// `resilience.circuit_sync.BreakerMetrics`.
static METRICS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn reason_name(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::Open => "open",
        RejectReason::TrialsTaken => "trials_taken",
        RejectReason::Isolated => "isolated",
        RejectReason::PermitsExhausted => "permits_exhausted",
        _ => "open",
    }
}

/// The rejection as `CircuitBreakerOpenError("Circuit breaker is open")`
/// carrying `retry_after` in seconds and the core's `reason`. Built with
/// `BaseException.__new__` and two stores into the class's slots: no Python
/// frame (its `__init__` is for users) and no instance dict. Only the
/// rejecting path pays for it.
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
        error.setattr(intern!(py, "reason"), reason_name(rejected.reason))?;
        Ok(PyErr::from_value(error))
    };
    build().unwrap_or_else(|failed| failed)
}

fn misuse_error(misuse: PermitMisuse) -> PyErr {
    PermitMisuseError::new_err(misuse.to_string())
}

/// `resilience.circuit_sync.CircuitState` members: CLOSED, OPEN, HALF_OPEN.
static STATES: PyOnceLock<[Py<PyAny>; 3]> = PyOnceLock::new();

/// The original's three-valued view: an isolated breaker reads OPEN.
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
        CircuitState::HalfOpen => half_open,
        _ => open,
    };
    Ok(member.bind(py).clone())
}

/// The Python arguments of both breaker classes, as `_configure` and
/// `BreakerCore(...)` receive them (the `.py` classes pass every one).
pub(crate) struct BreakerArgs<'a, 'py> {
    failure_threshold: &'a Bound<'py, PyAny>,
    recovery_timeout: &'a Bound<'py, PyAny>,
    expected_exception: &'a Bound<'py, PyAny>,
    time_source: &'a Bound<'py, PyAny>,
    half_open_max_calls: &'a Bound<'py, PyAny>,
    options: RateOptions<'a, 'py>,
    /// A snapshot document (JSON text) to start from.
    initial_state: Option<&'a str>,
    /// Shared mode: a `FleetConfigCore` (`resilience.redis`), or none.
    fleet: Option<&'a Bound<'py, PyAny>>,
    failure_on_result: Option<&'a Bound<'py, PyAny>>,
    on_event: Option<&'a Bound<'py, PyAny>>,
}

/// What both breaker classes share: the core breaker, its clock, and the
/// exception filter.
pub(crate) struct BreakerInner {
    core: CircuitBreaker<PyClock>,
    /// Whether recording a closed-state outcome reads the clock (a time
    /// window, slow calls: `BreakerConfig::reads_clock_when_closed`).
    reads_clock: bool,
    /// Whether admitting a closed-state call reads the clock (the slow-call
    /// rule stamps when a call starts; a window alone records at the end).
    stamps_start: bool,
    expected: Py<PyAny>,
    failure_threshold: Py<PyAny>,
    recovery_timeout: Py<PyAny>,
    /// A predicate on a returned value: true counts it as a failure.
    failure_on_result: Option<Py<PyAny>>,
    on_event: Option<Py<PyAny>>,
}

impl BreakerInner {
    fn new(py: Python<'_>, args: &BreakerArgs<'_, '_>) -> PyResult<Self> {
        let (ft, rt) = (args.failure_threshold, args.recovery_timeout);
        let config: BreakerConfig = breaker_config(py, ft, rt, args.half_open_max_calls, &args.options)?;
        require_exception_types("expected_exception", args.expected_exception)?;
        require_optional_callable("time_source", args.time_source)?;
        for (name, value) in [
            ("failure_on_result", args.failure_on_result),
            ("on_event", args.on_event),
        ] {
            if let Some(value) = given(value) {
                require_callable(name, value)?;
            }
        }
        let source = (!args.time_source.is_none()).then(|| args.time_source.clone().unbind());
        let clock = PyClock::new(source);
        let core = match args.initial_state {
            None => CircuitBreaker::new(config, clock),
            Some(document) => {
                // The snapshot's times are relative to now.
                clock.refresh(py)?;
                CircuitBreaker::from_snapshot(config, clock, document).map_err(|e| snapshot_error(py, &e))?
            }
        };
        let core = match fleet::fleet_config_of(args.fleet)? {
            Some(fleet) => core.in_fleet(fleet),
            None => core,
        };
        Ok(Self {
            reads_clock: config.reads_clock_when_closed(),
            stamps_start: config.slow_calls().is_some(),
            core,
            expected: args.expected_exception.clone().unbind(),
            failure_threshold: ft.clone().unbind(),
            recovery_timeout: rt.clone().unbind(),
            failure_on_result: given(args.failure_on_result).map(|p| p.clone().unbind()),
            on_event: given(args.on_event).map(|l| l.clone().unbind()),
        })
    }

    fn listeners<'a, 'py>(&'a self, py: Python<'py>, pipeline: Option<&'a Bound<'py, PyAny>>) -> Listeners<'a, 'py> {
        Listeners {
            own: self.on_event.as_ref().map(|l| l.bind(py)),
            pipeline,
        }
    }

    fn transitioned(&self, py: Python<'_>, pipeline: Option<&Bound<'_, PyAny>>, t: Option<Transition>) -> PyResult<()> {
        match t {
            Some(t) => self.listeners(py, pipeline).deliver(py, || events::transition(py, t)),
            None => Ok(()),
        }
    }

    fn clock(&self) -> &PyClock {
        self.core.clock()
    }

    /// Reads the clock before admitting a call, when the core will need the
    /// time: a breaker that is not closed, or one that times its calls (the
    /// slow-call rule). A consecutive breaker's closed path never reads it;
    /// a time window reads it once per call, when the outcome is recorded.
    fn refresh_for_admission(&self, py: Python<'_>) -> PyResult<()> {
        if self.stamps_start || self.core.state() != CircuitState::Closed {
            self.clock().refresh(py)?;
        }
        Ok(())
    }

    /// Whether a call that raised `error` counts as a failure: an
    /// `Exception` the filter accepts, or one on which the filter raised
    /// (rule `failing_predicate`: counted). Cancellation never counts.
    fn counts(&self, py: Python<'_>, error: &Bound<'_, PyAny>) -> PyResult<bool> {
        if !error.is_instance_of::<PyException>() {
            return Ok(false);
        }
        Ok(classify(error, self.expected.bind(py))?.counts_as_failure())
    }

    fn acquire(&self, py: Python<'_>, pipeline: Option<&Bound<'_, PyAny>>) -> PyResult<PermitToken> {
        self.refresh_for_admission(py)?;
        match self.core.acquire_token() {
            Ok(token) => {
                if self.on_event.is_some() || pipeline.is_some() {
                    if let Err(e) = self.transitioned(py, pipeline, token.transition()) {
                        let _ = self.core.release(token);
                        return Err(e);
                    }
                }
                Ok(token)
            }
            Err(rejected) => {
                let reason = reason_name(rejected.reason);
                self.listeners(py, pipeline)
                    .deliver(py, || events::rejected(py, rejected, reason))?;
                Err(open_error(py, rejected))
            }
        }
    }

    /// The permitted call returned `value` (`None`: not judged): a value
    /// `failure_on_result` calls a failure counts as one (rule
    /// `breaker_result`; a predicate that raises counts it, rule
    /// `failing_predicate`) and is still returned.
    fn success(
        &self,
        py: Python<'_>,
        token: PermitToken,
        value: Option<&Bound<'_, PyAny>>,
        pipeline: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if let (Some(predicate), Some(value)) = (&self.failure_on_result, value) {
            let judged = match judge_value(predicate.bind(py), value) {
                Ok(judged) => judged,
                Err(interrupt) => {
                    let _ = self.core.release(token);
                    return Err(interrupt);
                }
            };
            if judged.counts_as_failure() {
                self.clock().refresh_or_report(py);
                let t = self.core.record_failure(token).map_err(misuse_error)?;
                return self.transitioned(py, pipeline, t);
            }
        }
        if self.reads_clock || token.is_trial() {
            // After the user's call: a failing clock must not replace its result.
            self.clock().refresh_or_report(py);
        }
        let t = self.core.record_success(token).map_err(misuse_error)?;
        if self.on_event.is_some() || pipeline.is_some() {
            self.transitioned(py, pipeline, t)?;
        }
        Ok(())
    }

    /// The permitted call raised `error`. Inside a pipeline (`library`),
    /// the library's own errors are judged by rule `library_errors` (a
    /// timeout counts, a full bulkhead does not), not by the filter.
    fn error(
        &self,
        py: Python<'_>,
        token: PermitToken,
        error: &Bound<'_, PyAny>,
        pipeline: Option<&Bound<'_, PyAny>>,
        library: bool,
    ) -> PyResult<()> {
        let judged = match if library { library_of(error) } else { Ok(None) } {
            Ok(Some(kind)) => Ok(kind.counts_as_breaker_failure()),
            Ok(None) => self.counts(py, error),
            Err(e) => Err(e),
        };
        let counted = match judged {
            Ok(counted) => counted,
            Err(interrupt) => {
                // A KeyboardInterrupt from the filter: the permit is given back.
                let _ = self.core.release(token);
                return Err(interrupt);
            }
        };
        if counted {
            // A failure may open the breaker, which stamps the time.
            self.clock().refresh_or_report(py);
            let t = self.core.record_failure(token).map_err(misuse_error)?;
            self.transitioned(py, pipeline, t)
        } else {
            self.core.release(token).map_err(misuse_error)
        }
    }

    /// Runs `func` under a permit token: the same tokens (and the same
    /// staleness after `reset()`) as the async driver's and C's permits.
    pub(crate) fn call<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
        pipeline: Option<&Bound<'py, PyAny>>,
        library: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        // The core's permit guard, not a token: a closed-state call takes no
        // ledger entry, and a call admitted before a reset is still stale
        // (the guard carries the reset epoch). A guard dropped unreported
        // counts as neither, so an interrupt never leaks a trial.
        let py = func.py();
        self.refresh_for_admission(py)?;
        let permit = match self.core.try_acquire() {
            Ok(permit) => permit,
            Err(rejected) => {
                let reason = reason_name(rejected.reason);
                self.listeners(py, pipeline)
                    .deliver(py, || events::rejected(py, rejected, reason))?;
                return Err(open_error(py, rejected));
            }
        };
        let listening = self.on_event.is_some() || pipeline.is_some();
        if listening {
            self.transitioned(py, pipeline, permit.transition())?;
        }
        match func.call(args, kwargs) {
            Ok(value) => {
                if let Some(predicate) = &self.failure_on_result {
                    if judge_value(predicate.bind(py), &value)?.counts_as_failure() {
                        self.clock().refresh_or_report(py);
                        let t = permit.failure();
                        self.transitioned(py, pipeline, t)?;
                        return Ok(value);
                    }
                }
                if self.reads_clock || permit.is_trial() {
                    // After the user's call: a failing clock must not replace its result.
                    self.clock().refresh_or_report(py);
                }
                let t = permit.success();
                if listening {
                    self.transitioned(py, pipeline, t)?;
                }
                Ok(value)
            }
            Err(error) => {
                let value = error.value(py);
                let counted = match if library { library_of(value)? } else { None } {
                    Some(kind) => kind.counts_as_breaker_failure(),
                    None => self.counts(py, value)?,
                };
                if counted {
                    // A failure may open the breaker, which stamps the time.
                    self.clock().refresh_or_report(py);
                    let t = permit.failure();
                    self.transitioned(py, pipeline, t)?;
                } else {
                    permit.release();
                }
                Err(error)
            }
        }
    }

    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.core.state() != CircuitState::Closed {
            self.clock().refresh(py)?;
        }
        state_member(py, self.core.state())
    }

    fn isolated(&self) -> bool {
        self.core.state() == CircuitState::Isolated
    }

    /// Runs a manual transition at the current time (for metrics' time in
    /// state); a failing clock is reported, never raised, as `reset()`
    /// never failed in the original.
    fn transition(&self, py: Python<'_>, change: impl FnOnce(&CircuitBreaker<PyClock>) -> Option<Transition>) {
        self.clock().refresh_or_report(py);
        change(&self.core);
    }

    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.clock().refresh(py)?;
        let m = self.core.metrics();
        let class = METRICS.import(py, "resilience.circuit_sync", "BreakerMetrics")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "state"), state_member(py, m.state)?)?;
        kwargs.set_item(intern!(py, "isolated"), m.state == CircuitState::Isolated)?;
        kwargs.set_item(intern!(py, "consecutive_failures"), m.consecutive_failures)?;
        kwargs.set_item(intern!(py, "window_calls"), m.window_calls)?;
        kwargs.set_item(intern!(py, "window_failures"), m.window_failures)?;
        kwargs.set_item(intern!(py, "window_slow_calls"), m.window_slow_calls)?;
        kwargs.set_item(intern!(py, "failure_ratio"), m.failure_ratio)?;
        kwargs.set_item(intern!(py, "slow_call_ratio"), m.slow_call_ratio)?;
        kwargs.set_item(intern!(py, "rejections"), m.rejections)?;
        kwargs.set_item(intern!(py, "openings"), m.openings)?;
        kwargs.set_item(intern!(py, "time_in_state"), m.time_in_state.as_secs_f64())?;
        kwargs.set_item(intern!(py, "break_duration"), m.break_duration.as_secs_f64())?;
        class.call((), Some(&kwargs))
    }

    fn snapshot_document(&self, py: Python<'_>) -> PyResult<String> {
        self.clock().refresh(py)?;
        Ok(self.core.snapshot())
    }

    fn time_source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.clock().source(py)
    }

    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.expected)?;
        visit.call(&self.failure_threshold)?;
        visit.call(&self.recovery_timeout)?;
        visit.call(self.clock().user_source())?;
        visit.call(&self.failure_on_result)?;
        visit.call(&self.on_event)?;
        Ok(())
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
    #[pyo3(signature = (
        failure_threshold, recovery_timeout, expected_exception, time_source, half_open_max_calls, *,
        failure_ratio=None, minimum_throughput=None, sampling_duration=None, sampling_buckets=None,
        window_size=None, slow_call_duration=None, slow_call_ratio=None, break_backoff=None,
        max_recovery_timeout=None, initial_state=None, fleet=None, failure_on_result=None, on_event=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn _configure(
        &self,
        py: Python<'_>,
        failure_threshold: &Bound<'_, PyAny>,
        recovery_timeout: &Bound<'_, PyAny>,
        expected_exception: &Bound<'_, PyAny>,
        time_source: &Bound<'_, PyAny>,
        half_open_max_calls: &Bound<'_, PyAny>,
        failure_ratio: Option<&Bound<'_, PyAny>>,
        minimum_throughput: Option<&Bound<'_, PyAny>>,
        sampling_duration: Option<&Bound<'_, PyAny>>,
        sampling_buckets: Option<&Bound<'_, PyAny>>,
        window_size: Option<&Bound<'_, PyAny>>,
        slow_call_duration: Option<&Bound<'_, PyAny>>,
        slow_call_ratio: Option<&Bound<'_, PyAny>>,
        break_backoff: Option<&Bound<'_, PyAny>>,
        max_recovery_timeout: Option<&Bound<'_, PyAny>>,
        initial_state: Option<&str>,
        fleet: Option<&Bound<'_, PyAny>>,
        failure_on_result: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let args = BreakerArgs {
            failure_threshold,
            recovery_timeout,
            expected_exception,
            time_source,
            half_open_max_calls,
            options: RateOptions {
                failure_ratio,
                minimum_throughput,
                sampling_duration,
                sampling_buckets,
                window_size,
                slow_call_duration,
                slow_call_ratio,
                break_backoff,
                max_recovery_timeout,
            },
            initial_state,
            fleet,
            failure_on_result,
            on_event,
        };
        let inner = BreakerInner::new(py, &args)?;
        self.inner
            .set(inner)
            .map_err(|_| PyRuntimeError::new_err("SyncCircuitBreaker is already initialised"))
    }

    /// The current state; an open breaker past its recovery timeout reads
    /// HALF_OPEN; an isolated one reads OPEN.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner()?.state(py)
    }

    /// Counted failures in a row since the last success or reset.
    fn failure_count(&self) -> PyResult<u32> {
        Ok(self.inner()?.core.failure_count())
    }

    /// Runs `func(*args, **kwargs)` through the breaker. A non-callable
    /// `func` is a `TypeError` before any permit is taken (never a failure).
    #[pyo3(signature = (func, *args, **kwargs))]
    pub(crate) fn call<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        require_callable("func", func)?;
        self.inner()?.call(func, args, kwargs, None, false)
    }

    /// `call` as a pipeline's breaker: the library's own errors are judged
    /// by rule `library_errors`, and `pipeline_event` hears the events too.
    #[pyo3(signature = (pipeline_event, func, *args, **kwargs))]
    fn _call_layer<'py>(
        &self,
        pipeline_event: Option<&Bound<'py, PyAny>>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        require_callable("func", func)?;
        self.inner()?.call(func, args, kwargs, given(pipeline_event), true)
    }

    /// The listener given as `on_event`, if any.
    #[getter]
    fn on_event<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.inner()?.on_event.as_ref().map(|l| l.bind(py).clone()))
    }

    /// The predicate given as `failure_on_result`, if any.
    #[getter]
    fn failure_on_result<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.inner()?.failure_on_result.as_ref().map(|l| l.bind(py).clone()))
    }

    /// Back to CLOSED with no failures, an empty window and the first break.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.inner()?.transition(py, CircuitBreaker::reset);
        Ok(())
    }

    /// Holds the breaker open (every call rejected) until `close()` or `reset()`.
    fn isolate(&self, py: Python<'_>) -> PyResult<()> {
        self.inner()?.transition(py, CircuitBreaker::isolate);
        Ok(())
    }

    /// Closes the breaker, isolated or not (the same as `reset()`).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.inner()?.transition(py, CircuitBreaker::close);
        Ok(())
    }

    /// The breaker's metrics now (a `BreakerMetrics`).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner()?.metrics(py)
    }

    /// The core's snapshot document (JSON text; `snapshot()` parses it).
    fn _snapshot_document(&self, py: Python<'_>) -> PyResult<String> {
        self.inner()?.snapshot_document(py)
    }

    /// Whether the breaker is isolated by hand (`state()` reads OPEN then).
    #[getter]
    fn isolated(&self) -> PyResult<bool> {
        Ok(self.inner()?.isolated())
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

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        match self.inner.get() {
            Some(inner) => inner.traverse(&visit),
            None => Ok(()),
        }
    }
}

/// The token API of a breaker, for the Python `AsyncCircuitBreaker`:
/// `acquire()` → token (or `CircuitBreakerOpenError` when open), then
/// exactly one of `success(token)` / `error(token, exc)`. A token reported
/// twice, or to another breaker, raises `PermitMisuseError` and changes
/// nothing.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct BreakerCore {
    inner: BreakerInner,
}

#[pymethods]
impl BreakerCore {
    #[new]
    #[pyo3(signature = (
        failure_threshold, recovery_timeout, expected_exception, time_source, half_open_max_calls, *,
        failure_ratio=None, minimum_throughput=None, sampling_duration=None, sampling_buckets=None,
        window_size=None, slow_call_duration=None, slow_call_ratio=None, break_backoff=None,
        max_recovery_timeout=None, initial_state=None, fleet=None, failure_on_result=None, on_event=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        failure_threshold: &Bound<'_, PyAny>,
        recovery_timeout: &Bound<'_, PyAny>,
        expected_exception: &Bound<'_, PyAny>,
        time_source: &Bound<'_, PyAny>,
        half_open_max_calls: &Bound<'_, PyAny>,
        failure_ratio: Option<&Bound<'_, PyAny>>,
        minimum_throughput: Option<&Bound<'_, PyAny>>,
        sampling_duration: Option<&Bound<'_, PyAny>>,
        sampling_buckets: Option<&Bound<'_, PyAny>>,
        window_size: Option<&Bound<'_, PyAny>>,
        slow_call_duration: Option<&Bound<'_, PyAny>>,
        slow_call_ratio: Option<&Bound<'_, PyAny>>,
        break_backoff: Option<&Bound<'_, PyAny>>,
        max_recovery_timeout: Option<&Bound<'_, PyAny>>,
        initial_state: Option<&str>,
        fleet: Option<&Bound<'_, PyAny>>,
        failure_on_result: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let args = BreakerArgs {
            failure_threshold,
            recovery_timeout,
            expected_exception,
            time_source,
            half_open_max_calls,
            options: RateOptions {
                failure_ratio,
                minimum_throughput,
                sampling_duration,
                sampling_buckets,
                window_size,
                slow_call_duration,
                slow_call_ratio,
                break_backoff,
                max_recovery_timeout,
            },
            initial_state,
            fleet,
            failure_on_result,
            on_event,
        };
        Ok(Self {
            inner: BreakerInner::new(py, &args)?,
        })
    }

    /// Asks to run one call without raising: `(token, 0.0)` when admitted,
    /// `(None, seconds_until_recovery)` when rejected.
    fn try_acquire(&self, py: Python<'_>) -> PyResult<(Option<u64>, f64)> {
        self.inner.refresh_for_admission(py)?;
        Ok(match self.inner.core.acquire_token() {
            Ok(token) => (Some(token.to_raw()), 0.0),
            Err(rejected) => (None, rejected.retry_after.as_secs_f64()),
        })
    }

    /// Asks to run one call; raises `CircuitBreakerOpenError` (a `RuntimeError`).
    #[pyo3(signature = (pipeline_event=None))]
    fn acquire(&self, py: Python<'_>, pipeline_event: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
        self.inner.acquire(py, given(pipeline_event)).map(|t| t.to_raw())
    }

    /// The permitted call returned `value` (judged by `failure_on_result`
    /// when given).
    #[pyo3(signature = (token, value=None, pipeline_event=None))]
    fn success(
        &self,
        py: Python<'_>,
        token: u64,
        value: Option<&Bound<'_, PyAny>>,
        pipeline_event: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.inner
            .success(py, PermitToken::from_raw(token), value, given(pipeline_event))
    }

    /// The permitted call raised `error` (counted only if it matches the
    /// filter, or by rule `library_errors` inside a pipeline).
    #[pyo3(signature = (token, error, pipeline_event=None, library=false))]
    fn error(
        &self,
        py: Python<'_>,
        token: u64,
        error: &Bound<'_, PyAny>,
        pipeline_event: Option<&Bound<'_, PyAny>>,
        library: bool,
    ) -> PyResult<()> {
        self.inner
            .error(py, PermitToken::from_raw(token), error, given(pipeline_event), library)
    }

    /// Whether the breaker has a listener or a result predicate (the
    /// async driver's fast path skips both when not).
    #[getter]
    fn plain(&self) -> bool {
        self.inner.on_event.is_none() && self.inner.failure_on_result.is_none()
    }

    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner.state(py)
    }

    fn failure_count(&self) -> u32 {
        self.inner.core.failure_count()
    }

    fn reset(&self, py: Python<'_>) {
        self.inner.transition(py, CircuitBreaker::reset);
    }

    fn isolate(&self, py: Python<'_>) {
        self.inner.transition(py, CircuitBreaker::isolate);
    }

    fn close(&self, py: Python<'_>) {
        self.inner.transition(py, CircuitBreaker::close);
    }

    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner.metrics(py)
    }

    fn snapshot_document(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.snapshot_document(py)
    }

    #[getter]
    fn isolated(&self) -> bool {
        self.inner.isolated()
    }

    #[getter]
    fn half_open_max_calls(&self) -> u32 {
        self.inner.core.config().half_open_max_calls()
    }

    #[getter]
    fn time_source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner.time_source(py)
    }

    /// Permits out now (for leak checks).
    #[getter]
    fn tokens_outstanding(&self) -> usize {
        self.inner.core.tokens_outstanding()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.inner.traverse(&visit)
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
        breaker.get().inner()?.call(func.bind(py), args, kwargs, None, false)
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
