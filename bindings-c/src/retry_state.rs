//! The step API: a retry sequence an event loop drives itself.
//!
//! Feed each failed attempt's outcome; get back "retry after N ns" or
//! "give up". The caller schedules its own timer (libuv, epoll, ...).

use std::sync::Arc;
use std::time::Duration;

use resilience_core::{rules, GiveUpReason, RetryDecision, RetryPolicy, RetryState};

use crate::boundary::{borrow, borrow_mut, check_out, ffi_call, free_handle, hand_out, nanos};
use crate::predicate::{outcome_from_c, resilience_predicate_outcome_t};
use crate::retry_policy::resilience_retry_policy_t;
use crate::status::{resilience_status_t, Failure};

/// What to do after a failed attempt: one of the `RESILIENCE_RETRY_ACTION_*` values.
#[allow(non_camel_case_types)]
pub type resilience_retry_action_t = u32;
/// Wait `delay_ns`, then run the next attempt.
pub const RESILIENCE_RETRY_ACTION_RETRY: resilience_retry_action_t = 0;
/// Stop; surface the last failure. After a returned value judged a failure
/// (resilience_retry_state_on_result()), stop and return that value: it is
/// the sequence's answer, not an error.
pub const RESILIENCE_RETRY_ACTION_GIVE_UP: resilience_retry_action_t = 1;
/// Only from resilience_retry_state_on_result(): the value is not a
/// failure (or the predicate judging it failed): return it; the sequence
/// is over.
pub const RESILIENCE_RETRY_ACTION_ACCEPT: resilience_retry_action_t = 2;

/// Why a retry sequence gave up: one of the `RESILIENCE_GIVE_UP_*` values.
#[allow(non_camel_case_types)]
pub type resilience_give_up_reason_t = u32;
/// It did not give up (it retried, or the operation succeeded).
pub const RESILIENCE_GIVE_UP_NONE: resilience_give_up_reason_t = 0;
/// The failed attempt was the last one max_attempts allows.
pub const RESILIENCE_GIVE_UP_EXHAUSTED: resilience_give_up_reason_t = 1;
/// The failure was not retryable (or the filter classifying it failed).
pub const RESILIENCE_GIVE_UP_NOT_RETRYABLE: resilience_give_up_reason_t = 2;
/// The retry deadline (max_elapsed_ns) was reached during the attempt, or
/// the wait before the next attempt would reach it (a wait never ends at
/// or past the deadline; a Retry-After hint beyond it gives up at once).
pub const RESILIENCE_GIVE_UP_DEADLINE: resilience_give_up_reason_t = 3;
/// The policy's retry budget (resilience_retry_config_t.budget) denied the
/// retry.
pub const RESILIENCE_GIVE_UP_BUDGET: resilience_give_up_reason_t = 4;
/// A reason this version of the header has no name for yet.
pub const RESILIENCE_GIVE_UP_OTHER: resilience_give_up_reason_t = 255;

pub(crate) fn reason_to_c(reason: GiveUpReason) -> resilience_give_up_reason_t {
    match reason {
        GiveUpReason::Exhausted => RESILIENCE_GIVE_UP_EXHAUSTED,
        GiveUpReason::NotRetryable => RESILIENCE_GIVE_UP_NOT_RETRYABLE,
        GiveUpReason::Deadline => RESILIENCE_GIVE_UP_DEADLINE,
        GiveUpReason::Budget => RESILIENCE_GIVE_UP_BUDGET,
        _ => RESILIENCE_GIVE_UP_OTHER,
    }
}

/// Core's reasons, by their C value (for the names).
const REASONS: [(resilience_give_up_reason_t, GiveUpReason); 4] = [
    (RESILIENCE_GIVE_UP_EXHAUSTED, GiveUpReason::Exhausted),
    (RESILIENCE_GIVE_UP_NOT_RETRYABLE, GiveUpReason::NotRetryable),
    (RESILIENCE_GIVE_UP_DEADLINE, GiveUpReason::Deadline),
    (RESILIENCE_GIVE_UP_BUDGET, GiveUpReason::Budget),
];

