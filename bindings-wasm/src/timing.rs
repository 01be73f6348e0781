//! Timeouts and hedging: core validates the configuration and takes every
//! decision (`Timeout`/`Deadline`, `HedgingState`); the glue keeps the
//! timers, starts the copies and cancels the losers with `AbortSignal`s.

use std::cell::{Cell, RefCell};

use resilience_core::rules::{self, Unit};
use resilience_core::{HedgeOutcome, HedgeStep, HedgingConfig, HedgingState, Timeout};
use wasm_bindgen::prelude::*;

use crate::answers::{HedgeVerdict, HedgeWait};
use crate::config::{config_error, flat_names, to_millis};
use crate::held::reading_ms;
use crate::value::{given, value_of};

/// A validated timeout (rule `timeout`: a duration above zero).
#[wasm_bindgen]
#[derive(Debug)]
pub struct TimeoutCore {
    timeout: Timeout,
}

#[wasm_bindgen]
impl TimeoutCore {
    /// `undefined` takes core's default (30 s).
    #[wasm_bindgen(constructor)]
    pub fn new(timeout_ms: JsValue) -> Result<TimeoutCore, JsValue> {
        let timeout = match given(&timeout_ms) {
            None => Timeout::default(),
            Some(v) => rules::timeout("timeout", v, Unit::Milliseconds)
                .and_then(Timeout::new)
                .map_err(|e| config_error(&e, flat_names, &timeout_ms))?,
        };
        Ok(Self { timeout })
    }

    /// How long a call may take, in ms (the timer the glue arms).
    pub fn timeout_ms(&self) -> f64 {
        to_millis(self.timeout.duration())
    }

    /// Rule `timeout_expiry`: whether a call started at `start_ms` has timed
    /// out when the clock reads `now_ms`.
    pub fn expired(&self, start_ms: f64, now_ms: f64) -> bool {
        self.timeout.start(reading_ms(start_ms)).expired(reading_ms(now_ms))
    }

    /// The time left, in whole nanoseconds (a bigint: it may exceed 2^53).
    pub fn remaining_ns(&self, start_ms: f64, now_ms: f64) -> u64 {
        let left = self.timeout.start(reading_ms(start_ms)).remaining(reading_ms(now_ms));
        u64::try_from(left.as_nanos()).unwrap_or(u64::MAX)
    }
}

/// How hedging's options spell core's parameters.
fn hedge_names(parameter: &str) -> Option<&'static str> {
    (parameter == "hedge_delay").then_some("delayMs")
}

/// A validated hedging configuration plus the hedges in flight (core's
/// `HedgingState`, one per hedged call, driven with clock readings).
#[wasm_bindgen]
#[derive(Debug)]
pub struct HedgingCore {
    config: HedgingConfig,
    hedges: RefCell<Vec<Option<HedgingState>>>,
    free: RefCell<Vec<u32>>,
    /// When the next copy is due, from the last `next` that answered Wait.
    wait_until_ms: Cell<f64>,
}

#[wasm_bindgen]
impl HedgingCore {
    /// Validates with core's rules (`hedge_delay`: a duration; zero starts
    /// every copy at once; `max_hedged_attempts`: 1..=10); `undefined`
    /// options take core's defaults (2 s, 1).
    #[wasm_bindgen(constructor)]
    pub fn new(delay_ms: JsValue, max_hedged_attempts: JsValue) -> Result<HedgingCore, JsValue> {
        let mut builder = HedgingConfig::builder();
        if let Some(v) = given(&delay_ms) {
            let d = rules::duration("hedge_delay", v, Unit::Milliseconds)
                .map_err(|e| config_error(&e, hedge_names, &delay_ms))?;
            builder = builder.hedge_delay(d);
        }
        if given(&max_hedged_attempts).is_some() {
            let n = rules::hedged_attempts(value_of(&max_hedged_attempts))
                .map_err(|e| config_error(&e, hedge_names, &max_hedged_attempts))?;
            builder = builder.max_hedged_attempts(n);
        }
        let config = builder
            .build()
            .map_err(|e| config_error(&e, hedge_names, &JsValue::UNDEFINED))?;
        Ok(Self {
            config,
            hedges: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
            wait_until_ms: Cell::new(f64::NAN),
        })
    }

    /// How long an attempt may go unanswered before the next copy, in ms.
    pub fn delay_ms(&self) -> f64 {
        to_millis(self.config.hedge_delay())
    }

    /// Copies started beyond the first, at most.
    pub fn max_hedged_attempts(&self) -> u32 {
        self.config.max_hedged_attempts()
    }

    /// A fresh hedge; returns its handle.
    pub fn begin(&self) -> u32 {
        let state = Some(self.config.start());
        let mut hedges = self.hedges.borrow_mut();
        if let Some(handle) = self.free.borrow_mut().pop() {
            if let Some(slot) = hedges.get_mut(handle as usize) {
                *slot = state;
                return handle;
            }
        }
        hedges.push(state);
        u32::try_from(hedges.len() - 1).unwrap_or(u32::MAX)
    }

    /// Rule `hedge_timing` at clock reading `now_ms`: the attempt to start
    /// now (>= 1), or `HedgeWait::Wait` (then `wait_until_ms` says until
    /// when; NaN: until an attempt ends) or `HedgeWait::Finished`.
    pub fn next(&self, handle: u32, now_ms: f64) -> f64 {
        let mut hedges = self.hedges.borrow_mut();
        let Some(Some(state)) = hedges.get_mut(handle as usize) else {
            return HedgeWait::Finished.as_f64();
        };
        match state.next(reading_ms(now_ms)) {
            HedgeStep::Launch { attempt } => f64::from(attempt),
            HedgeStep::Wait { until } => {
                self.wait_until_ms.set(until.map_or(f64::NAN, to_millis));
                HedgeWait::Wait.as_f64()
            }
            // Finished, or a step this release does not know: start nothing.
            _ => HedgeWait::Finished.as_f64(),
        }
    }

    /// The clock reading (ms) the last `Wait` waits for (NaN: none).
    pub fn wait_until_ms(&self) -> f64 {
        self.wait_until_ms.get()
    }

    /// Rule `hedge_outcome`: attempt `attempt` ended at `now_ms`, its
    /// answer acceptable or not.
    pub fn on_outcome(&self, handle: u32, attempt: u32, accepted: bool, now_ms: f64) -> HedgeVerdict {
        let mut hedges = self.hedges.borrow_mut();
        let Some(Some(state)) = hedges.get_mut(handle as usize) else {
            return HedgeVerdict::Ignored;
        };
        match state.on_outcome(attempt, accepted, reading_ms(now_ms)) {
            HedgeOutcome::Won { .. } => HedgeVerdict::Won,
            HedgeOutcome::Continue => HedgeVerdict::Continue,
            HedgeOutcome::AllFailed { .. } => HedgeVerdict::AllFailed,
            _ => HedgeVerdict::Ignored,
        }
    }

    /// Ends hedge `handle`, freeing its slot. Ending twice is harmless.
    pub fn end(&self, handle: u32) {
        let mut hedges = self.hedges.borrow_mut();
        if let Some(slot) = hedges.get_mut(handle as usize) {
            if slot.take().is_some() {
                self.free.borrow_mut().push(handle);
            }
        }
    }

    /// Hedges in flight (for leak tests).
    pub fn in_flight(&self) -> u32 {
        u32::try_from(self.hedges.borrow().iter().filter(|s| s.is_some()).count()).unwrap_or(u32::MAX)
    }
}
