//! The retry policy and its per-execution retry sequences.

use std::cell::RefCell;

use resilience_core::{
    parse_retry_after, BackoffStrategy, ConfigError, GiveUpReason, Jitter, RetryDecision, RetryPolicy, RetryState,
    DEFAULT_RETRYABLE_STATUS_CODES,
};
use wasm_bindgen::prelude::*;

use crate::answers::RetryAnswer;
use crate::config::{config_error, count, millis, reading_from_millis, to_millis};

/// A validated retry policy plus the retry sequences in flight.
///
/// A sequence (core `RetryState`) lives in a slot of a small slab so the
/// glue can drive it with plain numbers: `begin` → `on_failure`* → `end`.
/// No JS object is created per execution.
#[wasm_bindgen]
#[derive(Debug)]
pub struct RetryPolicyCore {
    policy: RetryPolicy,
    sequences: RefCell<Slab>,
}

#[derive(Debug, Default)]
struct Slab {
    slots: Vec<Option<RetryState>>,
    free: Vec<u32>,
}

#[wasm_bindgen]
impl RetryPolicyCore {
    /// Validates and builds a policy; `undefined` options take core's
    /// defaults. `status_codes` is `undefined` for "never retry a response";
    /// `seed` is `undefined`, a number or a bigint.
    #[wasm_bindgen(constructor)]
    pub fn new(
        max_attempts: Option<f64>,
        backoff: Option<String>,
        base_delay_ms: Option<f64>,
        max_delay_ms: Option<f64>,
        jitter: Option<String>,
        status_codes: Option<Vec<f64>>,
        seed: JsValue,
    ) -> Result<RetryPolicyCore, JsValue> {
        let mut builder = RetryPolicy::builder().maybe_seed(seed_from(&seed)?);
        if let Some(n) = max_attempts {
            builder = builder.max_attempts(count("max_attempts", n, 1)?);
        }
        if let Some(name) = backoff {
            builder = builder.backoff(name.parse::<BackoffStrategy>().map_err(|e| config_error(&e))?);
        }
        if let Some(ms) = base_delay_ms {
            builder = builder.base_delay(millis("base_delay", ms)?);
        }
        if let Some(ms) = max_delay_ms {
            builder = builder.max_delay(millis("max_delay", ms)?);
        }
        if let Some(name) = jitter {
            builder = builder.jitter(name.parse::<Jitter>().map_err(|e| config_error(&e))?);
        }
        if let Some(codes) = status_codes {
            builder = builder.retryable_status_codes(status_codes_from(&codes)?);
        }
        let policy = builder.build().map_err(|e| config_error(&e))?;
        Ok(Self {
            policy,
            sequences: RefCell::new(Slab::default()),
        })
    }

