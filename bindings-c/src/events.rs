//! Typed events for C: a callback with a tagged struct, built from core's
//! `Event`s (the same records every binding reports). No callback, no cost:
//! events are only built when a callback is set, and only on the paths that
//! retry, give up, change a breaker's state or reject a call.

use std::ffi::{c_char, c_int, c_void};

use resilience_core::{Event, EventKind, Rejected, Transition};

use crate::boundary::nanos;
use crate::breaker::{reason_to_c as reject_reason_to_c, resilience_reject_reason_t};
use crate::retry_state::{reason_to_c, resilience_give_up_reason_t};
use crate::transition::{resilience_circuit_state_t, state_to_c};

/// What an event is: one of the `RESILIENCE_EVENT_*` values, the tag of
/// resilience_event_t.
#[allow(non_camel_case_types)]
pub type resilience_event_kind_t = u32;
/// A retry was scheduled (resilience_retry_execute_ex()): read `of.retry_scheduled`.
pub const RESILIENCE_EVENT_RETRY_SCHEDULED: resilience_event_kind_t = 1;
/// A retry sequence gave up (resilience_retry_execute_ex()): read `of.gave_up`.
pub const RESILIENCE_EVENT_GAVE_UP: resilience_event_kind_t = 2;
/// A breaker changed state: read `of.breaker_transition`.
pub const RESILIENCE_EVENT_BREAKER_TRANSITION: resilience_event_kind_t = 3;
/// A breaker rejected a call: read `of.breaker_rejected`.
pub const RESILIENCE_EVENT_BREAKER_REJECTED: resilience_event_kind_t = 4;

/// The kinds C reports, by value, and core's kind for their names.
const KINDS: [(resilience_event_kind_t, EventKind); 4] = [
    (RESILIENCE_EVENT_RETRY_SCHEDULED, EventKind::RetryScheduled),
    (RESILIENCE_EVENT_GAVE_UP, EventKind::GaveUp),
    (RESILIENCE_EVENT_BREAKER_TRANSITION, EventKind::BreakerTransition),
    (RESILIENCE_EVENT_BREAKER_REJECTED, EventKind::BreakerRejected),
];

/// RESILIENCE_EVENT_RETRY_SCHEDULED: attempt `attempt` failed; the next runs
/// after `delay_ns`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_event_retry_scheduled_t {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// What it returned: the operation's failure code (> 0: retryable), or
    /// RESILIENCE_OP_SUCCESS (0) when it returned a value your
    /// classify_result callback judged a failure.
    pub code: c_int,
    /// The wait before the next attempt, ns.
    pub delay_ns: u64,
}

/// RESILIENCE_EVENT_GAVE_UP: the sequence ended without success after
/// `attempts` attempts (on a value judged a failure, the value is still the
/// answer: resilience_retry_execute_ex() returns RESILIENCE_OK).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_event_gave_up_t {
    /// How many attempts ran.
    pub attempts: u32,
    /// What the last attempt returned (0 for a value).
    pub code: c_int,
    /// A RESILIENCE_GIVE_UP_* reason: exhausted, not retryable, deadline, budget.
    pub reason: resilience_give_up_reason_t,
}

/// RESILIENCE_EVENT_BREAKER_TRANSITION: a breaker went from `from` to `to`
/// (RESILIENCE_CIRCUIT_* values).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_event_breaker_transition_t {
    /// The state before.
    pub from: resilience_circuit_state_t,
    /// The state after.
    pub to: resilience_circuit_state_t,
}

/// RESILIENCE_EVENT_BREAKER_REJECTED: a breaker did not admit a call.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_event_breaker_rejected_t {
    /// A RESILIENCE_REJECT_* reason.
    pub reason: resilience_reject_reason_t,
    /// Time left until the break passes, ns (0 when the trial slots are
    /// taken, UINT64_MAX when isolated).
    pub retry_after_ns: u64,
}

/// The payload of an event: read the member its `kind` names, only.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy)]
pub union resilience_event_data_t {
    /// For RESILIENCE_EVENT_RETRY_SCHEDULED.
    pub retry_scheduled: resilience_event_retry_scheduled_t,
    /// For RESILIENCE_EVENT_GAVE_UP.
    pub gave_up: resilience_event_gave_up_t,
    /// For RESILIENCE_EVENT_BREAKER_TRANSITION.
    pub breaker_transition: resilience_event_breaker_transition_t,
    /// For RESILIENCE_EVENT_BREAKER_REJECTED.
    pub breaker_rejected: resilience_event_breaker_rejected_t,
}

/// One thing a strategy did: a tag and its payload (after wasmtime's
/// `wasmtime_val_t`). Given to your callback for the duration of the call
/// only: copy what you need.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy)]
pub struct resilience_event_t {
    /// A RESILIENCE_EVENT_* value: which member of `of` is set. Treat an
    /// unknown value (a later library's event) as "ignore".
    pub kind: resilience_event_kind_t,
    /// The payload.
    pub of: resilience_event_data_t,
}