/// The name of a give-up reason as every binding spells it: "exhausted",
/// "not_retryable", "deadline" or "budget" (core's names); "none" for
/// RESILIENCE_GIVE_UP_NONE; "unknown" for any other value. A static
/// string; do not free it.
#[no_mangle]
pub extern "C" fn resilience_give_up_reason_name(reason: resilience_give_up_reason_t) -> *const std::ffi::c_char {
    if reason == RESILIENCE_GIVE_UP_NONE {
        return c"none".as_ptr();
    }
    REASONS
        .iter()
        .find(|(c, _)| *c == reason)
        .map_or(c"unknown".as_ptr(), |(_, r)| reason_name(*r).as_ptr())
}

/// Core's name of a reason as a static C string.
fn reason_name(reason: GiveUpReason) -> &'static std::ffi::CStr {
    match reason {
        GiveUpReason::Exhausted => c"exhausted",
        GiveUpReason::NotRetryable => c"not_retryable",
        GiveUpReason::Deadline => c"deadline",
        GiveUpReason::Budget => c"budget",
        _ => c"unknown",
    }
}

/// The decision after a failed attempt (or a returned value).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_retry_decision_t {
    /// RESILIENCE_RETRY_ACTION_RETRY, _GIVE_UP, or (only from
    /// resilience_retry_state_on_result()) _ACCEPT.
    pub action: resilience_retry_action_t,
    /// RETRY: the attempt that failed (1-based). GIVE_UP: how many attempts
    /// ran. ACCEPT: the attempt whose value is accepted.
    pub attempt: u32,
    /// RETRY: how long to wait before the next attempt (ns). Otherwise 0.
    pub delay_ns: u64,
    /// GIVE_UP: a RESILIENCE_GIVE_UP_* reason. Otherwise RESILIENCE_GIVE_UP_NONE.
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

/// Starts a retry sequence under `policy` in `*state_out`, without a clock:
/// a deadline (max_elapsed_ns) then counts the waits decided so far only.
/// With a retry budget, this is the sequence's first attempt: a deposit.
/// Event loops with a clock use resilience_retry_state_new_at().
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_new(
    policy: *const resilience_retry_policy_t,
    state_out: *mut *mut resilience_retry_state_t,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe { start(policy, None, state_out) }
}

/// Starts a retry sequence whose first attempt starts at clock reading
/// `now_ns` (your monotonic clock, as resilience_time_source_t.now_ns reads
/// it; a negative reading counts as 0): the deadline (max_elapsed_ns)
/// counts from here, and the *_at functions and
/// resilience_retry_state_on_timeout() / _on_result() with a reading apply
/// it in real time. A budget deposit as resilience_retry_state_new().
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_new_at(
    policy: *const resilience_retry_policy_t,
    now_ns: i64,
    state_out: *mut *mut resilience_retry_state_t,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe { start(policy, Some(now_ns), state_out) }
}

/// Every sequence starts through the policy, so a budget gets its deposit.
///
/// # Safety
/// Pointers are NULL or valid.
unsafe fn start(
    policy: *const resilience_retry_policy_t,
    now_ns: Option<i64>,
    state_out: *mut *mut resilience_retry_state_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let p = unsafe { borrow(policy, "policy") }?;
        let out = check_out(state_out, "state_out")?;
        let state = resilience_retry_state_t {
            policy: Arc::clone(&p.policy),
            state: match now_ns {
                Some(now) => p.policy.start_at(rules::clock_reading_nanos(now)),
                None => p.policy.start(),
            },
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

/// The shape every step shares: borrow the state, check the out-parameter,
/// let core decide, write the decision.
#[inline(always)]
fn step(
    state: *mut resilience_retry_state_t,
    decision_out: *mut resilience_retry_decision_t,
    decide: impl FnOnce(&RetryPolicy, &mut RetryState) -> Result<resilience_retry_decision_t, Failure>,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the exported callers forward their caller's promise.
        let s = unsafe { borrow_mut(state, "state") }?;
        let out = check_out(decision_out, "decision_out")?;
        let decision = decide(&s.policy, &mut s.state)?;
        // SAFETY: checked out-param.
        unsafe { out.write(decision) }
    })
}

