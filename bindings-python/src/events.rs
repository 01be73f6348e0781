//! Typed events (`resilience.events`) raised from the native loops: built
//! only when a listener is set, so a strategy without one pays nothing.
//! The names and fields follow core's `Event`; the objects are the frozen
//! dataclasses of `resilience.events`, the same ones the `async def`
//! drivers build.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::time::Duration;

use resilience_core::{EventKind, GiveUpReason, Rejected, Throttled, Transition};

use crate::logs::{self, WARNING};

static EVENTS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = EVENTS.get_or_try_init(py, || py.import("resilience.events").map(Bound::unbind))?;
    module.bind(py).getattr(name)
}

/// The listeners of one strategy call: its own `on_event`, and the
/// pipeline's when it runs inside one.
#[derive(Clone, Copy, Default)]
pub(crate) struct Listeners<'a, 'py> {
    pub(crate) own: Option<&'a Bound<'py, PyAny>>,
    pub(crate) pipeline: Option<&'a Bound<'py, PyAny>>,
}

impl<'py> Listeners<'_, 'py> {
    pub(crate) fn any(&self) -> bool {
        self.own.is_some() || self.pipeline.is_some()
    }

    /// Builds the event (only when someone listens) and hands it to each
    /// listener. A listener raising an `Exception` is logged and ignored,
    /// as a failing `on_retry` is; anything else (`KeyboardInterrupt`)
    /// propagates.
    pub(crate) fn deliver(&self, py: Python<'py>, build: impl FnOnce() -> PyResult<Bound<'py, PyAny>>) -> PyResult<()> {
        if !self.any() {
            return Ok(());
        }
        let event = build()?;
        for listener in [self.own, self.pipeline].into_iter().flatten() {
            match listener.call1((&event,)) {
                Ok(_) => {}
                Err(e) if e.is_instance_of::<PyException>(py) => {
                    logs::emit(py, WARNING, "listener_failed", (e.value(py),))?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// `RetryScheduled(attempt, delay, error, result)`: `error` is the
/// exception, or `None` when a returned `result` was judged a failure.
pub(crate) fn retry_scheduled<'py>(
    py: Python<'py>,
    attempt: u32,
    delay: f64,
    error: Option<&Bound<'py, PyAny>>,
    result: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    class(py, "RetryScheduled")?.call1((attempt, delay, error, result))
}

/// `GaveUp(attempts, reason)`.
pub(crate) fn gave_up(py: Python<'_>, attempts: u32, reason: GiveUpReason) -> PyResult<Bound<'_, PyAny>> {
    class(py, "GaveUp")?.call1((attempts, reason.as_str()))
}

/// `BreakerTransition(from_state, to_state)`, core's state names.
pub(crate) fn transition(py: Python<'_>, t: Transition) -> PyResult<Bound<'_, PyAny>> {
    class(py, "BreakerTransition")?.call1((t.from.as_str(), t.to.as_str()))
}

/// `BreakerRejected(retry_after, reason)`.
pub(crate) fn rejected<'py>(py: Python<'py>, r: Rejected, reason: &str) -> PyResult<Bound<'py, PyAny>> {
    class(py, "BreakerRejected")?.call1((r.retry_after.as_secs_f64(), reason))
}

/// `RateLimited(retry_after)`: the limiter's exact wait in seconds.
pub(crate) fn rate_limited(py: Python<'_>, retry_after: Duration) -> PyResult<Bound<'_, PyAny>> {
    class(py, "RateLimited")?.call1((retry_after.as_secs_f64(),))
}

/// `Throttled(retry_after, probability)`.
pub(crate) fn throttled(py: Python<'_>, t: Throttled) -> PyResult<Bound<'_, PyAny>> {
    class(py, "Throttled")?.call1((t.retry_after.as_secs_f64(), t.probability))
}

/// Core's event names, in core's order (the `type` of each dataclass).
#[pyfunction]
pub(crate) fn event_types() -> Vec<&'static str> {
    EventKind::ALL.iter().map(|k| k.as_str()).collect()
}
