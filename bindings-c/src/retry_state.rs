//! The step API: a retry sequence an event loop drives itself.
//!
//! Feed each failed attempt's outcome; get back "retry after N ns" or
//! "give up". The caller schedules its own timer (libuv, epoll, ...).

use std::sync::Arc;
use std::time::Duration;

use resilience_core::{GiveUpReason, RetryDecision, RetryPolicy, RetryState};

use crate::boundary::{borrow, borrow_mut, check_out, ffi_call, free_handle, hand_out, nanos};
use crate::predicate::{outcome_from_c, resilience_predicate_outcome_t};
use crate::retry_policy::resilience_retry_policy_t;
use crate::status::resilience_status_t;

/// What to do after a failed attempt: one of the `RESILIENCE_RETRY_ACTION_*` values.
#[allow(non_camel_case_types)]
pub type resilience_retry_action_t = u32;
/// Wait `delay_ns`, then run the next attempt.
pub const RESILIENCE_RETRY_ACTION_RETRY: resilience_retry_action_t = 0;
/// Stop; surface the last failure.
pub const RESILIENCE_RETRY_ACTION_GIVE_UP: resilience_retry_action_t = 1;

/// Why a retry sequence gave up: one of the `RESILIENCE_GIVE_UP_*` values.
#[allow(non_camel_case_types)]
pub type resilience_give_up_reason_t = u32;
/// It did not give up (it retried, or the operation succeeded).
pub const RESILIENCE_GIVE_UP_NONE: resilience_give_up_reason_t = 0;
/// The failed attempt was the last one max_attempts allows.
pub const RESILIENCE_GIVE_UP_EXHAUSTED: resilience_give_up_reason_t = 1;
/// The failure was not retryable (or the filter classifying it failed).
pub const RESILIENCE_GIVE_UP_NOT_RETRYABLE: resilience_give_up_reason_t = 2;
/// A reason this version of the header has no name for yet.
pub const RESILIENCE_GIVE_UP_OTHER: resilience_give_up_reason_t = 255;

pub(crate) fn reason_to_c(reason: GiveUpReason) -> resilience_give_up_reason_t {
    match reason {
        GiveUpReason::Exhausted => RESILIENCE_GIVE_UP_EXHAUSTED,
        GiveUpReason::NotRetryable => RESILIENCE_GIVE_UP_NOT_RETRYABLE,
        _ => RESILIENCE_GIVE_UP_OTHER,
    }
}

/// The decision after a failed attempt.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_retry_decision_t {
    /// RESILIENCE_RETRY_ACTION_RETRY or RESILIENCE_RETRY_ACTION_GIVE_UP.
    pub action: resilience_retry_action_t,
    /// RETRY: the attempt that failed (1-based). GIVE_UP: how many attempts ran.
    pub attempt: u32,
    /// RETRY: how long to wait before the next attempt (ns). GIVE_UP: 0.
    pub delay_ns: u64,
    /// GIVE_UP: a RESILIENCE_GIVE_UP_* reason. RETRY: RESILIENCE_GIVE_UP_NONE.
    pub reason: resilience_give_up_reason_t,
}

impl From<RetryDecision> for resilience_retry_decision_t {
    fn from(d: RetryDecision) -> Self {
        match d {
            RetryDecision::Retry { attempt, delay } => Self {
                action: RESILIENCE_RETRY_ACTION_RETRY,
                attempt,
                delay_ns: nanos(delay),
                reason: RESILIENCE_GIVE_UP_NONE,
            },
            RetryDecision::GiveUp { attempts, reason } => Self {
                action: RESILIENCE_RETRY_ACTION_GIVE_UP,
                attempt: attempts,
                delay_ns: 0,
                reason: reason_to_c(reason),
            },
            // A decision a later core may add: stop rather than guess a wait.
            _ => Self {
                action: RESILIENCE_RETRY_ACTION_GIVE_UP,
                attempt: 0,
                delay_ns: 0,
                reason: RESILIENCE_GIVE_UP_OTHER,
            },
        }
    }
}

/// One retry sequence (attempt 1 about to run). Not thread-safe: use one
/// state per sequence, from one thread at a time. It keeps its policy
/// alive, so the policy may be freed first.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_retry_state_t {
    policy: Arc<RetryPolicy>,
    state: RetryState,
}

/// Starts a retry sequence under `policy` in `*state_out`.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_new(
    policy: *const resilience_retry_policy_t,
    state_out: *mut *mut resilience_retry_state_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let p = unsafe { borrow(policy, "policy") }?;
        let out = check_out(state_out, "state_out")?;
        let state = resilience_retry_state_t {
            policy: Arc::clone(&p.policy),
            state: p.policy.start(),
        };
        // SAFETY: checked out-param.
        unsafe { hand_out(out, state) }
    })
}

/// Frees a retry state. NULL is a no-op.
///
/// # Safety
/// `state` is NULL or from resilience_retry_state_new(), not yet freed.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_free(state: *mut resilience_retry_state_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(state);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

