//! The retry policy and its per-execution retry sequences.

use std::cell::RefCell;

use resilience_core::rules::{self, Unit};
use resilience_core::{
    parse_retry_after, GiveUpReason, RetryDecision, RetryPolicy, RetryState, DEFAULT_RETRYABLE_STATUS_CODES,
};
use wasm_bindgen::prelude::*;

use crate::answers::{FilterVerdict, RetryAnswer};
use crate::config::{config_error, flat_names, to_millis};
use crate::value::{given, value_of};

/// A validated retry policy plus the retry sequences in flight.
///
/// A sequence (core `RetryState`) lives in a slot of a small slab so the
/// glue can drive it with plain numbers: `begin` → (`needs_classification`,
/// `on_failure`)* → `end`. No JS object is created per execution.
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

/// `raw` through a core rule; its error as the package's ConfigError
/// carrying `raw` as the rejected value.
fn checked<T>(
    raw: &JsValue,
    rule: impl FnOnce(resilience_core::Value) -> Result<T, resilience_core::ConfigError>,
) -> Result<T, JsValue> {
    rule(value_of(raw)).map_err(|e| config_error(&e, flat_names, raw))
}

#[wasm_bindgen]
impl RetryPolicyCore {
    /// Validates and builds a policy with core's rules; `undefined` options
    /// take core's defaults. `status_codes` is `undefined` or `null` for
    /// "never retry a response", else an array; `seed` is `undefined`
    /// (or `null`: from the OS), a number or a bigint.
    #[wasm_bindgen(constructor)]
    pub fn new(
        max_attempts: JsValue,
        backoff: JsValue,
        base_delay_ms: JsValue,
        max_delay_ms: JsValue,
        jitter: JsValue,
        status_codes: JsValue,
        seed: JsValue,
    ) -> Result<RetryPolicyCore, JsValue> {
        let mut builder = RetryPolicy::builder();
        if given(&max_attempts).is_some() {
            builder = builder.max_attempts(checked(&max_attempts, |v| rules::count_of("max_attempts", v))?);
        }
        if given(&backoff).is_some() {
            builder = builder.backoff(checked(&backoff, rules::backoff)?);
        }
        if given(&base_delay_ms).is_some() {
            builder = builder.base_delay(checked(&base_delay_ms, |v| {
                rules::duration("base_delay", v, Unit::Milliseconds)
            })?);
        }
        if given(&max_delay_ms).is_some() {
            builder = builder.max_delay(checked(&max_delay_ms, |v| {
                rules::duration("max_delay", v, Unit::Milliseconds)
            })?);
        }
        if given(&jitter).is_some() {
            builder = builder.jitter(checked(&jitter, rules::jitter)?);
        }
        if !status_codes.is_undefined() && !status_codes.is_null() {
            builder = builder.retryable_status_codes(status_codes_from(&status_codes)?);
        }
        if given(&seed).is_some() {
            builder = builder.maybe_seed(checked(&seed, rules::seed)?);
        }
        let policy = builder.build().map_err(|e| {
            // Only max_delay below base_delay is left to fail here.
            let got = if e.parameter() == "max_delay" {
                max_delay_ms.clone()
            } else {
                JsValue::UNDEFINED
            };
            config_error(&e, flat_names, &got)
        })?;
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

    /// The jittered delay in ms after failed attempt `attempt` (`<= 0`
    /// gives 0). `attempt` goes through core's `attempt` rule: a fraction,
    /// NaN, an infinity or a non-number is a ConfigError naming `attempt`.
    pub fn calculate_delay_ms(&self, attempt: JsValue) -> Result<f64, JsValue> {
        let n = checked(&attempt, rules::attempt)?;
        Ok(to_millis(self.policy.calculate_delay(n)))
    }

    /// Whether to retry after failed attempt `attempt` given whether the
    /// error matched the retry filter (core's `attempt` rule for `attempt`).
    pub fn should_retry(&self, attempt: JsValue, retryable: bool) -> Result<bool, JsValue> {
        let n = checked(&attempt, rules::attempt)?;
        Ok(self.policy.should_retry(n, retryable))
    }

    /// Whether to retry a response with `status` after attempt `attempt`:
    /// core's `response_status` rule (only an integer status is retried) and
    /// `attempt` rule.
    pub fn should_retry_status(&self, status: JsValue, attempt: JsValue) -> Result<bool, JsValue> {
        let n = checked(&attempt, rules::attempt)?;
        Ok(rules::response_status(&value_of(&status)).is_some_and(|s| self.policy.should_retry_status(s, n)))
    }

    /// The retryable status codes as core keeps them (sorted, no
    /// duplicates), or `undefined` for none.
    pub fn retryable_status_codes(&self) -> Option<Vec<u16>> {
        self.policy.retryable_status_codes().map(<[u16]>::to_vec)
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

    /// Rule `predicate_on_last_attempt`: whether the glue must run the
    /// retry filter on the error of sequence `handle`'s attempt in progress
    /// before reporting its failure. An unknown handle needs nothing.
    pub fn needs_classification(&self, handle: u32) -> bool {
        let slab = self.sequences.borrow();
        matches!(slab.slots.get(handle as usize), Some(Some(state)) if state.needs_classification(&self.policy))
    }

    /// The current attempt of sequence `handle` failed; `verdict` is the
    /// retry filter's answer (ignored when core did not ask for one, see
    /// `needs_classification`; a filter that threw is not retryable).
    /// Returns the delay in ms before the next attempt (>= 0), or a negative
    /// [`RetryAnswer`] (give up: attempts used up, or not retryable).
    /// `retry_after_ms` is a server's hint (NaN for none): the delay is then
    /// at least the hint capped at `max_delay`. An unknown handle gives up.
    pub fn on_failure(&self, handle: u32, verdict: FilterVerdict, retry_after_ms: f64) -> f64 {
        let hint = (!retry_after_ms.is_nan()).then(|| rules::clock_reading(retry_after_ms, Unit::Milliseconds));
        let mut slab = self.sequences.borrow_mut();
        let Some(Some(state)) = slab.slots.get_mut(handle as usize) else {
            return RetryAnswer::GiveUpExhausted.as_f64();
        };
        match state.on_failure_classified(&self.policy, || verdict.outcome(), hint) {
            RetryDecision::Retry { delay, .. } => to_millis(delay),
            RetryDecision::GiveUp {
                reason: GiveUpReason::NotRetryable,
                ..
            } => RetryAnswer::GiveUpNotRetryable.as_f64(),
            RetryDecision::GiveUp { .. } => RetryAnswer::GiveUpExhausted.as_f64(),
            // A decision this release does not know: stop with the error.
            _ => RetryAnswer::GiveUpExhausted.as_f64(),
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
    parse_retry_after(header, rules::clock_reading(now_unix_ms, Unit::Milliseconds)).map(to_millis)
}

/// The statuses `withRetry` retries when its options name none: core's, so a
/// response is retried alike in every language.
#[wasm_bindgen]
pub fn default_retryable_status_codes() -> Vec<u16> {
    DEFAULT_RETRYABLE_STATUS_CODES.to_vec()
}

/// Rule `status_codes` over an array's items, or `status_codes_not_a_collection`.
fn status_codes_from(codes: &JsValue) -> Result<Vec<u16>, JsValue> {
    if !codes.is_array() {
        return Err(config_error(
            &rules::status_codes_not_a_collection(value_of(codes)),
            flat_names,
            codes,
        ));
    }
    let items = js_sys::Array::from(codes);
    rules::status_codes(items.iter().map(|item| value_of(&item))).map_err(|e| config_error(&e, flat_names, codes))
}
