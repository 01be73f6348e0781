//! The bulkhead: slots and a FIFO queue; the glue does the waiting.

use resilience_core::{
    Admission, Bulkhead, BulkheadConfig, CancelOutcome, Ticket, DEFAULT_BULKHEAD_TIMEOUT, DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_QUEUE_SIZE,
};
use wasm_bindgen::prelude::*;

use crate::answers::{BulkheadAdmission, BulkheadHandover};
use crate::config::{config_error, count, millis, to_millis};

/// A core bulkhead. Tickets are non-negative numbers (exact below 2^53).
#[wasm_bindgen]
#[derive(Debug)]
pub struct BulkheadCore {
    bulkhead: Bulkhead,
}

#[wasm_bindgen]
impl BulkheadCore {
    /// Validates and builds an empty bulkhead; `undefined` options take
    /// core's defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(
        max_concurrent: Option<f64>,
        max_queue_size: Option<f64>,
        timeout_ms: Option<f64>,
    ) -> Result<BulkheadCore, JsValue> {
        let config = BulkheadConfig::new(
            max_concurrent.map_or(Ok(DEFAULT_MAX_CONCURRENT), |n| count("max_concurrent", n, 1))?,
            max_queue_size.map_or(Ok(DEFAULT_MAX_QUEUE_SIZE), |n| count("max_queue_size", n, 0))?,
            timeout_ms.map_or(Ok(DEFAULT_BULKHEAD_TIMEOUT), |ms| millis("timeout", ms))?,
        )
        .map_err(|e| config_error(&e))?;
        Ok(Self {
            bulkhead: Bulkhead::new(config),
        })
    }

    /// `BulkheadAdmission::Acquired` (a slot is yours),
    /// `BulkheadAdmission::QueueFull`, or else the ticket (>= 0) of your
    /// place in the queue.
    pub fn try_acquire(&self) -> f64 {
        match self.bulkhead.try_acquire() {
            Admission::Acquired => BulkheadAdmission::Acquired.as_f64(),
            Admission::QueueFull => BulkheadAdmission::QueueFull.as_f64(),
            Admission::Queued(Ticket(t)) => t as f64,
        }
    }

    /// Gives a slot back: the ticket (>= 0) of the waiter it passed to, or
    /// `BulkheadHandover::NoWaiter`.
    pub fn release(&self) -> f64 {
        match self.bulkhead.release() {
            Some(Ticket(t)) => t as f64,
            None => BulkheadHandover::NoWaiter.as_f64(),
        }
    }

    /// A queued waiter gives up: `true` if it left the queue, `false` if a
    /// release had already handed it the slot (it must use or release it).
    pub fn cancel(&self, ticket: f64) -> bool {
        self.bulkhead.cancel(Ticket(ticket as u64)) == CancelOutcome::Withdrawn
    }

    /// Slots in use.
    pub fn active(&self) -> u32 {
        self.bulkhead.stats().active
    }

    /// Waiters in the queue.
    pub fn queued(&self) -> u32 {
        self.bulkhead.stats().queued
    }

    /// How long a waiter waits, in ms.
    pub fn timeout_ms(&self) -> f64 {
        to_millis(self.bulkhead.config().timeout())
    }
}
