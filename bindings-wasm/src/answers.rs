//! The codes the glue and wasm exchange, defined once.
//!
//! The hot entry points answer with one plain number rather than an object
//! or a `Result` (either would cost a JS allocation per call, see bench/js):
//! a non-negative number is the payload — a delay, a permit token, a slot,
//! a fallback index — and a negative one is a named answer below.
//! Each enum is exported to JavaScript by wasm-bindgen as a frozen object
//! (`RetryAnswer.GiveUpExhausted`, and back: `RetryAnswer[-1]`), so the glue
//! compares against names and no number is written twice.
//!
//! Every answer code is unique across the families, so an answer read
//! against the wrong family never matches by accident (a test checks it).

use resilience_core::rules::PredicateOutcome;
use resilience_core::RejectReason;
use wasm_bindgen::prelude::*;

/// `RetryPolicyCore::on_failure`: give up (any answer >= 0 is the delay in ms).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAnswer {
    /// The attempts are used up.
    GiveUpExhausted = -1,
    /// The error is not retryable.
    GiveUpNotRetryable = -2,
    /// The deadline (`max_elapsed`) was reached, or the wait would reach it.
    GiveUpDeadline = -16,
    /// The retry budget denied the retry.
    GiveUpBudget = -17,
    /// `on_result`: the value is accepted (return it).
    Accept = -18,
}

/// `HedgingCore::next`: nothing to start now (any answer >= 1 is the
/// attempt to start).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HedgeWait {
    /// Wait for an attempt to end, or until `wait_until_ms` (NaN: no timer).
    Wait = -19,
    /// The hedge is over.
    Finished = -20,
}

/// `HedgingCore::on_outcome`: what became of the hedge (core's `HedgeOutcome`).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HedgeVerdict {
    /// This answer wins: return it, cancel every other copy.
    Won = -21,
    /// Noted; ask `next` (a copy may be due at once).
    Continue = -22,
    /// Every copy failed and this one ended last: surface its failure.
    AllFailed = -23,
    /// Not a running attempt: nothing changed.
    Ignored = -24,
}

/// `LimiterCore::try_acquire*`: the cells were taken, or never can be (any
/// answer >= 0 is the wait in ms until they conform).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimiterAnswer {
    /// Taken.
    Acquired = -25,
    /// More cells than the burst: never, so no wait.
    ExceedsBurst = -26,
}

/// `ThrottleCore::try_admit`: the request may be sent (any answer >= 0 is
/// the suggested wait in ms of a shed request).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleAnswer {
    /// Admitted: report the backend's answer with `record`.
    Admitted = -27,
}

/// `BreakerCore::acquire`: the call is not admitted (any answer >= 0 is a
/// permit token).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerAdmission {
    /// Open, isolated, or every half-open trial slot is busy:
    /// `retry_after_ms` and `reject_reason` say how long and why.
    Rejected = -3,
    /// The user's clock threw or returned a non-number: `take_clock_error`
    /// returns its error.
    ClockFailed = -4,
}

/// `BulkheadCore::try_acquire`: no slot yet (any answer >= 0 is a held slot).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkheadAdmission {
    /// In the queue: `queued_ticket` is your ticket; wait for a release to
    /// hand you the slot.
    Queued = -5,
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
    /// The slot is not held (released twice, another bulkhead's, made up):
    /// refused, nothing changed.
    SlotMisuse = -9,
}

/// `fallback_step`: no fallback to call (any answer >= 0 is the index of the
/// next fallback).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackAnswer {
    /// Reject with the error just received.
    Raise = -8,
}

/// `BreakerCore::record_*`: how a permit's report went.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerReport {
    /// Accepted (a stale permit's report too: it changes nothing).
    Recorded = -10,
    /// Refused, nothing changed: the permit was reported before, or is not
    /// this breaker's.
    PermitMisuse = -11,
    /// Recorded, but the user's clock failed meanwhile (the last good
    /// reading was used): `take_clock_error` returns its error.
    ClockFailed = -12,
}

/// `BulkheadCore::cancel`: what became of a waiter that gave up.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkheadCancel {
    /// It left the queue.
    Withdrawn = -13,
    /// A release handed it the slot first: it holds `slot_of_ticket(ticket)`.
    AlreadyGranted = -14,
    /// Neither queued nor holding a slot (or another bulkhead's): refused.
    TicketMisuse = -15,
}

/// Why a breaker rejected a call (`BreakerCore::reject_reason`), core's
/// `RejectReason`; the glue names it in snake_case.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerRejection {
    /// Open, and the break has not passed.
    Open = 0,
    /// Half-open, and every trial slot is taken.
    TrialsTaken = 1,
    /// Isolated by hand, until `close()` or `reset()`.
    Isolated = 2,
    /// 65 536 permits are out at once.
    PermitsExhausted = 3,
}

