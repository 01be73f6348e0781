//! The retry policy and its per-execution retry sequences.

use std::cell::RefCell;

use resilience_core::rules::{self, Unit};
use resilience_core::{
    parse_retry_after, GiveUpReason, RetryDecision, RetryPolicy, RetryState, DEFAULT_RETRYABLE_STATUS_CODES,
};
use wasm_bindgen::prelude::*;

use crate::answers::{FilterVerdict, RetryAnswer};
use crate::config::{config_error, flat_names, to_millis};
use crate::held::{reading_ms, HeldClock};
use crate::load::BudgetCore;
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
    /// The retry budget's clock, set before every decision that may
    /// deposit or withdraw.
    budget_clock: Option<HeldClock>,
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
    /// (or `null`: from the OS), a number or a bigint; `max_elapsed_ms` and
    /// `attempt_timeout_ms` are optional durations (`null`: none, rule
    /// `optional`); `budget` is a handle on a retry budget (`share()` one:
    /// the policy keeps it).
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        max_attempts: JsValue,
        backoff: JsValue,
        base_delay_ms: JsValue,
        max_delay_ms: JsValue,
        jitter: JsValue,
        status_codes: JsValue,
        seed: JsValue,
        max_elapsed_ms: JsValue,
        attempt_timeout_ms: JsValue,
        budget: Option<BudgetCore>,
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
        if given(&max_elapsed_ms).is_some() {
            builder = builder.maybe_max_elapsed(checked(&max_elapsed_ms, |v| {
                rules::optional(v, |v| rules::duration("max_elapsed", v, Unit::Milliseconds))
            })?);
        }
        if given(&attempt_timeout_ms).is_some() {
            builder = builder.maybe_attempt_timeout(checked(&attempt_timeout_ms, |v| {
                rules::optional(v, |v| rules::timeout("attempt_timeout", v, Unit::Milliseconds))
            })?);
        }
        let budget_clock = budget.as_ref().map(BudgetCore::clock);
        if let Some(budget) = &budget {
            builder = builder.budget(budget.budget());
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
            budget_clock,
        })
    }

    /// The deadline of a whole sequence in ms, or `undefined`.
    pub fn max_elapsed_ms(&self) -> Option<f64> {
        self.policy.max_elapsed().map(to_millis)
    }

    /// How long one attempt may take in ms, or `undefined`.
    pub fn attempt_timeout_ms(&self) -> Option<f64> {
        self.policy.attempt_timeout().map(to_millis)
    }

    /// Whether the policy draws on a retry budget (the glue then hands the
    /// budget's clock reading to `start`, `begin` and every `on_*`).
    pub fn has_budget(&self) -> bool {
        self.budget_clock.is_some()
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

    /// Whether a response's `status` is one of the retryable statuses
    /// (core's `response_status` rule: only an integer status is), whatever
    /// the attempt: the result predicate of `withRetry` (the attempt count
    /// is core's `on_result` decision).
    pub fn is_retryable_status(&self, status: JsValue) -> bool {
        let codes = self.policy.retryable_status_codes().unwrap_or_default();
        rules::response_status(&value_of(&status)).is_some_and(|s| codes.iter().any(|&c| i64::from(c) == s))
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

    /// Sets the budget's clock to `budget_ms` (ignored without a budget).
    fn hold_budget(&self, budget_ms: f64) {
        if let Some(clock) = &self.budget_clock {
            clock.set_ms(budget_ms);
        }
    }

    /// Starts a sequence through the policy (with a budget: the first
    /// attempt's deposit) at clock reading `now_ms` (NaN: no clock; the
    /// deadline then counts the waits); the state is core's `start_at` /
    /// `start` answer.
    fn started(&self, now_ms: f64, budget_ms: f64) -> RetryState {
        self.hold_budget(budget_ms);
        if now_ms.is_nan() {
            self.policy.start()
        } else {
            self.policy.start_at(reading_ms(now_ms))
        }
    }

    /// Starts a retry sequence and keeps it; returns its handle (see
    /// `started`).
    pub fn begin(&self, now_ms: f64, budget_ms: f64) -> u32 {
        let state = self.started(now_ms, budget_ms);
        self.keep(state)
    }

    /// Starts a retry sequence through the policy and keeps nothing: the
    /// success path, whose first attempt needs no state. If that attempt
    /// fails, `resume` with the same `now_ms` gives the state `start` built
    /// (a `RetryState` is a plain value: started at that reading, attempt
    /// 1), without a second deposit.
    pub fn start(&self, now_ms: f64, budget_ms: f64) {
        let _ = self.started(now_ms, budget_ms);
    }

    /// The sequence `start` began at `now_ms`, kept now; returns its handle.
    pub fn resume(&self, now_ms: f64) -> u32 {
        let state = if now_ms.is_nan() {
            RetryState::new()
        } else {
            RetryState::started_at(reading_ms(now_ms))
        };
        self.keep(state)
    }

    fn keep(&self, state: RetryState) -> u32 {
        let mut slab = self.sequences.borrow_mut();
        match slab.free.pop() {
            Some(handle) => {
                if let Some(slot) = slab.slots.get_mut(handle as usize) {
                    *slot = Some(state);
                }
                handle
            }
            None => {
                slab.slots.push(Some(state));
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
    /// `retry_after_ms` is a hint (NaN for none): the delay is then at least
    /// the hint capped at `max_delay`. `now_ms` is the clock reading (NaN:
    /// none; the deadline counts the waits), `budget_ms` the budget clock's.
    /// Returns the delay in ms before the next attempt (>= 0), or a negative
    /// [`RetryAnswer`] (give up). An unknown handle gives up.
    pub fn on_failure(
        &self,
        handle: u32,
        verdict: FilterVerdict,
        retry_after_ms: f64,
        now_ms: f64,
        budget_ms: f64,
    ) -> f64 {
        let hint = hint_of(retry_after_ms);
        self.decide(handle, budget_ms, |policy, state| {
            let classify = || verdict.outcome();
            Some(if now_ms.is_nan() {
                state.on_failure_classified(policy, classify, hint)
            } else {
                state.on_failure_classified_at(policy, classify, hint, reading_ms(now_ms))
            })
        })
    }

    /// Rule `attempt_timeout_retryable`: the current attempt of sequence
    /// `handle` timed out (the filter is not asked). Answers as `on_failure`.
    pub fn on_timeout(&self, handle: u32, now_ms: f64, budget_ms: f64) -> f64 {
        let now = (!now_ms.is_nan()).then(|| reading_ms(now_ms));
        self.decide(handle, budget_ms, |policy, state| Some(state.on_timeout(policy, now)))
    }

    /// Rule `result_predicate`: the current attempt returned a value the
    /// result predicate judged `verdict` (asked about every value; one that
    /// threw accepts the value). `RetryAnswer::Accept`, a delay, or a
    /// give-up (the value is then returned too).
    pub fn on_result(
        &self,
        handle: u32,
        verdict: FilterVerdict,
        retry_after_ms: f64,
        now_ms: f64,
        budget_ms: f64,
    ) -> f64 {
        let hint = hint_of(retry_after_ms);
        let now = (!now_ms.is_nan()).then(|| reading_ms(now_ms));
        self.decide(handle, budget_ms, |policy, state| {
            state.on_result(policy, || verdict.outcome(), hint, now)
        })
    }

    /// Runs one decision on sequence `handle` with the budget's clock held.
    /// `None` from `decide` accepts a value (`RetryAnswer::Accept`).
    fn decide(
        &self,
        handle: u32,
        budget_ms: f64,
        decide: impl FnOnce(&RetryPolicy, &mut RetryState) -> Option<RetryDecision>,
    ) -> f64 {
        self.hold_budget(budget_ms);
        let mut slab = self.sequences.borrow_mut();
        let Some(Some(state)) = slab.slots.get_mut(handle as usize) else {
            return RetryAnswer::GiveUpExhausted.as_f64();
        };
        match decide(&self.policy, state) {
            None => RetryAnswer::Accept.as_f64(),
            Some(RetryDecision::Retry { delay, .. }) => to_millis(delay),
            Some(RetryDecision::GiveUp { reason, .. }) => match reason {
                GiveUpReason::NotRetryable => RetryAnswer::GiveUpNotRetryable.as_f64(),
                GiveUpReason::Deadline => RetryAnswer::GiveUpDeadline.as_f64(),
                GiveUpReason::Budget => RetryAnswer::GiveUpBudget.as_f64(),
                // Exhausted, or a reason this release does not know.
                _ => RetryAnswer::GiveUpExhausted.as_f64(),
            },
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

/// A Retry-After hint in ms as core reads it (NaN: none).
fn hint_of(retry_after_ms: f64) -> Option<std::time::Duration> {
    (!retry_after_ms.is_nan()).then(|| rules::clock_reading(retry_after_ms, Unit::Milliseconds))
}
