//! The answer codes the glue reads back from wasm, defined once.
//!
//! The hot entry points answer with one plain number rather than an object
//! or a `Result` (either would cost a JS allocation per call, see bench/js):
//! a non-negative number is the payload — a delay, a permit token, a queue
//! ticket, a fallback index — and a negative one is a named answer below.
//! Each enum is exported to JavaScript by wasm-bindgen as a frozen object
//! (`RetryAnswer.GiveUpExhausted`, and back: `RetryAnswer[-1]`), so the glue
//! compares against names and no number is written twice.
//!
//! Every code is unique across the families, so an answer read against the
//! wrong family never matches by accident (a test checks it).

use wasm_bindgen::prelude::*;

/// `RetryPolicyCore::on_failure`: give up (any answer >= 0 is the delay in ms).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAnswer {
    /// The attempts are used up.
    GiveUpExhausted = -1,
    /// The error is not retryable.
    GiveUpNotRetryable = -2,
}

/// `BreakerCore::acquire`: the call is not admitted (any answer >= 0 is a
/// permit token).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerAdmission {
    /// Open, or every half-open trial slot is busy: `retry_after_ms` says
    /// for how long.
    Rejected = -3,
    /// The user's clock threw or returned a non-number: `take_clock_error`
    /// returns its error.
    ClockFailed = -4,
}

/// `BulkheadCore::try_acquire`: no ticket (any answer >= 0 is the ticket of
/// a place in the queue).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkheadAdmission {
    /// A slot is yours now.
    Acquired = -5,
    /// The queue is full.
    QueueFull = -6,
}

/// `BulkheadCore::release`: nobody to hand the slot to (any answer >= 0 is
/// the ticket of the waiter that now holds it).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkheadHandover {
    /// The queue was empty: the slot is free.
    NoWaiter = -7,
}

/// `fallback_step`: no fallback to call (any answer >= 0 is the index of the
/// next fallback).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackAnswer {
    /// Reject with the error just received.
    Raise = -8,
}

/// `BreakerCore::state`: the breaker's state as its view reads it.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls run; failures are counted.
    Closed = 0,
    /// Calls are rejected until the recovery timeout passes.
    Open = 1,
    /// The recovery timeout passed: trial calls are admitted.
    HalfOpen = 2,
}

/// The code of an answer as the number the entry points return.
macro_rules! as_number {
    ($($family:ty),*) => {$(
        impl $family {
            /// This answer as the plain number an entry point returns.
            pub(crate) const fn as_f64(self) -> f64 {
                self as i32 as f64
            }
        }
    )*};
}
as_number!(RetryAnswer, BreakerAdmission, BulkheadAdmission, BulkheadHandover);

impl FallbackAnswer {
    /// This answer as `fallback_step` returns it.
    pub(crate) const fn as_i32(self) -> i32 {
        self as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_answer_is_negative_and_unique_across_families() {
        let codes = [
            RetryAnswer::GiveUpExhausted.as_f64(),
            RetryAnswer::GiveUpNotRetryable.as_f64(),
            BreakerAdmission::Rejected.as_f64(),
            BreakerAdmission::ClockFailed.as_f64(),
            BulkheadAdmission::Acquired.as_f64(),
            BulkheadAdmission::QueueFull.as_f64(),
            BulkheadHandover::NoWaiter.as_f64(),
            f64::from(FallbackAnswer::Raise.as_i32()),
        ];
        assert!(codes.iter().all(|&c| c < 0.0));
        let unique: HashSet<i64> = codes.iter().map(|&c| c as i64).collect();
        assert_eq!(unique.len(), codes.len());
    }
}