impl BreakerRejection {
    pub(crate) fn of(reason: RejectReason) -> Self {
        match reason {
            RejectReason::Open => Self::Open,
            RejectReason::TrialsTaken => Self::TrialsTaken,
            RejectReason::Isolated => Self::Isolated,
            _ => Self::PermitsExhausted,
        }
    }
}

/// How a user's error filter answered (`retryableErrors`, `isFailure`,
/// `isExpected`): core's `PredicateOutcome`. What each answer means per
/// filter — a filter that threw included — is core's rule
/// ([`retryable`], [`counts_as_failure`], [`falls_back`], [`hedge_failed`],
/// [`accepted`]).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterVerdict {
    /// It answered no (falsy).
    No = 0,
    /// It answered yes (truthy).
    Yes = 1,
    /// It threw instead of answering.
    Failed = 2,
}

impl FilterVerdict {
    pub(crate) fn outcome(self) -> PredicateOutcome {
        match self {
            Self::No => PredicateOutcome::No,
            Self::Yes => PredicateOutcome::Yes,
            Self::Failed => PredicateOutcome::Failed,
        }
    }
}

/// Rule `failing_predicate` (retry): whether a retry filter's answer makes
/// the error retryable.
#[wasm_bindgen]
pub fn retryable(verdict: FilterVerdict) -> bool {
    verdict.outcome().retryable()
}

/// Rule `failing_predicate` (breaker): whether a failure filter's answer
/// counts the error as a failure.
#[wasm_bindgen]
pub fn counts_as_failure(verdict: FilterVerdict) -> bool {
    verdict.outcome().counts_as_failure()
}

/// Rule `failing_predicate` (fallback): whether an expected-error filter's
/// answer lets the fallbacks run.
#[wasm_bindgen]
pub fn falls_back(verdict: FilterVerdict) -> bool {
    verdict.outcome().falls_back()
}

/// Rule `failing_predicate` (hedging): whether a hedge's value predicate's
/// answer makes the copy's value no answer (a predicate that threw accepts
/// the value).
#[wasm_bindgen]
pub fn hedge_failed(verdict: FilterVerdict) -> bool {
    verdict.outcome().hedge_failed()
}

/// Rule `failing_predicate` (throttle): whether an accept predicate's
/// answer counts the request as accepted by the backend (a predicate that
/// threw: not accepted).
#[wasm_bindgen]
pub fn accepted(verdict: FilterVerdict) -> bool {
    verdict.outcome().accepted()
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
as_number!(
    RetryAnswer,
    HedgeWait,
    LimiterAnswer,
    ThrottleAnswer,
    BreakerAdmission,
    BulkheadAdmission,
    BulkheadHandover,
    BreakerReport
);

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
            BulkheadAdmission::Queued.as_f64(),
            BulkheadAdmission::QueueFull.as_f64(),
            BulkheadHandover::NoWaiter.as_f64(),
            BulkheadHandover::SlotMisuse.as_f64(),
            f64::from(FallbackAnswer::Raise.as_i32()),
            BreakerReport::Recorded.as_f64(),
            BreakerReport::PermitMisuse.as_f64(),
            BreakerReport::ClockFailed.as_f64(),
            f64::from(BulkheadCancel::Withdrawn as i32),
            f64::from(BulkheadCancel::AlreadyGranted as i32),
            f64::from(BulkheadCancel::TicketMisuse as i32),
            RetryAnswer::GiveUpDeadline.as_f64(),
            RetryAnswer::GiveUpBudget.as_f64(),
            RetryAnswer::Accept.as_f64(),
            HedgeWait::Wait.as_f64(),
            HedgeWait::Finished.as_f64(),
            f64::from(HedgeVerdict::Won as i32),
            f64::from(HedgeVerdict::Continue as i32),
            f64::from(HedgeVerdict::AllFailed as i32),
            f64::from(HedgeVerdict::Ignored as i32),
            LimiterAnswer::Acquired.as_f64(),
            LimiterAnswer::ExceedsBurst.as_f64(),
            ThrottleAnswer::Admitted.as_f64(),
        ];
        assert!(codes.iter().all(|&c| c < 0.0));
        let unique: HashSet<i64> = codes.iter().map(|&c| c as i64).collect();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn a_failed_filter_fails_safe_per_core() {
        assert!(!retryable(FilterVerdict::Failed));
        assert!(counts_as_failure(FilterVerdict::Failed));
        assert!(!falls_back(FilterVerdict::Failed));
        assert!(!hedge_failed(FilterVerdict::Failed));
        assert!(!accepted(FilterVerdict::Failed));
        assert!(hedge_failed(FilterVerdict::Yes) && accepted(FilterVerdict::Yes));
    }
}
