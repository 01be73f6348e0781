//! The breaker's clock: Python's `time.monotonic`, or the user's `time_source`.
//!
//! The default is `time.monotonic` looked up on the `time` module at every
//! reading (not captured once), so code that patches `time.monotonic`
//! (freezegun, time-machine, `monkeypatch`) moves breakers as it moves
//! everything else. While the module holds the genuine builtin, the reading
//! is taken in Rust from the same operating-system clock (`Instant`:
//! CLOCK_MONOTONIC on Linux, as Python's; the same source on macOS and
//! Windows), anchored once to a real `time.monotonic()` reading — the same
//! value to within the anchor's sub-microsecond gap, without a Python call
//! (a time window reads the clock on every call).
//!
//! The core may read its clock while holding its internal lock. A Python
//! clock must therefore never be called from inside the core (the lock
//! holder would wait for the GIL while a GIL holder waits for the lock).
//! Instead the binding calls the clock itself, with the GIL held, just
//! before any core call that may read the time, and the core reads that
//! stored value. Every Python reading goes through core's rule
//! `clock_reading` (NaN and negative readings are 0, huge ones saturate).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use resilience_core::rules::{self, Unit};
use resilience_core::Clock;

use crate::value::reading_secs;

/// The `time` module's `__dict__`, where `time.monotonic = ...` (a patch) lands.
static TIME_DICT: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
/// The genuine `time.monotonic` builtin, if the `time` module held it when
/// this module was imported (a replacement installed earlier is called).
static GENUINE: PyOnceLock<Option<Py<PyAny>>> = PyOnceLock::new();
/// A `time.monotonic()` reading and the `Instant` taken right after it.
static ANCHOR: OnceLock<(Duration, Instant)> = OnceLock::new();

fn time_dict(py: Python<'_>) -> PyResult<&Bound<'_, PyDict>> {
    TIME_DICT
        .get_or_try_init(py, || -> PyResult<_> { Ok(py.import("time")?.dict().unbind()) })
        .map(|d| d.bind(py))
}

/// Whether `f` is the `time` module's own builtin `monotonic`.
fn is_builtin_monotonic(f: &Bound<'_, PyAny>) -> bool {
    let module = f.getattr(pyo3::intern!(f.py(), "__self__"));
    f.get_type().name().is_ok_and(|n| n == "builtin_function_or_method")
        && module.is_ok_and(|m| m.cast::<PyModule>().is_ok_and(|m| m.name().is_ok_and(|n| n == "time")))
}

/// Remembers the genuine `time.monotonic` (called when the module is imported).
pub(crate) fn init(py: Python<'_>) -> PyResult<()> {
    let monotonic = current_monotonic(py)?;
    GENUINE.get_or_init(py, || {
        is_builtin_monotonic(&monotonic).then(|| monotonic.clone().unbind())
    });
    Ok(())
}

/// `time.monotonic` as the `time` module has it right now: one lookup in
/// the module's dict.
fn current_monotonic(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    match time_dict(py)?.get_item(pyo3::intern!(py, "monotonic"))? {
        Some(monotonic) => Ok(monotonic),
        // Deleted from the module: let the attribute lookup say so.
        None => py.import("time")?.getattr(pyo3::intern!(py, "monotonic")),
    }
}

/// A reading of the clock `time.monotonic` reads, without calling it:
/// the anchor's reading plus the time elapsed since.
fn genuine_reading(genuine: &Bound<'_, PyAny>) -> PyResult<Duration> {
    let (at, instant) = match ANCHOR.get() {
        Some(anchor) => *anchor,
        None => {
            let at = rules::clock_reading(reading_secs(&genuine.call0()?)?, Unit::Seconds);
            *ANCHOR.get_or_init(|| (at, Instant::now()))
        }
    };
    Ok(at.saturating_add(instant.elapsed()))
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
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
        let source = self.source(py)?;
        let reading = match GENUINE.get(py) {
            Some(Some(genuine)) if self.source.is_none() && source.is(genuine) => genuine_reading(&source)?,
            _ => rules::clock_reading(reading_secs(&source.call0()?)?, Unit::Seconds),
        };
        self.reading.store(nanos(reading), Ordering::Release);
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
