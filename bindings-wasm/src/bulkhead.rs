//! The bulkhead: slots and a FIFO queue; the glue does the waiting.

use std::cell::Cell;

use resilience_core::rules::{self, Unit};
use resilience_core::{Admission, Bulkhead, BulkheadConfig, CancelOutcome, Slot, Ticket};
use wasm_bindgen::prelude::*;

use crate::answers::{BulkheadAdmission, BulkheadCancel, BulkheadHandover};
use crate::config::{config_error, flat_names, to_millis};
use crate::value::given;

/// The largest integer a JavaScript number holds exactly, plus one.
const JS_EXACT: u64 = 1 << 53;

/// A core bulkhead. Slots and tickets cross to JavaScript as numbers below
/// 2^53: core's handle without the bits of its tag beyond bit 52 (zero for
/// the first ~500 bulkheads), which are put back on the way in, so core
/// checks every handle it gets back: a slot released twice, another
/// bulkhead's slot or an unknown ticket is refused and changes nothing.
#[wasm_bindgen]
#[derive(Debug)]
pub struct BulkheadCore {
    bulkhead: Bulkhead,
    /// Bits of this bulkhead's handles at and beyond 2^53, learnt from the
    /// first handle it gives out (every handle carries the same tag).
    high: Cell<Option<u64>>,
    /// The ticket of the last `try_acquire` that queued.
    last_ticket: Cell<f64>,
}

#[wasm_bindgen]
impl BulkheadCore {
    /// Validates and builds an empty bulkhead with core's rules; `undefined`
    /// options take core's defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(max_concurrent: JsValue, max_queue_size: JsValue, timeout_ms: JsValue) -> Result<BulkheadCore, JsValue> {
        fn error(raw: &JsValue) -> impl Fn(resilience_core::ConfigError) -> JsValue + '_ {
            move |e| config_error(&e, flat_names, raw)
        }
        let mut builder = BulkheadConfig::builder();
        if let Some(v) = given(&max_concurrent) {
            builder = builder.max_concurrent(rules::count_of("max_concurrent", v).map_err(error(&max_concurrent))?);
        }
        if let Some(v) = given(&max_queue_size) {
            builder = builder.max_queue_size(rules::count_of("max_queue_size", v).map_err(error(&max_queue_size))?);
        }
        if let Some(v) = given(&timeout_ms) {
            builder = builder.timeout(rules::duration("timeout", v, Unit::Milliseconds).map_err(error(&timeout_ms))?);
        }
        let config = builder.build().map_err(error(&JsValue::UNDEFINED))?;
        Ok(Self {
            bulkhead: Bulkhead::new(config),
            high: Cell::new(None),
            last_ticket: Cell::new(0.0),
        })
    }

    fn to_js(&self, raw: u64) -> f64 {
        if self.high.get().is_none() {
            self.high.set(Some(raw & !(JS_EXACT - 1)));
        }
        (raw & (JS_EXACT - 1)) as f64
    }

    fn raw_of(&self, js: f64) -> u64 {
        // Saturating: NaN and negatives are 0 (never a valid handle: tag 0).
        let n = js as u64;
        if n >= JS_EXACT || js.fract() != 0.0 {
            return 0;
        }
        n | self.high.get().unwrap_or(0)
    }

    /// A held slot (>= 0), `BulkheadAdmission::Queued` (then `queued_ticket`
    /// is the ticket of your place in the queue) or
    /// `BulkheadAdmission::QueueFull`.
    pub fn try_acquire(&self) -> f64 {
        match self.bulkhead.try_acquire() {
            Admission::Acquired(slot) => self.to_js(slot.to_raw()),
            Admission::Queued(ticket) => {
                self.last_ticket.set(self.to_js(ticket.to_raw()));
                BulkheadAdmission::Queued.as_f64()
            }
            _ => BulkheadAdmission::QueueFull.as_f64(),
        }
    }

    /// The ticket of the last `try_acquire` that answered `Queued`.
    pub fn queued_ticket(&self) -> f64 {
        self.last_ticket.get()
    }

    /// The slot a waiter holds once a release handed it over (core's
    /// `Ticket::slot`).
    pub fn slot_of_ticket(&self, ticket: f64) -> f64 {
        self.to_js(Ticket::from_raw(self.raw_of(ticket)).slot().to_raw())
    }

    /// Gives `slot` back: the ticket (>= 0) of the waiter it passed to,
    /// `BulkheadHandover::NoWaiter`, or `BulkheadHandover::SlotMisuse` (not
    /// held: refused, nothing changed).
    pub fn release(&self, slot: f64) -> f64 {
        match self.bulkhead.release(Slot::from_raw(self.raw_of(slot))) {
            Ok(Some(ticket)) => self.to_js(ticket.to_raw()),
            Ok(None) => BulkheadHandover::NoWaiter.as_f64(),
            Err(_) => BulkheadHandover::SlotMisuse.as_f64(),
        }
    }

    /// A queued waiter gives up: it left the queue, or a release had already
    /// handed it the slot (it must use or release `slot_of_ticket`), or the
    /// ticket is neither (refused).
    pub fn cancel(&self, ticket: f64) -> BulkheadCancel {
        match self.bulkhead.cancel(Ticket::from_raw(self.raw_of(ticket))) {
            Ok(CancelOutcome::Withdrawn) => BulkheadCancel::Withdrawn,
            Ok(_) => BulkheadCancel::AlreadyGranted,
            Err(_) => BulkheadCancel::TicketMisuse,
        }
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
