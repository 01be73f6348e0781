//! Load control (issue 11) over core: `RetryBudgetCore`, `ThrottleCore`
//! and `LimiterCore` behind `resilience.RetryBudget`,
//! `resilience.AdaptiveThrottle` and `resilience.RateLimiter`. Every value
//! goes through core's `*Config::from_values`; every decision (a deposit, a
//! withdrawal, a shed request, a conforming cell) is core's. The clock is a
//! `PyClock` read by the binding just before each core call (a Python clock
//! is never called from inside core).

use std::sync::Arc;
use std::time::Duration;

use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use resilience_core::rules::{self, Unit};
use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, ConfigError, FleetConfig, RateLimitError, RateLimiter, RateLimiterConfig,
    RetryBudget, RetryBudgetConfig, Throttled, Value,
};

use crate::breaker::fleet::fleet_config_of;
use crate::checks::require_optional_callable;
use crate::clock::PyClock;
use crate::errors::{config_error, config_error_given, parameter_error};
use crate::events::{self, Listeners};
use crate::retry_state::judge_answer;
use crate::sleep::sleep_released;
use crate::value::value_of;

static RATE_LIMITED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static THROTTLED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A clock shared by a strategy and the binding that refreshes it.
fn shared_clock(time_source: Option<&Bound<'_, PyAny>>) -> PyResult<Arc<PyClock>> {
    let source = time_source.filter(|t| !t.is_none());
    if let Some(source) = source {
        require_optional_callable("time_source", source)?;
    }
    Ok(Arc::new(PyClock::new(source.map(|s| s.clone().unbind()))))
}

fn traverse_clock(clock: &PyClock, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
    visit.call(clock.user_source())
}

/// A Python value for a `from_values` parameter: always given (so `None`
/// is judged by the rule, as the vectors' `null` is).
fn given(obj: &Bound<'_, PyAny>) -> Option<Value> {
    Some(value_of(obj))
}

/// Rule `lease_size` (with `requires_other`: only with a store) for a
/// limiter or budget; `None` when not shared.
fn lease_size_of(
    py: Python<'_>,
    fleet: Option<FleetConfig>,
    lease_size: Option<&Bound<'_, PyAny>>,
    size: impl FnOnce(Option<Value>) -> Result<u32, ConfigError>,
) -> PyResult<Option<(FleetConfig, u32)>> {
    let given = lease_size.filter(|v| !v.is_none());
    let checked =
        rules::lease_size_needs_store(given.is_some(), fleet.is_some()).and_then(|()| size(given.map(value_of)));
    match (checked, fleet) {
        (Ok(size), Some(fleet)) => Ok(Some((fleet, size))),
        (Ok(_), None) => Ok(None),
        (Err(e), _) => Err(config_error_given(py, &e, given)),
    }
}

/// A strategy's own `on_event` listener, checked (`None`: none).
fn own_listener(on_event: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Py<PyAny>>> {
    let Some(listener) = on_event.filter(|l| !l.is_none()) else {
        return Ok(None);
    };
    require_optional_callable("on_event", listener)?;
    Ok(Some(listener.clone().unbind()))
}

/// Tells a refusal's event to the strategy's own listener and to the
/// pipeline's (`pipeline`), building it only when someone listens. A
/// listener's `Exception` is logged and ignored; anything else propagates.
fn tell<'py>(
    py: Python<'py>,
    own: Option<&Py<PyAny>>,
    pipeline: Option<&Bound<'py, PyAny>>,
    event: impl FnOnce() -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<()> {
    let own = own.map(|l| l.bind(py));
    Listeners { own, pipeline }.deliver(py, event)
}

// ---- Retry budget ----------------------------------------------------------

/// A retry budget shared by every policy built with it.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct RetryBudgetCore {
    pub(crate) budget: Arc<RetryBudget>,
    pub(crate) clock: Arc<PyClock>,
}

