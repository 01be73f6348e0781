//! `BulkheadCore`: the core's slots and FIFO queue. The Python pools do the
//! waiting (threading events, asyncio futures) and ask this object who
//! holds a slot. Slots and tickets are the core's checked handles: a slot
//! released twice, or a handle of another bulkhead, raises
//! `SlotMisuseError` and changes nothing.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use resilience_core::{Admission, Bulkhead, BulkheadConfig, CancelOutcome, Slot, SlotMisuse, Ticket};

use crate::errors::{config_error, SlotMisuseError};
use crate::value;

/// Slots and a FIFO queue of tickets.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct BulkheadCore {
    core: Bulkhead,
}

fn misuse(m: SlotMisuse) -> PyErr {
    SlotMisuseError::new_err(m.to_string())
}

#[pymethods]
impl BulkheadCore {
    #[new]
    fn new(
        max_concurrent: &Bound<'_, PyAny>,
        max_queue_size: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let config = BulkheadConfig::builder()
            .max_concurrent(value::count("max_concurrent", max_concurrent)?)
            .max_queue_size(value::count("max_queue_size", max_queue_size)?)
            .timeout(value::seconds("timeout", timeout)?)
            .build()
            .map_err(|e| config_error(timeout.py(), &e))?;
        Ok(Self {
            core: Bulkhead::new(config),
        })
    }

    /// How long `acquire(timeout)` waits, in seconds: the pool's timeout when
    /// `timeout` is `None`, else `timeout` through rule `duration` (an error
    /// naming `timeout` for NaN, infinity, negative or too large).
    #[pyo3(signature = (timeout=None))]
    fn wait_seconds(&self, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
        match timeout.filter(|t| !t.is_none()) {
            None => Ok(self.core.config().timeout().as_secs_f64()),
            Some(timeout) => Ok(value::seconds("timeout", timeout)?.as_secs_f64()),
        }
    }

    /// `(slot, None)` when a slot was taken at once, `(None, ticket)` when
    /// queued; raises `BulkheadFullError("Queue is full (max: N)")` (a
    /// `RuntimeError` with the original's message) when the queue is full.
    fn try_acquire(&self, py: Python<'_>) -> PyResult<(Option<u64>, Option<u64>)> {
        match self.core.try_acquire() {
            Admission::Acquired(slot) => Ok((Some(slot.to_raw()), None)),
            Admission::Queued(ticket) => Ok((None, Some(ticket.to_raw()))),
            _ => Err(queue_full(py, self.core.config().max_queue_size())),
        }
    }

    /// Gives `slot` back; returns `(ticket, slot)` of the waiter it was
    /// handed to (that waiter now holds that slot), or `None`.
    fn release(&self, slot: u64) -> PyResult<Option<(u64, u64)>> {
        let granted = self.core.release(Slot::from_raw(slot)).map_err(misuse)?;
        Ok(granted.map(|t| (t.to_raw(), t.slot().to_raw())))
    }

    /// A waiter gave up: `None` if it left the queue, else the slot a
    /// release had already handed it (it holds that slot now).
    fn cancel(&self, ticket: u64) -> PyResult<Option<u64>> {
        match self.core.cancel(Ticket::from_raw(ticket)).map_err(misuse)? {
            CancelOutcome::AlreadyGranted(slot) => Ok(Some(slot.to_raw())),
            _ => Ok(None),
        }
    }

    /// `(active, queued)`.
    fn stats(&self) -> (u32, u32) {
        let s = self.core.stats();
        (s.active, s.queued)
    }
}

static FULL_ERROR: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> = pyo3::sync::PyOnceLock::new();

/// `resilience.errors.BulkheadFullError("Queue is full (max: N)")`.
#[cold]
fn queue_full(py: Python<'_>, max: u32) -> PyErr {
    let message = format!("Queue is full (max: {max})");
    match FULL_ERROR.import(py, "resilience.errors", "BulkheadFullError") {
        Ok(class) => match class.call1((message,)) {
            Ok(error) => PyErr::from_value(error),
            Err(failed) => failed,
        },
        Err(_) => PyRuntimeError::new_err(message),
    }
}
