//! `BulkheadCore`: the core's slots and FIFO queue. The Python pools do the
//! waiting (threading events, asyncio futures) and ask this object who
//! holds a slot.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use resilience_core::{Admission, Bulkhead, BulkheadConfig, CancelOutcome, ConfigError, Ticket};

use crate::duration::duration_arg;
use crate::errors::config_error;
use crate::num::attempt_i64;

/// Slots and a FIFO queue of tickets.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct BulkheadCore {
    core: Bulkhead,
}

fn non_negative_u32(parameter: &'static str, value: &Bound<'_, PyAny>, minimum: i64) -> PyResult<u32> {
    let n = attempt_i64(value)?;
    if n < minimum {
        let requirement = if minimum == 0 { ">= 0" } else { ">= 1" };
        return Err(config_error(&ConfigError::new(parameter, requirement, n)));
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

#[pymethods]
impl BulkheadCore {
    #[new]
    fn new(
        max_concurrent: &Bound<'_, PyAny>,
        max_queue_size: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let max_concurrent = non_negative_u32("max_concurrent", max_concurrent, 1)?;
        let max_queue_size = non_negative_u32("max_queue_size", max_queue_size, 0)?;
        let timeout = duration_arg("timeout", timeout)?;
        let config = BulkheadConfig::new(max_concurrent, max_queue_size, timeout).map_err(|e| config_error(&e))?;
        Ok(Self {
            core: Bulkhead::new(config),
        })
    }

    /// How long `acquire(timeout)` waits, in seconds: the pool's timeout when
    /// `timeout` is `None`, else `timeout` validated like the pool's (a
    /// `ValueError` naming `timeout` for NaN, infinity, negative or too large).
    #[pyo3(signature = (timeout=None))]
    fn wait_seconds(&self, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
        match timeout.filter(|t| !t.is_none()) {
            None => Ok(self.core.config().timeout().as_secs_f64()),
            Some(timeout) => Ok(duration_arg("timeout", timeout)?.as_secs_f64()),
        }
    }

    /// `None` when a slot was taken at once, else the ticket to wait on;
    /// raises `RuntimeError("Queue is full (max: N)")` when the queue is full.
    fn try_acquire(&self) -> PyResult<Option<u64>> {
        match self.core.try_acquire() {
            Admission::Acquired => Ok(None),
            Admission::Queued(Ticket(t)) => Ok(Some(t)),
            Admission::QueueFull => Err(PyRuntimeError::new_err(format!(
                "Queue is full (max: {})",
                self.core.config().max_queue_size()
            ))),
        }
    }

    /// Gives a slot back; returns the ticket of the waiter it was handed to.
    fn release(&self) -> Option<u64> {
        self.core.release().map(|Ticket(t)| t)
    }

    /// A waiter gave up: `True` if it left the queue, `False` if a release
    /// had already handed it the slot (it now owns the slot).
    fn cancel(&self, ticket: u64) -> bool {
        self.core.cancel(Ticket(ticket)) == CancelOutcome::Withdrawn
    }

    /// `(active, queued)`.
    fn stats(&self) -> (u32, u32) {
        let s = self.core.stats();
        (s.active, s.queued)
    }
}