#[pymethods]
impl RetryBudgetCore {
    /// With `fleet` (a store's `FleetConfigCore`) the budget is shared,
    /// leasing `lease_size` retries at a time (rule `lease_size`; `None`:
    /// core's default); `lease_size` without `fleet` is rule `requires_other`.
    #[new]
    #[pyo3(signature = (ttl, min_retries_per_sec, retry_ratio, time_source=None, fleet=None, lease_size=None))]
    fn new(
        ttl: &Bound<'_, PyAny>,
        min_retries_per_sec: &Bound<'_, PyAny>,
        retry_ratio: &Bound<'_, PyAny>,
        time_source: Option<&Bound<'_, PyAny>>,
        fleet: Option<&Bound<'_, PyAny>>,
        lease_size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = ttl.py();
        let config = RetryBudgetConfig::from_values(
            given(ttl),
            given(min_retries_per_sec),
            given(retry_ratio),
            Unit::Seconds,
        )
        .map_err(|e| config_error(py, &e))?;
        let shared = lease_size_of(py, fleet_config_of(fleet)?, lease_size, |v| config.lease_size(v))?;
        let clock = shared_clock(time_source)?;
        clock.refresh(py)?;
        let mut budget = RetryBudget::new(config, clock.clone());
        if let Some((fleet, size)) = shared {
            budget = budget.in_fleet(fleet, Some(size)).map_err(|e| config_error(py, &e))?;
        }
        Ok(Self {
            budget: Arc::new(budget),
            clock,
        })
    }

    /// Counts a first attempt.
    fn deposit(&self, py: Python<'_>) -> PyResult<()> {
        self.clock.refresh(py)?;
        self.budget.deposit();
        Ok(())
    }

    /// Claims one retry if the budget allows it.
    fn try_withdraw(&self, py: Python<'_>) -> PyResult<bool> {
        self.clock.refresh(py)?;
        Ok(self.budget.try_withdraw())
    }

    /// Retries the budget would grant now.
    fn available(&self, py: Python<'_>) -> PyResult<u64> {
        self.clock.refresh(py)?;
        Ok(self.budget.available())
    }

    #[getter]
    fn ttl(&self) -> f64 {
        self.budget.config().ttl().as_secs_f64()
    }

    #[getter]
    fn min_retries_per_sec(&self) -> u32 {
        self.budget.config().min_retries_per_sec()
    }

    #[getter]
    fn retry_ratio(&self) -> f64 {
        self.budget.config().retry_ratio()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        traverse_clock(&self.clock, &visit)
    }
}

// ---- Adaptive throttle -----------------------------------------------------

/// `resilience.errors.ThrottledError(message, retry_after=, probability=)`.
#[cold]
fn throttled_error(py: Python<'_>, retry_after: Duration, probability: f64) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = THROTTLED.import(py, "resilience.errors", "ThrottledError")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "retry_after"), retry_after.as_secs_f64())?;
        kwargs.set_item(intern!(py, "probability"), probability)?;
        Ok(PyErr::from_value(
            class.call(("request throttled locally",), Some(&kwargs))?,
        ))
    };
    build().unwrap_or_else(|failed| failed)
}

/// An adaptive client-side throttle.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct ThrottleCore {
    inner: AdaptiveThrottle<Arc<PyClock>>,
    on_event: Option<Py<PyAny>>,
}

impl ThrottleCore {
    /// A shed request: its event told, then its error.
    #[cold]
    fn shed(&self, py: Python<'_>, t: Throttled, pipeline: Option<&Bound<'_, PyAny>>) -> PyErr {
        match tell(py, self.on_event.as_ref(), pipeline, || events::throttled(py, t)) {
            Ok(()) => throttled_error(py, t.retry_after, t.probability),
            Err(interrupt) => interrupt,
        }
    }
}

#[pymethods]
impl ThrottleCore {
    #[new]
    #[pyo3(signature = (k, window, seed=None, time_source=None, on_event=None))]
    fn new(
        k: &Bound<'_, PyAny>,
        window: &Bound<'_, PyAny>,
        seed: Option<&Bound<'_, PyAny>>,
        time_source: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = k.py();
        // A seed of None is "from the OS" (rule `seed`'s absent value).
        let seed = seed.filter(|s| !s.is_none()).map(value_of);
        let config = AdaptiveThrottleConfig::from_values(given(k), given(window), seed, Unit::Seconds)
            .map_err(|e| config_error(py, &e))?;
        let clock = shared_clock(time_source)?;
        let on_event = own_listener(on_event)?;
        clock.refresh(py)?;
        Ok(Self {
            inner: AdaptiveThrottle::new(config, clock),
            on_event,
        })
    }

    /// Counts a request and decides: returns when admitted; when shed,
    /// tells `Throttled` to the throttle's listener and the pipeline's
    /// (`pipeline_event`) and raises `ThrottledError` (with the suggested
    /// wait).
    #[pyo3(signature = (pipeline_event=None))]
    fn admit(&self, py: Python<'_>, pipeline_event: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.inner.clock().refresh(py)?;
        self.inner.try_admit().map_err(|t| self.shed(py, t, pipeline_event))
    }

