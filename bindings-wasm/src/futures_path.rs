//! The road not taken, kept for `bench/js` (cargo feature `futures-bench`,
//! never in the package): the whole retry loop and breaker call in Rust,
//! awaiting the user's promise through `wasm-bindgen-futures` and sleeping
//! on a `setTimeout` promise. `bench/js/RESULTS.md` compares it with the
//! shipped design (JS awaits, wasm decides) on the same run.

use std::time::Duration;

use js_sys::{Function, Promise};
use resilience_core::{BreakerError, Retry, TimedOut};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::{BreakerCore, RetryPolicyCore};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
}

/// Resolves after `delay` (clamped to 2^31-1 ms) through a setTimeout promise.
async fn sleep(delay: Duration) {
    let ms = (delay.as_secs_f64() * 1000.0).min(2_147_483_647.0);
    let timer = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms);
    });
    // A setTimeout promise never rejects.
    let _ = JsFuture::from(timer).await;
}

/// Calls `f(arg)` and awaits whatever it returns.
async fn call(f: &Function, arg: &JsValue) -> Result<JsValue, JsValue> {
    let value = f.call1(&JsValue::UNDEFINED, arg)?;
    JsFuture::from(Promise::resolve(&value)).await
}

/// The operation's error, or a timed-out attempt (core's async executor
/// races attempts against its sleeper when the policy has an attempt
/// timeout, so its error type must hold one).
struct AttemptError(JsValue);

impl From<TimedOut> for AttemptError {
    fn from(t: TimedOut) -> Self {
        Self(JsValue::from_str(&t.to_string()))
    }
}

#[wasm_bindgen]
impl RetryPolicyCore {
    /// Runs `f(attempt)` under this policy with core's async executor.
    pub async fn execute_via_futures(&self, f: Function) -> Result<JsValue, JsValue> {
        Retry::new(self.policy(), sleep)
            .call_async(|attempt| {
                let f = f.clone();
                async move { call(&f, &JsValue::from(attempt)).await.map_err(AttemptError) }
            })
            .await
            .map_err(|e| e.error.0)
    }
}

#[wasm_bindgen]
impl BreakerCore {
    /// Runs `f()` through this breaker with core's async call (every error counts).
    pub async fn execute_via_futures(&self, f: Function) -> Result<JsValue, JsValue> {
        self.breaker()
            .call_async(|| async { call(&f, &JsValue::UNDEFINED).await }, |_| true)
            .await
            .map_err(|e| match e {
                BreakerError::Inner(e) => e,
                BreakerError::Open(rejected) => JsValue::from_str(&rejected.to_string()),
                // An error this release does not know.
                _ => JsValue::from_str("circuit breaker error"),
            })
    }
}
