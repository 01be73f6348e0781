//! The breaker's clock: Python's `time.monotonic`, or the user's `time_source`.
//!
//! The default is `time.monotonic` looked up on the `time` module at every
//! reading (not captured once, not Rust's `Instant`), so code that patches
//! `time.monotonic` (freezegun, time-machine, `monkeypatch`) moves breakers
//! as it moves everything else.
//!
//! The core may read its clock while holding its internal lock. A Python
//! clock must therefore never be called from inside the core (the lock
//! holder would wait for the GIL while a GIL holder waits for the lock).
//! Instead the binding calls the clock itself, with the GIL held, just
//! before any core call that may read the time, and the core reads that
//! stored value. Every reading goes through core's rule `clock_reading`
//! (NaN and negative readings are 0, huge ones saturate).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use resilience_core::rules::{self, Unit};
use resilience_core::Clock;

use crate::value::reading_secs;

/// The `time` module, imported once; `monotonic` is looked up on it per reading.
static TIME_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
/// Its `__dict__`, where `time.monotonic = ...` (a patch) lands.
static TIME_DICT: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

/// `time.monotonic` as the `time` module has it right now: one lookup in
/// the module's dict (a time window reads the clock on every call).
fn current_monotonic(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let module = TIME_MODULE.get_or_try_init(py, || py.import("time").map(Bound::unbind))?;
    let dict = TIME_DICT.get_or_init(py, || module.bind(py).dict().unbind());
    match dict.bind(py).get_item(pyo3::intern!(py, "monotonic"))? {
        Some(monotonic) => Ok(monotonic),
        // Deleted from the module: let the attribute lookup say so.
        None => module.bind(py).getattr(pyo3::intern!(py, "monotonic")),
    }
}

/// A clock read through Python: the user's `time_source`, else `time.monotonic`.
pub(crate) struct PyClock {
    source: Option<Py<PyAny>>,
    /// The last reading, in nanoseconds.
    reading: AtomicU64,
}

impl PyClock {
    pub(crate) fn new(source: Option<Py<PyAny>>) -> Self {
        Self {
            source,
            reading: AtomicU64::new(0),
        }
    }

    /// The callable read by [`PyClock::refresh`]: the user's `time_source`,
    /// or the `time` module's current `monotonic`.
    pub(crate) fn source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.source {
            Some(source) => Ok(source.bind(py).clone()),
            None => current_monotonic(py),
        }
    }

    /// The user's `time_source`, if one was given.
    pub(crate) fn user_source(&self) -> Option<&Py<PyAny>> {
        self.source.as_ref()
    }

    /// Reads the clock and stores the reading for the core's next `now()`.
    pub(crate) fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        let seconds = reading_secs(&self.source(py)?.call0()?)?;
        let nanos = u64::try_from(rules::clock_reading(seconds, Unit::Seconds).as_nanos()).unwrap_or(u64::MAX);
        self.reading.store(nanos, Ordering::Release);
        Ok(())
    }

    /// [`PyClock::refresh`] where an exception must not replace the user's
    /// own outcome (after their call returned or raised): a clock that
    /// raises is reported through `sys.unraisablehook` and the last good
    /// reading stays.
    pub(crate) fn refresh_or_report(&self, py: Python<'_>) {
        if let Err(clock_error) = self.refresh(py) {
            let source = self.source(py).ok();
            clock_error.write_unraisable(py, source.as_ref());
        }
    }
}

impl Clock for PyClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.reading.load(Ordering::Acquire))
    }
}
