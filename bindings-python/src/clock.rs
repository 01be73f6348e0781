//! The breaker's clock: native monotonic time, or the user's `time_source`.
//!
//! The core may read its clock while holding its internal lock. A Python
//! `time_source` must therefore never be called from inside the core (the
//! lock holder would wait for the GIL while a GIL holder waits for the lock).
//! Instead the binding calls `time_source()` itself, with the GIL held,
//! just before any core call that may read the time, and the core reads
//! that stored value.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use resilience_core::{clock_reading_from_secs, Clock};

/// Monotonic by default (a wall-clock jump must not open or close a
/// breaker early); the user's `time_source` when one is given.
pub(crate) struct PyClock {
    source: Option<Py<PyAny>>,
    origin: Instant,
    /// The last `time_source()` reading, in nanoseconds.
    reading: AtomicU64,
}

impl PyClock {
    pub(crate) fn new(source: Option<Py<PyAny>>) -> Self {
        Self {
            source,
            origin: Instant::now(),
            reading: AtomicU64::new(0),
        }
    }

    /// The user's `time_source`, if any.
    pub(crate) fn source(&self) -> Option<&Py<PyAny>> {
        self.source.as_ref()
    }

    /// Reads the user's `time_source` (no-op for the native clock).
    pub(crate) fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(source) = &self.source {
            let seconds: f64 = source.bind(py).call0()?.extract()?;
            let nanos = u64::try_from(clock_reading_from_secs(seconds).as_nanos()).unwrap_or(u64::MAX);
            self.reading.store(nanos, Ordering::Release);
        }
        Ok(())
    }
}

impl Clock for PyClock {
    fn now(&self) -> Duration {
        match self.source {
            None => self.origin.elapsed(),
            Some(_) => Duration::from_nanos(self.reading.load(Ordering::Acquire)),
        }
    }
}