    /// The backend answered an admitted request; `accepted` is the
    /// caller's predicate's answer.
    fn record(&self, py: Python<'_>, accepted: bool) -> PyResult<()> {
        if accepted {
            self.inner.clock().refresh(py)?;
        }
        self.inner.record(accepted);
        Ok(())
    }

    /// The backend answered an admitted request with `result` or `error`:
    /// records whether `accepted(result, error)` says it accepted it. A
    /// predicate that raises an `Exception` counts the request as not
    /// accepted (core's rule `failing_predicate`; reported to
    /// `sys.unraisablehook`); anything else it raises propagates.
    fn report(
        &self,
        py: Python<'_>,
        accepted: &Bound<'_, PyAny>,
        result: &Bound<'_, PyAny>,
        error: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let judged = judge_answer(accepted, accepted.call1((result, error)))?;
        self.record(py, judged.accepted())
    }

    /// `(requests, accepts, probability)` over the window now.
    fn stats(&self, py: Python<'_>) -> PyResult<(u64, u64, f64)> {
        self.inner.clock().refresh(py)?;
        let s = self.inner.stats();
        Ok((s.requests, s.accepts, s.probability))
    }

    #[getter]
    fn k(&self) -> f64 {
        self.inner.config().k()
    }

    #[getter]
    fn window(&self) -> f64 {
        self.inner.config().window().as_secs_f64()
    }

    #[getter]
    fn seed(&self) -> Option<u64> {
        self.inner.config().seed()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        traverse_clock(self.inner.clock(), &visit)?;
        visit.call(&self.on_event)
    }
}

// ---- Rate limiter ----------------------------------------------------------

/// `resilience.errors.RateLimitedError(message, retry_after=)`.
#[cold]
fn rate_limited_error(py: Python<'_>, retry_after: Duration) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = RATE_LIMITED.import(py, "resilience.errors", "RateLimitedError")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "retry_after"), retry_after.as_secs_f64())?;
        Ok(PyErr::from_value(class.call(("rate limited",), Some(&kwargs))?))
    };
    build().unwrap_or_else(|failed| failed)
}

/// A GCRA rate limiter.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct LimiterCore {
    pub(crate) inner: Arc<RateLimiter<Arc<PyClock>>>,
    on_event: Option<Py<PyAny>>,
}

impl LimiterCore {
    /// A refusal the caller does not wait out: its event told (to the
    /// limiter's listener and the pipeline's), then its error.
    #[cold]
    fn limited(&self, py: Python<'_>, wait: Duration, pipeline: Option<&Bound<'_, PyAny>>) -> PyErr {
        match tell(py, self.on_event.as_ref(), pipeline, || events::rate_limited(py, wait)) {
            Ok(()) => rate_limited_error(py, wait),
            Err(interrupt) => interrupt,
        }
    }

    /// `try_acquire`'s refusal: its event told, then `false`.
    #[cold]
    fn refused(&self, py: Python<'_>, wait: Duration) -> PyResult<bool> {
        tell(py, self.on_event.as_ref(), None, || events::rate_limited(py, wait))?;
        Ok(false)
    }

    /// Rule `cells` on `n` (`None` is the wrong type, as the vectors' `null`).
    fn cells(n: &Bound<'_, PyAny>) -> PyResult<u32> {
        rules::cells(value_of(n)).map_err(|e| config_error_given(n.py(), &e, Some(n)))
    }

    /// `None` when the cells were taken, else the exact wait; an `n` above
    /// the burst is a `ParameterValueError` of kind `exceeds_burst`.
    fn take(&self, py: Python<'_>, n: u32) -> PyResult<Option<Duration>> {
        self.inner.clock().refresh(py)?;
        match self.inner.try_acquire_n(n) {
            Ok(()) => Ok(None),
            Err(RateLimitError::Limited(limited)) => Ok(Some(limited.retry_after)),
            Err(RateLimitError::ExceedsBurst(e)) => {
                Err(parameter_error(py, false, e.to_string(), "exceeds_burst", "n"))
            }
            // A refusal this release does not know: a wait of zero asks again.
            Err(_) => Ok(Some(Duration::ZERO)),
        }
    }
}