/// An optional `uint64_t` hint (NULL: none).
///
/// # Safety
/// `ns` is NULL or valid for a read.
unsafe fn hint(ns: *const u64) -> Option<Duration> {
    // SAFETY: the caller's promise.
    unsafe { ns.as_ref() }.map(|ns| Duration::from_nanos(*ns))
}

/// An optional clock reading (NULL: no clock), by rule `clock_reading`.
///
/// # Safety
/// `now_ns` is NULL or valid for a read.
unsafe fn reading(now_ns: *const i64) -> Option<Duration> {
    // SAFETY: the caller's promise.
    unsafe { now_ns.as_ref() }.map(|now| rules::clock_reading_nanos(*now))
}

/// The current attempt failed; `retryable` says whether its failure may be
/// retried. Writes "retry after delay_ns" or "give up" to `*decision_out`.
/// The attempt-count check comes first: the last attempt always gives up
/// with RESILIENCE_GIVE_UP_EXHAUSTED, whatever `retryable` says (its
/// failure is never classified: see
/// resilience_retry_state_needs_classification()). Then the wait: with a
/// max_elapsed_ns and no clock (this function), a wait that would bring the
/// waits decided so far to the deadline gives up with
/// RESILIENCE_GIVE_UP_DEADLINE (resilience_retry_state_on_failure_at()
/// counts real time); last, a retry budget may deny the retry
/// (RESILIENCE_GIVE_UP_BUDGET). A give-up ends the sequence: free the state
/// (or start a new one) rather than feeding it more outcomes.
///
/// # Safety
/// Pointers are NULL or valid; `state` is not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_failure(
    state: *mut resilience_retry_state_t,
    retryable: bool,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    step(state, decision_out, |p, s| Ok(s.on_failure(p, retryable).into()))
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
    let hint = Some(Duration::from_nanos(retry_after_ns));
    step(state, decision_out, |p, s| {
        Ok(s.on_failure_with_hint(p, retryable, hint).into())
    })
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
    // SAFETY: NULL (no hint) or valid for a read, by the caller's promise.
    let hint = unsafe { hint(retry_after_ns) };
    step(state, decision_out, |p, s| {
        let outcome = outcome_from_c(outcome)?;
        Ok(s.on_failure_classified(p, || outcome, hint).into())
    })
}

/// As resilience_retry_state_on_failure(), for an attempt that failed at
/// clock reading `now_ns` (a negative reading counts as 0): the deadline
/// (max_elapsed_ns) applies in real time, counted from the reading given to
/// resilience_retry_state_new_at() (from resilience_retry_state_new(): the
/// waits only). Elapsed time is never less than the waits already decided,
/// so a clock that jumps back buys no time. `retry_after_ns`: a server's
/// Retry-After wait, or NULL. The attempt count and `retryable` decide
/// first; a wait that would reach the deadline gives up with
/// RESILIENCE_GIVE_UP_DEADLINE, and a denied budget withdrawal (checked
/// last, so a refused retry spends nothing) with RESILIENCE_GIVE_UP_BUDGET.
///
/// # Safety
/// Pointers are NULL or valid; `state` is not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_failure_at(
    state: *mut resilience_retry_state_t,
    retryable: bool,
    retry_after_ns: *const u64,
    now_ns: i64,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    // SAFETY: NULL (no hint) or valid for a read, by the caller's promise.
    let hint = unsafe { hint(retry_after_ns) };
    let now = rules::clock_reading_nanos(now_ns);
    step(state, decision_out, |p, s| {
        Ok(s.on_failure_at(p, retryable, hint, now).into())
    })
}

/// As resilience_retry_state_on_failure_classified(), at clock reading
/// `now_ns` (the deadline applies in real time, as
/// resilience_retry_state_on_failure_at() says).
///
/// # Safety
/// Pointers are NULL or valid; `state` is not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_failure_classified_at(
    state: *mut resilience_retry_state_t,
    outcome: resilience_predicate_outcome_t,
    retry_after_ns: *const u64,
    now_ns: i64,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    // SAFETY: NULL (no hint) or valid for a read, by the caller's promise.
    let hint = unsafe { hint(retry_after_ns) };
    let now = rules::clock_reading_nanos(now_ns);
    step(state, decision_out, |p, s| {
        let outcome = outcome_from_c(outcome)?;
        Ok(s.on_failure_classified_at(p, || outcome, hint, now).into())
    })
}