    /// Total attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.policy.max_attempts()
    }

    /// The backoff strategy's name.
    pub fn backoff(&self) -> String {
        self.policy.backoff().as_str().to_owned()
    }

    /// The base delay in ms.
    pub fn base_delay_ms(&self) -> f64 {
        to_millis(self.policy.base_delay())
    }

    /// The cap on the un-jittered delay, in ms.
    pub fn max_delay_ms(&self) -> f64 {
        to_millis(self.policy.max_delay())
    }

    /// The jitter mode's name.
    pub fn jitter(&self) -> String {
        self.policy.jitter().as_str().to_owned()
    }

    /// The jittered delay in ms after failed attempt `attempt` (`<= 0` gives
    /// 0). Attempts and statuses arrive as integers: the glue rejects other
    /// attempts (ConfigError) and calls a non-integer status not retryable.
    pub fn calculate_delay_ms(&self, attempt: f64) -> f64 {
        to_millis(self.policy.calculate_delay(attempt as i64))
    }

    /// Whether to retry after failed attempt `attempt` given whether the
    /// error matched the retry filter.
    pub fn should_retry(&self, attempt: f64, retryable: bool) -> bool {
        self.policy.should_retry(attempt as i64, retryable)
    }

    /// Whether to retry a response with `status` after attempt `attempt`.
    pub fn should_retry_status(&self, status: f64, attempt: f64) -> bool {
        self.policy.should_retry_status(status as i64, attempt as i64)
    }

    /// Starts a retry sequence; returns its handle.
    pub fn begin(&self) -> u32 {
        let mut slab = self.sequences.borrow_mut();
        match slab.free.pop() {
            Some(handle) => {
                if let Some(slot) = slab.slots.get_mut(handle as usize) {
                    *slot = Some(RetryState::new());
                }
                handle
            }
            None => {
                slab.slots.push(Some(RetryState::new()));
                u32::try_from(slab.slots.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    /// The current attempt of sequence `handle` failed. Returns the delay in
    /// ms before the next attempt (>= 0), or a negative [`RetryAnswer`]
    /// (give up: attempts used up, or not retryable). `retry_after_ms` is a server's hint
    /// (NaN for none): the delay is then at least the hint capped at
    /// `max_delay`. An unknown handle gives up.
    pub fn on_failure(&self, handle: u32, retryable: bool, retry_after_ms: f64) -> f64 {
        let hint = (!retry_after_ms.is_nan()).then(|| reading_from_millis(retry_after_ms));
        let mut slab = self.sequences.borrow_mut();
        let Some(Some(state)) = slab.slots.get_mut(handle as usize) else {
            return RetryAnswer::GiveUpExhausted.as_f64();
        };
        match state.on_failure_with_hint(&self.policy, retryable, hint) {
            RetryDecision::Retry { delay, .. } => to_millis(delay),
            RetryDecision::GiveUp {
                reason: GiveUpReason::Exhausted,
                ..
            } => RetryAnswer::GiveUpExhausted.as_f64(),
            RetryDecision::GiveUp {
                reason: GiveUpReason::NotRetryable,
                ..
            } => RetryAnswer::GiveUpNotRetryable.as_f64(),
        }
    }

    /// Ends sequence `handle`, freeing its slot. Ending twice is harmless.
    pub fn end(&self, handle: u32) {
        let mut slab = self.sequences.borrow_mut();
        if let Some(slot) = slab.slots.get_mut(handle as usize) {
            if slot.take().is_some() {
                slab.free.push(handle);
            }
        }
    }

    /// The core policy (for the benchmark-only futures path).
    #[cfg(feature = "futures-bench")]
    pub(crate) fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sequences currently in flight (for leak tests).
    pub fn sequences_in_flight(&self) -> u32 {
        let slab = self.sequences.borrow();
        u32::try_from(slab.slots.iter().filter(|s| s.is_some()).count()).unwrap_or(u32::MAX)
    }
}

/// The wait in ms a `Retry-After` header value asks for at wall-clock time
/// `now_unix_ms`, or `undefined` when the value is neither delta-seconds nor
/// an HTTP-date.
#[wasm_bindgen]
pub fn retry_after_ms(header: &str, now_unix_ms: f64) -> Option<f64> {
    parse_retry_after(header, reading_from_millis(now_unix_ms)).map(to_millis)
}

/// The statuses `withRetry` retries when its options name none: core's, so a
/// response is retried alike in every language.
#[wasm_bindgen]
pub fn default_retryable_status_codes() -> Vec<u16> {
    DEFAULT_RETRYABLE_STATUS_CODES.to_vec()
}

const STATUS_REQUIREMENT: &str = "integers in 0..=65535";
const SEED_REQUIREMENT: &str = "an integer in 0..=18446744073709551615";

fn status_codes_from(codes: &[f64]) -> Result<Vec<u16>, JsValue> {
    codes
        .iter()
        .map(|&c| {
            let ok = c.is_finite() && c.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&c);
            if ok {
                Ok(c as u16)
            } else {
                Err(config_error(&ConfigError::new(
                    "retryable_status_codes",
                    STATUS_REQUIREMENT,
                    c,
                )))
            }
        })
        .collect()
}

fn seed_from(seed: &JsValue) -> Result<Option<u64>, JsValue> {
    if seed.is_undefined() || seed.is_null() {
        return Ok(None);
    }
    let bad = || config_error(&ConfigError::new("seed", SEED_REQUIREMENT, describe(seed)));
    if let Some(n) = seed.as_f64() {
        // Exactly representable integers only: 2^53 and beyond must be bigints.
        let ok = n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n);
        return if ok { Ok(Some(n as u64)) } else { Err(bad()) };
    }
    if seed.is_bigint() {
        let big = js_sys::BigInt::from(seed.clone());
        return u64::try_from(big).map(Some).map_err(|_| bad());
    }
    Err(bad())
}

fn describe(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| value.as_f64().map(|n| n.to_string()))
        .unwrap_or_else(|| format!("{value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn millis_round_trip_exactly() {
        for ns in [0u64, 1, 199_999_999, 250_000_000, 75_000_000_000] {
            let ms = to_millis(Duration::from_nanos(ns));
            assert_eq!(reading_from_millis(ms), Duration::from_nanos(ns));
        }
    }
}