impl std::fmt::Debug for resilience_event_t {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("resilience_event_t")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Told about an event: `event` is valid for the duration of the call only.
/// Called on the thread that caused the event; it must not unwind.
#[allow(non_camel_case_types)]
pub type resilience_event_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const resilience_event_t)>;

/// An event callback owned by an object (a circuit breaker), wasmtime-style:
/// the object takes `user_data` when its `_new` succeeds and calls
/// `free_user_data` (if not NULL) once from its `_free`. All-NULL (the
/// default) means no listener, at no cost. A shared object calls it from
/// whichever thread caused the event: make it thread-safe.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_event_listener_t {
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// Called with each event.
    pub on_event: resilience_event_fn,
    /// Called once with `user_data` when the owning object is freed.
    pub free_user_data: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

impl resilience_event_listener_t {
    pub(crate) const NONE: Self = Self {
        user_data: std::ptr::null_mut(),
        on_event: None,
        free_user_data: None,
    };

    pub(crate) fn is_set(&self) -> bool {
        self.on_event.is_some() || self.free_user_data.is_some()
    }
}

/// Calls `callback` (if set) with `event`.
///
/// # Safety
/// `callback` is safe to call with `user_data`.
#[inline]
pub(crate) unsafe fn emit(callback: resilience_event_fn, user_data: *mut c_void, event: resilience_event_t) {
    if let Some(f) = callback {
        // SAFETY: the caller's promise; `event` lives for the call.
        unsafe { f(user_data, &event) };
    }
}

/// A breaker transition as a C event.
pub(crate) fn transition_event(t: Transition) -> resilience_event_t {
    resilience_event_t {
        kind: RESILIENCE_EVENT_BREAKER_TRANSITION,
        of: resilience_event_data_t {
            breaker_transition: resilience_event_breaker_transition_t {
                from: state_to_c(t.from),
                to: state_to_c(t.to),
            },
        },
    }
}

/// A breaker rejection as a C event.
pub(crate) fn rejection_event(r: &Rejected) -> resilience_event_t {
    resilience_event_t {
        kind: RESILIENCE_EVENT_BREAKER_REJECTED,
        of: resilience_event_data_t {
            breaker_rejected: resilience_event_breaker_rejected_t {
                reason: reject_reason_to_c(r.reason),
                retry_after_ns: nanos(r.retry_after),
            },
        },
    }
}

/// A retry executor's event as a C event (`None`: a kind C does not report).
/// The executor's value type is the attempt number, its error the code.
pub(crate) fn retry_event(e: &Event<'_, u32, c_int>, last_code: c_int) -> Option<resilience_event_t> {
    match *e {
        Event::RetryScheduled { attempt, delay, cause } => {
            let code = match cause {
                resilience_core::Cause::Error(code) => *code,
                _ => crate::retry_execute::RESILIENCE_OP_SUCCESS,
            };
            Some(resilience_event_t {
                kind: RESILIENCE_EVENT_RETRY_SCHEDULED,
                of: resilience_event_data_t {
                    retry_scheduled: resilience_event_retry_scheduled_t {
                        attempt,
                        code,
                        delay_ns: nanos(delay),
                    },
                },
            })
        }
        Event::GaveUp { attempts, reason } => Some(resilience_event_t {
            kind: RESILIENCE_EVENT_GAVE_UP,
            of: resilience_event_data_t {
                gave_up: resilience_event_gave_up_t {
                    attempts,
                    code: last_code,
                    reason: reason_to_c(reason),
                },
            },
        }),
        _ => None,
    }
}

/// The name of an event kind as every binding spells it (core's names:
/// "retry_scheduled", "gave_up", "breaker_transition", "breaker_rejected"),
/// or "unknown". A static string; do not free it.
#[no_mangle]
pub extern "C" fn resilience_event_kind_name(kind: resilience_event_kind_t) -> *const c_char {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(c"unknown", |(_, k)| kind_name(*k))
        .as_ptr()
}

/// Core's names as static C strings (a unit test keeps them equal).
fn kind_name(kind: EventKind) -> &'static std::ffi::CStr {
    match kind {
        EventKind::RetryScheduled => c"retry_scheduled",
        EventKind::GaveUp => c"gave_up",
        EventKind::BreakerTransition => c"breaker_transition",
        EventKind::BreakerRejected => c"breaker_rejected",
        _ => c"unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_cores() {
        for (c, kind) in KINDS {
            // SAFETY: the library's own static NUL-terminated strings.
            let name = unsafe { std::ffi::CStr::from_ptr(resilience_event_kind_name(c)) };
            assert_eq!(name.to_str().unwrap(), kind.as_str());
        }
    }
}