#[pymethods]
impl LimiterCore {
    /// With `fleet` (a store's `FleetConfigCore`) the limiter is shared,
    /// leasing `lease_size` cells at a time (rule `lease_size`: up to the
    /// burst; `None`: core's default); `lease_size` without `fleet` is rule
    /// `requires_other`.
    #[new]
    #[pyo3(signature = (rate, per, burst, time_source=None, fleet=None, lease_size=None, on_event=None))]
    fn new(
        rate: &Bound<'_, PyAny>,
        per: &Bound<'_, PyAny>,
        burst: &Bound<'_, PyAny>,
        time_source: Option<&Bound<'_, PyAny>>,
        fleet: Option<&Bound<'_, PyAny>>,
        lease_size: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = rate.py();
        let config = RateLimiterConfig::from_values(given(rate), given(per), given(burst), Unit::Seconds)
            .map_err(|e| config_error(py, &e))?;
        let shared = lease_size_of(py, fleet_config_of(fleet)?, lease_size, |v| config.lease_size(v))?;
        let clock = shared_clock(time_source)?;
        let on_event = own_listener(on_event)?;
        clock.refresh(py)?;
        let mut limiter = RateLimiter::new(config, clock);
        if let Some((fleet, size)) = shared {
            limiter = limiter.in_fleet(fleet, Some(size)).map_err(|e| config_error(py, &e))?;
        }
        Ok(Self {
            inner: Arc::new(limiter),
            on_event,
        })
    }

    /// Takes one cell if it conforms now (the hot path); a refusal is told
    /// to the listener as `RateLimited`.
    fn try_acquire(&self, py: Python<'_>) -> PyResult<bool> {
        self.inner.clock().refresh(py)?;
        match self.inner.try_acquire() {
            Ok(()) => Ok(true),
            Err(RateLimitError::Limited(limited)) => self.refused(py, limited.retry_after),
            // One cell never exceeds a burst; a refusal this release does not know.
            Err(_) => Ok(false),
        }
    }

    /// Takes `n` cells if they conform now; a refusal is told to the
    /// listener as `RateLimited`.
    fn try_acquire_n(&self, py: Python<'_>, n: &Bound<'_, PyAny>) -> PyResult<bool> {
        match self.take(py, Self::cells(n)?)? {
            None => Ok(true),
            Some(wait) => self.refused(py, wait),
        }
    }

    /// Takes `n` cells, or raises `RateLimitedError` carrying the exact wait
    /// (told to the listener as `RateLimited`).
    fn check(&self, py: Python<'_>, n: &Bound<'_, PyAny>) -> PyResult<()> {
        match self.take(py, Self::cells(n)?)? {
            None => Ok(()),
            Some(wait) => Err(self.limited(py, wait, None)),
        }
    }

    /// One cell for a pipeline's attempt, or `RateLimitedError` carrying the
    /// exact wait (rule `rejection_hint`: the retry around waits it),
    /// told to the limiter's listener and the pipeline's (`pipeline_event`).
    #[pyo3(signature = (pipeline_event=None))]
    fn admit(&self, py: Python<'_>, pipeline_event: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.inner.clock().refresh(py)?;
        match self.inner.try_acquire() {
            Ok(()) => Ok(()),
            Err(RateLimitError::Limited(limited)) => Err(self.limited(py, limited.retry_after, pipeline_event)),
            // One cell never exceeds a burst; a refusal this release does not know: a wait of zero.
            Err(_) => Err(self.limited(py, Duration::ZERO, pipeline_event)),
        }
    }

    /// Takes `n` cells, or answers the wait in seconds until they conform
    /// (for the `async def` waiting loop).
    fn wait_time(&self, py: Python<'_>, n: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
        Ok(self.take(py, Self::cells(n)?)?.map(|d| d.as_secs_f64()))
    }

    /// Takes `n` cells, sleeping as long as the limiter says between
    /// tries: natively with the GIL released (`sleep=None`), or through
    /// `sleep(seconds)`.
    #[pyo3(signature = (n, sleep=None))]
    fn acquire(&self, py: Python<'_>, n: &Bound<'_, PyAny>, sleep: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let n = Self::cells(n)?;
        let sleep = sleep.filter(|s| !s.is_none());
        while let Some(wait) = self.take(py, n)? {
            match sleep {
                Some(sleep) => {
                    sleep.call1((wait.as_secs_f64(),))?;
                }
                None => sleep_released(py, wait)?,
            }
        }
        Ok(())
    }

    #[getter]
    fn rate(&self) -> u32 {
        self.inner.config().rate()
    }

    #[getter]
    fn per(&self) -> f64 {
        self.inner.config().per().as_secs_f64()
    }

    #[getter]
    fn burst(&self) -> u32 {
        self.inner.config().burst()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        traverse_clock(self.inner.clock(), &visit)?;
        visit.call(&self.on_event)
    }
}
