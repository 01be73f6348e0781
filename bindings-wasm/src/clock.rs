//! The breaker's clock: `performance.now()` or a user's `clock()` function.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use js_sys::Function;
use resilience_core::Clock;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic milliseconds from `performance.now()` (Node >= 16, browsers) or
/// from an injected function returning milliseconds.
///
/// Two ways to read it. On demand: core asks, and the clock is called from
/// wasm (a consecutive breaker needs time only when it is not closed). Held:
/// a breaker whose config reads the clock when closed (a time window, slow
/// calls) needs a reading on every call, so the glue reads the clock itself
/// in JavaScript — a call from wasm into a JS function costs far more than
/// the reading — and hands it over with the call ([`JsClock::hold`]); every
/// question core asks during that call gets that one reading.
///
/// A number is a reading whatever its value: core's `clock_reading` rule
/// makes NaN and negative readings 0 and saturates huge ones. Anything else
/// (a string, `undefined`) is a broken clock, as is an exception: `Clock::now`
/// cannot fail, so the error is kept and the last good reading returned; the
/// binding method that asked reports it with [`JsClock::take_error`] once
/// the core call is done.
#[derive(Debug)]
pub(crate) struct JsClock {
    user: Option<Function>,
    last: Cell<Duration>,
    held: Cell<Option<Duration>>,
    error: RefCell<Option<JsValue>>,
}

impl JsClock {
    pub(crate) fn new(user: Option<Function>) -> Self {
        Self {
            user,
            last: Cell::new(Duration::ZERO),
            held: Cell::new(None),
            error: RefCell::new(None),
        }
    }

    /// The reading core gets until [`JsClock::release`]: `Some(ms)` read by
    /// the glue (through core's `clock_reading` rule), or `None` for the last
    /// good reading (the glue's read of the clock failed).
    pub(crate) fn hold(&self, ms: Option<f64>) {
        let reading = match ms {
            Some(ms) => reading_of(ms),
            None => self.last.get(),
        };
        self.last.set(reading);
        self.held.set(Some(reading));
    }

    /// Back to reading on demand.
    pub(crate) fn release(&self) {
        self.held.set(None);
    }

    /// Whether the user's clock threw since the last `take_error`.
    pub(crate) fn has_error(&self) -> bool {
        self.error.borrow().is_some()
    }

    /// The exception the user's clock threw during the last core call, if any.
    pub(crate) fn take_error(&self) -> Result<(), JsValue> {
        match self.error.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A reading in milliseconds as core's clock reading (see
/// [`crate::held::reading_ms`]): the milliseconds become whole nanoseconds,
/// a unit conversion, and core's `clock_reading` rule judges them.
///
/// Why not the millisecond rule for every reading: on wasm32 its exact
/// float conversion (`Duration::try_from_secs_f64`, 128-bit arithmetic)
/// costs more than the rest of a windowed breaker's call (bench/js, S7).
fn reading_of(ms: f64) -> Duration {
    crate::held::reading_ms(ms)
}

impl Clock for JsClock {
    fn now(&self) -> Duration {
        if let Some(reading) = self.held.get() {
            return reading;
        }
        let ms = match &self.user {
            None => Ok(Some(performance_now())),
            Some(f) => f.call0(&JsValue::UNDEFINED).map(|v| v.as_f64()),
        };
        match ms {
            Ok(Some(ms)) => {
                let reading = reading_of(ms);
                self.last.set(reading);
                reading
            }
            Ok(None) => {
                let message = "clock() must return a number of milliseconds";
                *self.error.borrow_mut() = Some(js_sys::TypeError::new(message).into());
                self.last.get()
            }
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                self.last.get()
            }
        }
    }
}
