//! The circuit breaker, driven by the glue through permit tokens.

use std::cell::Cell;

use js_sys::Function;
use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, PermitToken};
use wasm_bindgen::prelude::*;

use crate::answers::{BreakerAdmission, BreakerState};
use crate::clock::JsClock;
use crate::config::{config_error, count, millis, to_millis};

/// A core circuit breaker on a JS clock.
///
/// `acquire` returns a permit token as a non-negative number (exact: tokens
/// fit in 33 bits) or a negative [`BreakerAdmission`]; the glue hands the
/// token back to exactly one of `record_success`, `record_failure` or
/// `release`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct BreakerCore {
    breaker: CircuitBreaker<JsClock>,
    /// The remaining open time of the last rejection, in ms.
    last_retry_after_ms: Cell<f64>,
}

#[wasm_bindgen]
impl BreakerCore {
    /// Validates and builds a closed breaker; `undefined` options take
    /// core's defaults. `clock` returns monotonic milliseconds; `undefined`
    /// means `performance.now()`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        failure_threshold: Option<f64>,
        recovery_timeout_ms: Option<f64>,
        half_open_max_calls: Option<f64>,
        clock: Option<Function>,
    ) -> Result<BreakerCore, JsValue> {
        let mut builder = BreakerConfig::builder();
        if let Some(n) = failure_threshold {
            builder = builder.failure_threshold(count("failure_threshold", n, 1)?);
        }
        if let Some(ms) = recovery_timeout_ms {
            builder = builder.recovery_timeout(millis("recovery_timeout", ms)?);
        }
        if let Some(n) = half_open_max_calls {
            builder = builder.half_open_max_calls(count("half_open_max_calls", n, 1)?);
        }
        let config = builder.build().map_err(|e| config_error(&e))?;
        Ok(Self {
            breaker: CircuitBreaker::new(config, JsClock::new(clock)),
            last_retry_after_ms: Cell::new(0.0),
        })
    }

    /// Asks to run one call: a token (>= 0), `BreakerAdmission::Rejected`
    /// (then `retry_after_ms` says how long the breaker stays open), or
    /// `BreakerAdmission::ClockFailed` (then `take_clock_error` returns the
    /// clock's error).
    ///
    /// A plain number rather than a `Result`: on the hot path a `Result`
    /// return costs a JS array per call (bench/js).
    pub fn acquire(&self) -> f64 {
        let answer = match self.breaker.acquire_token() {
            Ok(token) => token.to_raw() as f64,
            Err(rejected) => {
                self.last_retry_after_ms.set(to_millis(rejected.retry_after));
                BreakerAdmission::Rejected.as_f64()
            }
        };
        if self.breaker.clock().has_error() {
            if answer >= 0.0 {
                self.release(answer);
            }
            return BreakerAdmission::ClockFailed.as_f64();
        }
        answer
    }

    /// The exception the user's clock threw during the last `acquire`
    /// (`undefined` if none).
    pub fn take_clock_error(&self) -> JsValue {
        self.breaker.clock().take_error().err().unwrap_or(JsValue::UNDEFINED)
    }

    /// The remaining open time, in ms, of the last rejected `acquire`.
    pub fn retry_after_ms(&self) -> f64 {
        self.last_retry_after_ms.get()
    }

    /// The call admitted with `token` succeeded.
    pub fn record_success(&self, token: f64) {
        self.breaker.record_success(token_from(token));
    }

    /// The call admitted with `token` failed with a counted error.
    pub fn record_failure(&self, token: f64) -> Result<(), JsValue> {
        self.breaker.record_failure(token_from(token));
        self.breaker.clock().take_error()
    }

    /// The call admitted with `token` failed with an uncounted error.
    pub fn release(&self, token: f64) {
        self.breaker.release(token_from(token));
    }

    /// The state as the view reads it: an open breaker whose recovery
    /// timeout has passed reads half-open.
    pub fn state(&self) -> Result<BreakerState, JsValue> {
        let state = match self.breaker.state() {
            CircuitState::Closed => BreakerState::Closed,
            CircuitState::Open => BreakerState::Open,
            CircuitState::HalfOpen => BreakerState::HalfOpen,
        };
        self.breaker.clock().take_error()?;
        Ok(state)
    }

    /// The core breaker (for the benchmark-only futures path).
    #[cfg(feature = "futures-bench")]
    pub(crate) fn breaker(&self) -> &CircuitBreaker<JsClock> {
        &self.breaker
    }

    /// Counted failures since the last success or reset.
    pub fn failure_count(&self) -> u32 {
        self.breaker.failure_count()
    }

    /// Back to closed with no failures.
    pub fn reset(&self) {
        self.breaker.reset();
    }
}

fn token_from(raw: f64) -> PermitToken {
    // Tokens come from `acquire`; anything else is at worst ignored by core.
    PermitToken::from_raw(raw as u64)
}