/// The attempt in progress timed out: your event loop's timer for it fired
/// (see resilience_retry_policy_attempt_timeout() and
/// resilience_timeout_start()) and you cancelled it. A timeout is always a
/// retryable failure (no filter is asked); the attempt count, the deadline
/// and the budget still decide. `now_ns`: the clock reading, or NULL
/// without a clock (the deadline then counts the waits).
///
/// # Safety
/// Pointers are NULL or valid; `state` is not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_timeout(
    state: *mut resilience_retry_state_t,
    now_ns: *const i64,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    // SAFETY: NULL or valid for a read, by the caller's promise.
    let now = unsafe { reading(now_ns) };
    step(state, decision_out, |p, s| Ok(s.on_timeout(p, now).into()))
}

/// The attempt in progress *returned a value* (an HTTP response, a read)
/// and your result predicate judged it: `outcome` RESILIENCE_PREDICATE_YES
/// means the value is a failure worth retrying (a 503), _NO that it is
/// fine, _FAILED that the predicate itself failed (the library's rule: the
/// value is accepted, unchanged). Unlike errors, every value is judged, the
/// last attempt's included. The decision:
///  - RESILIENCE_RETRY_ACTION_ACCEPT: return the value; the sequence is over;
///  - _RETRY: wait delay_ns, then run the next attempt (`retry_after_ns`,
///    if not NULL, is the hint the value carries, e.g. its Retry-After);
///  - _GIVE_UP: return **the value** (the last result, not an error); the
///    reason says why no retry (exhausted, deadline, budget).
///
/// `now_ns`: the clock reading, or NULL without a clock.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT (`state`, `decision_out`);
/// RESILIENCE_ERR_INVALID_ARGUMENT for an `outcome` that is no
/// RESILIENCE_PREDICATE_* value (the state is unchanged).
///
/// # Safety
/// Pointers are NULL or valid; `state` is not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_on_result(
    state: *mut resilience_retry_state_t,
    outcome: resilience_predicate_outcome_t,
    retry_after_ns: *const u64,
    now_ns: *const i64,
    decision_out: *mut resilience_retry_decision_t,
) -> resilience_status_t {
    // SAFETY: NULL or valid for reads, by the caller's promise.
    let (hint, now) = unsafe { (hint(retry_after_ns), reading(now_ns)) };
    step(state, decision_out, |p, s| {
        let outcome = outcome_from_c(outcome)?;
        let attempt = s.attempt();
        Ok(match s.on_result(p, || outcome, hint, now) {
            Some(decision) => decision.into(),
            None => resilience_retry_decision_t {
                action: RESILIENCE_RETRY_ACTION_ACCEPT,
                attempt,
                delay_ns: 0,
                reason: RESILIENCE_GIVE_UP_NONE,
            },
        })
    })
}

/// The clock reading at which the sequence's deadline passes:
/// `*has_deadline_out` is false (and `*deadline_ns_out` 0) without a
/// max_elapsed_ns or for a state started without a clock
/// (resilience_retry_state_new()); else true, and `*deadline_ns_out` is the
/// start reading plus max_elapsed_ns (saturating at UINT64_MAX). Use it to
/// cut an attempt's timer at the deadline.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_state_deadline(
    state: *const resilience_retry_state_t,
    has_deadline_out: *mut bool,
    deadline_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let s = unsafe { borrow(state, "state") }?;
        let has = check_out(has_deadline_out, "has_deadline_out")?;
        let at = check_out(deadline_ns_out, "deadline_ns_out")?;
        let deadline = s.state.deadline(&s.policy);
        // SAFETY: checked out-params.
        unsafe {
            at.set(deadline.map_or(0, nanos));
            has.write(deadline.is_some())
        }
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

    #[test]
    fn reason_names_are_cores() {
        for (c, reason) in REASONS {
            assert_eq!(reason_to_c(reason), c);
            // SAFETY: the library's own static NUL-terminated strings.
            let name = unsafe { std::ffi::CStr::from_ptr(resilience_give_up_reason_name(c)) };
            assert_eq!(name.to_str().unwrap(), reason.as_str());
        }
    }
}
