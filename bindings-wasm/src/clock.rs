//! The breaker's clock: `performance.now()` or a user's `clock()` function.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use js_sys::Function;
use resilience_core::Clock;
use wasm_bindgen::prelude::*;

use crate::config::reading_from_millis;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic milliseconds from `performance.now()` (Node >= 16, browsers) or
/// from an injected function returning milliseconds.
///
/// `Clock::now` cannot fail, so an exception thrown by the user's clock is
/// kept and the last good reading returned; the binding method that asked
/// re-throws it with [`JsClock::take_error`] once the core call is done.
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
            None => Ok(performance_now()),
            Some(f) => f.call0(&JsValue::UNDEFINED).map(|v| v.as_f64().unwrap_or(f64::NAN)),
        };
        match ms {
            Ok(ms) if !ms.is_nan() => {
                let reading = reading_from_millis(ms);
                self.last.set(reading);
                reading
            }
            Ok(bad) => {
                let message = format!("clock() must return a number of milliseconds, got {bad}");
                *self.error.borrow_mut() = Some(js_sys::TypeError::new(&message).into());
                self.last.get()
            }
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                self.last.get()
            }
        }
    }
}