fn step(
    state: *mut resilience_retry_state_t,
    retryable: bool,
    hint: Option<Duration>,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the exported callers forward their caller's promise.
        let s = unsafe { borrow_mut(state, "state") }?;
        let out = check_out(decision_out, "decision_out")?;
        let decision = s.state.on_failure_with_hint(&s.policy, retryable, hint);
        // SAFETY: checked out-param.
        unsafe { out.write(decision.into()) }
    })
}

/// The current attempt failed; `retryable` says whether its failure may be
/// retried. Writes "retry after delay_ns" or "give up" to `*decision_out`.
/// The attempt-count check comes first: the last attempt always gives up
/// with RESILIENCE_GIVE_UP_EXHAUSTED, whatever `retryable` says (its
/// failure is never classified: see
/// resilience_retry_state_needs_classification()). A give-up ends the
/// sequence: free the state (or start a new one) rather than feeding it
/// more outcomes.
///
/// # Safety
/// Pointers are NULL or valid; `state` is not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_failure(
    state: *mut resilience_retry_state_t,
    retryable: bool,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    step(state, retryable, None, decision_out)
}

/// As resilience_retry_state_on_failure(), honouring a server's Retry-After
/// wait (`retry_after_ns`, see resilience_parse_retry_after()): the delay is
/// at least that wait capped at max_delay.
///
/// # Safety
/// As resilience_retry_state_on_failure().
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_failure_with_hint(
    state: *mut resilience_retry_state_t,
    retryable: bool,
    retry_after_ns: u64,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    step(
        state,
        retryable,
        Some(Duration::from_nanos(retry_after_ns)),
        decision_out,
    )
}

/// Whether the failure of the attempt in progress must be classified:
/// true while an attempt is left, false for the last attempt, whose failure
/// is never classified (the attempt count decides first: the sequence gives
/// up as RESILIENCE_GIVE_UP_EXHAUSTED). Ask this before running an
/// expensive or fallible filter, so it runs once per failed attempt but the
/// last, as it does inside resilience_retry_execute().
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_needs_classification(
    state: *const resilience_retry_state_t,
    needs_out: *mut bool,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let s = unsafe { borrow(state, "state") }?;
        let out = check_out(needs_out, "needs_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(s.state.needs_classification(&s.policy)) }
    })
}

/// The current attempt failed and your filter answered `outcome` (a
/// RESILIENCE_PREDICATE_* value; RESILIENCE_PREDICATE_FAILED when the filter
/// itself failed, which the library treats as "not retryable"). As
/// resilience_retry_state_on_failure(), with a server's Retry-After wait
/// when `retry_after_ns` is not NULL (read, not written). When
/// resilience_retry_state_needs_classification() wrote false, `outcome` is
/// not used (pass RESILIENCE_PREDICATE_NO without asking your filter).
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT (`state`, `decision_out`);
/// RESILIENCE_ERR_INVALID_ARGUMENT for an `outcome` that is no
/// RESILIENCE_PREDICATE_* value (the state is unchanged).
///
/// # Safety
/// Pointers are NULL or valid; `state` is not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_failure_classified(
    state: *mut resilience_retry_state_t,
    outcome: resilience_predicate_outcome_t,
    retry_after_ns: *const u64,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let s = unsafe { borrow_mut(state, "state") }?;
        let out = check_out(decision_out, "decision_out")?;
        let outcome = outcome_from_c(outcome)?;
        // SAFETY: NULL (no hint) or valid for a read, by the caller's promise.
        let hint = unsafe { retry_after_ns.as_ref() }.map(|ns| Duration::from_nanos(*ns));
        let decision = s.state.on_failure_classified(&s.policy, || outcome, hint);
        // SAFETY: checked out-param.
        unsafe { out.write(decision.into()) }
    })
}

/// The attempt in progress (1-based).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_attempt(
    state: *const resilience_retry_state_t,
    attempt_out: *mut u32,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let s = unsafe { borrow(state, "state") }?;
        let out = check_out(attempt_out, "attempt_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(s.state.attempt()) }
    })
}

/// The sum of every delay decided so far (ns, saturating).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_total_delay(
    state: *const resilience_retry_state_t,
    total_delay_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let s = unsafe { borrow(state, "state") }?;
        let out = check_out(total_delay_ns_out, "total_delay_ns_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(nanos(s.state.total_delay())) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_convert_field_by_field() {
        let r: resilience_retry_decision_t = RetryDecision::Retry {
            attempt: 2,
            delay: Duration::from_millis(3),
        }
        .into();
        assert_eq!(
            (r.action, r.attempt, r.delay_ns, r.reason),
            (RESILIENCE_RETRY_ACTION_RETRY, 2, 3_000_000, 0)
        );
        let g: resilience_retry_decision_t = RetryDecision::GiveUp {
            attempts: 4,
            reason: GiveUpReason::NotRetryable,
        }
        .into();
        assert_eq!(
            (g.action, g.attempt, g.reason),
            (RESILIENCE_RETRY_ACTION_GIVE_UP, 4, RESILIENCE_GIVE_UP_NOT_RETRYABLE)
        );
    }
}
