//! The breaker's clock: `performance.now()` or a user's `clock()` function.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use js_sys::Function;
use resilience_core::rules::{self, Unit};
use resilience_core::Clock;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic milliseconds from `performance.now()` (Node >= 16, browsers) or
/// from an injected function returning milliseconds, read afresh every time
/// core asks: a breaker whose config reads the clock when closed (a time
/// window, slow calls) asks on every call, and nothing here caches.
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
    error: RefCell<Option<JsValue>>,
}

impl JsClock {
    pub(crate) fn new(user: Option<Function>) -> Self {
        Self {
            user,
            last: Cell::new(Duration::ZERO),
            error: RefCell::new(None),
        }
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

impl Clock for JsClock {
    fn now(&self) -> Duration {
        let ms = match &self.user {
            None => Ok(Some(performance_now())),
            Some(f) => f.call0(&JsValue::UNDEFINED).map(|v| v.as_f64()),
        };
        match ms {
            Ok(Some(ms)) => {
                let reading = rules::clock_reading(ms, Unit::Milliseconds);
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
