//! The circuit breaker handle: permits for callers that drive their own I/O.

use std::sync::Arc;

use resilience_core::{CircuitBreaker, PermitMisuse, PermitToken, RejectReason, Rejected};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, nanos};
use crate::breaker_config::resilience_circuit_breaker_config_t;
use crate::events::{emit, rejection_event, resilience_event_listener_t, resilience_event_t, transition_event};
use crate::status::{resilience_status_t, Failure};
use crate::time_source::OwnedClock;
use crate::transition::{
    resilience_circuit_state_t, resilience_transition_listener_t, state_to_c, OwnedListener, RESILIENCE_CIRCUIT_CLOSED,
    RESILIENCE_CIRCUIT_HALF_OPEN, RESILIENCE_CIRCUIT_ISOLATED, RESILIENCE_CIRCUIT_OPEN,
};

/// The right to run one call through a breaker: give it back exactly once,
/// to the breaker that issued it, with resilience_circuit_breaker_record_success(),
/// _record_failure() or _release(). A plain value: copy it freely, no
/// freeing needed. Every permit is unique and checked when it comes back: a
/// second report, a permit of another breaker or a made-up value is refused
/// with RESILIENCE_ERR_PERMIT_MISUSE and changes nothing.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_permit_t {
    /// Opaque (the breaker's 64-bit token); pass it back unchanged.
    pub token: u64,
}

/// Whether `permit` is a half-open trial (at most half_open_max_calls trials
/// are out at any moment).
///
/// # Safety
/// `is_trial_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_permit_is_trial(
    permit: resilience_permit_t,
    is_trial_out: *mut bool,
) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(is_trial_out, "is_trial_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(PermitToken::from_raw(permit.token).is_trial()) }
    })
}

/// A thread-safe circuit breaker: one breaker may be shared by many threads
/// (admitting a call while closed is lock-free).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_circuit_breaker_t {
    pub(crate) breaker: CircuitBreaker<OwnedClock>,
    /// The event listener, if any (shared with the transition listener core holds).
    events: Option<Arc<OwnedEvents>>,
}

impl resilience_circuit_breaker_t {
    /// The handle over a built breaker: its clock takes ownership of the
    /// clock's user data, and the listeners (if any) are attached, taking
    /// their user data. Call only once nothing is left to fail.
    pub(crate) fn adopt(
        breaker: CircuitBreaker<OwnedClock>,
        listener: resilience_transition_listener_t,
        events: resilience_event_listener_t,
    ) -> Self {
        breaker.clock().adopt();
        let transitions = (listener.on_transition.is_some() || listener.free_user_data.is_some())
            .then(|| OwnedListener::new(listener));
        let events = events.is_set().then(|| Arc::new(OwnedEvents(events)));
        let breaker = match (transitions, events.clone()) {
            (None, None) => breaker,
            (transitions, events) => breaker.with_listener(move |t| {
                if let Some(listener) = &transitions {
                    listener.notify(t);
                }
                if let Some(events) = &events {
                    events.emit(transition_event(t));
                }
            }),
        };
        Self { breaker, events }
    }

    /// Tells the event listener (if any) about a rejection. Off the
    /// admitting path: only rejections come here.
    #[cold]
    #[inline(never)]
    fn rejected(&self, r: &Rejected) {
        if let Some(events) = &self.events {
            events.emit(rejection_event(r));
        }
    }
}

/// An event listener owned by a breaker; runs the finalizer on drop.
#[derive(Debug)]
struct OwnedEvents(resilience_event_listener_t);

// SAFETY: the documented contract makes the callback and `user_data` usable
// from any thread that uses the breaker.
unsafe impl Send for OwnedEvents {}
// SAFETY: as above.
unsafe impl Sync for OwnedEvents {}

impl OwnedEvents {
    fn emit(&self, event: resilience_event_t) {
        // SAFETY: the caller supplied a valid callback for this user_data.
        unsafe { emit(self.0.on_event, self.0.user_data, event) };
    }
}

impl Drop for OwnedEvents {
    fn drop(&mut self) {
        if let Some(free) = self.0.free_user_data {
            // SAFETY: ownership of user_data was passed to us; called once.
            unsafe { free(self.0.user_data) };
        }
    }
}

/// Validates `config` and creates a closed breaker in `*breaker_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for a
/// field outside its range (see each field of
/// resilience_circuit_breaker_config_t, and resilience_last_error_kind() /
/// _parameter()). On error the caller keeps ownership of
/// `config->clock.user_data`, `config->listener.user_data` and
/// `config->events.user_data`.
///
/// # Safety
/// Pointers are NULL or valid; the clock callbacks are thread-safe if the
/// breaker is shared.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_new(
    config: *const resilience_circuit_breaker_config_t,
    breaker_out: *mut *mut resilience_circuit_breaker_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let c = unsafe { borrow(config, "config") }?;
        let out = check_out(breaker_out, "breaker_out")?;
        let validated = c.build()?;
        // Only now, with nothing left to fail, do the clock and the listener change hands.
        let breaker = CircuitBreaker::new(validated, OwnedClock::lent(c.clock));
        // SAFETY: checked out-param.
        unsafe { hand_out(out, resilience_circuit_breaker_t::adopt(breaker, c.listener, c.events)) }
    })
}

/// Frees a breaker and runs its clock's finalizer. NULL is a no-op.
///
/// # Safety
/// `breaker` is NULL or from resilience_circuit_breaker_new(), not yet
/// freed, and no other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_free(breaker: *mut resilience_circuit_breaker_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(breaker);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

/// Asks to run one call. RESILIENCE_OK writes `*permit_out`: run the call,
/// then report its outcome with the permit, exactly once.
/// RESILIENCE_ERR_CIRCUIT_OPEN: do not run it; if `retry_after_ns_out` is
/// not NULL it receives the time left until the recovery timeout passes (0
/// when half-open and the trial slots are taken; UINT64_MAX when isolated,
/// until closed by hand). `permit_out` is not written then.
/// RESILIENCE_ERR_PERMIT_MISUSE: 65,536 permits of this breaker are out and
/// none was reported (a leak in the caller); do not run the call.
/// resilience_circuit_breaker_try_acquire_ex() also says why it rejected.
///
/// # Safety
/// `breaker` and `permit_out` are NULL or valid; `retry_after_ns_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_try_acquire(
    breaker: *const resilience_circuit_breaker_t,
    permit_out: *mut resilience_permit_t,
    retry_after_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        let out = check_out(permit_out, "permit_out")?;
        match b.breaker.acquire_token() {
            // SAFETY: checked out-param.
            Ok(token) => unsafe { out.write(resilience_permit_t { token: token.to_raw() }) },
            Err(rejected) => {
                let rejected = check_rejection(rejected)?;
                b.rejected(&rejected);
                // The out-parameter is optional: NULL is not an error here, so
                // test it directly (building a "NULL argument" message would
                // cost an allocation on every rejection).
                if !retry_after_ns_out.is_null() {
                    // SAFETY: non-NULL, valid by the caller's promise.
                    unsafe { retry_after_ns_out.write(nanos(rejected.retry_after)) };
                }
                Ok(resilience_status_t::RESILIENCE_ERR_CIRCUIT_OPEN)
            }
        }
    })
}

/// Why a breaker rejected a call: one of the `RESILIENCE_REJECT_*` values
/// (0 is none of them).
#[allow(non_camel_case_types)]
pub type resilience_reject_reason_t = u32;
/// Open: the break (recovery_timeout_ns, or the break backoff's) has not passed.
pub const RESILIENCE_REJECT_OPEN: resilience_reject_reason_t = 1;
/// Half-open, and every trial slot (half_open_max_calls) is taken.
pub const RESILIENCE_REJECT_TRIALS_TAKEN: resilience_reject_reason_t = 2;
/// Isolated by hand: rejected until resilience_circuit_breaker_close() or _reset().
pub const RESILIENCE_REJECT_ISOLATED: resilience_reject_reason_t = 3;

/// A rejection: why, and for how long.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_rejection_t {
    /// A RESILIENCE_REJECT_* value.
    pub reason: resilience_reject_reason_t,
    /// Time left until the break passes, ns: 0 when the trial slots are
    /// taken, UINT64_MAX when isolated (until closed by hand).
    pub retry_after_ns: u64,
}

/// As resilience_circuit_breaker_try_acquire(), saying why a call is
/// rejected: on RESILIENCE_ERR_CIRCUIT_OPEN, `*rejection_out` (if not NULL)
/// receives the reason and the time left (a documented exception to "out-
/// parameters only on RESILIENCE_OK"; `permit_out` is not written then).
/// On RESILIENCE_OK only `*permit_out` is written.
///
/// # Safety
/// `breaker` and `permit_out` are NULL or valid; `rejection_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_try_acquire_ex(
    breaker: *const resilience_circuit_breaker_t,
    permit_out: *mut resilience_permit_t,
    rejection_out: *mut resilience_rejection_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        let out = check_out(permit_out, "permit_out")?;
        match b.breaker.acquire_token() {
            // SAFETY: checked out-param.
            Ok(token) => unsafe { out.write(resilience_permit_t { token: token.to_raw() }) },
            Err(rejected) => {
                let rejected = check_rejection(rejected)?;
                b.rejected(&rejected);
                if !rejection_out.is_null() {
                    let rejection = resilience_rejection_t {
                        reason: reason_to_c(rejected.reason),
                        retry_after_ns: nanos(rejected.retry_after),
                    };
                    // SAFETY: non-NULL, valid by the caller's promise.
                    unsafe { rejection_out.write(rejection) };
                }
                Ok(resilience_status_t::RESILIENCE_ERR_CIRCUIT_OPEN)
            }
        }
    })
}

/// A rejection that is a decision, or the misuse "too many permits out".
/// Out of line so the admitting path stays a handful of instructions.
#[cold]
#[inline(never)]
fn check_rejection(rejected: Rejected) -> Result<Rejected, Failure> {
    if rejected.reason == RejectReason::PermitsExhausted {
        return Err(Failure::misuse(format_args!(
            "{rejected}: report the permits you hold before asking for more"
        )));
    }
    Ok(rejected)
}

pub(crate) fn reason_to_c(reason: RejectReason) -> resilience_reject_reason_t {
    match reason {
        RejectReason::TrialsTaken => RESILIENCE_REJECT_TRIALS_TAKEN,
        RejectReason::Isolated => RESILIENCE_REJECT_ISOLATED,
        // Open, and any reason a later core adds: the call must wait.
        _ => RESILIENCE_REJECT_OPEN,
    }
}

/// The name of a rejection reason: "open", "trials_taken" or "isolated";
/// "unknown" for any other value. A static string; do not free it.
#[no_mangle]
pub extern "C" fn resilience_reject_reason_name(reason: resilience_reject_reason_t) -> *const std::ffi::c_char {
    match reason {
        RESILIENCE_REJECT_OPEN => c"open".as_ptr(),
        RESILIENCE_REJECT_TRIALS_TAKEN => c"trials_taken".as_ptr(),
        RESILIENCE_REJECT_ISOLATED => c"isolated".as_ptr(),
        _ => c"unknown".as_ptr(),
    }
}

/// Reports a permit; core's ledger refuses a permit it cannot accept.
#[inline(always)]
fn with_permit<T>(
    breaker: *const resilience_circuit_breaker_t,
    permit: resilience_permit_t,
    report: impl FnOnce(&CircuitBreaker<OwnedClock>, PermitToken) -> Result<T, PermitMisuse>,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the exported callers forward their caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        // Any value is safe to pass: core refuses one it did not issue.
        match report(&b.breaker, PermitToken::from_raw(permit.token)) {
            Ok(_) => Ok(resilience_status_t::RESILIENCE_OK),
            Err(misuse) => Err(Failure::misuse(misuse)),
        }
    })
}

/// The permitted call succeeded: closes a half-open breaker, resets the count.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_PERMIT_MISUSE for a
/// permit already reported (by any of the three report functions), issued
/// by another breaker, or never issued: nothing changes then. A permit out
/// when the breaker was reset is stale: see resilience_circuit_breaker_reset().
///
/// # Safety
/// `breaker` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_record_success(
    breaker: *const resilience_circuit_breaker_t,
    permit: resilience_permit_t,
) -> resilience_status_t {
    with_permit(breaker, permit, |b, t| b.record_success(t))
}

/// The permitted call failed with a counted failure: counts it (opening the
/// breaker at the threshold); a failed half-open trial re-opens it. A
/// closed-state permit that comes back after the breaker opened changes
/// nothing.
///
/// Errors: as resilience_circuit_breaker_record_success(); a permit reported
/// twice counts once.
///
/// # Safety
/// `breaker` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_record_failure(
    breaker: *const resilience_circuit_breaker_t,
    permit: resilience_permit_t,
) -> resilience_status_t {
    with_permit(breaker, permit, |b, t| b.record_failure(t))
}

/// The permitted call ended with a failure that does not count, or did not
/// run: frees a half-open trial slot, changes nothing else.
///
/// Errors: as resilience_circuit_breaker_record_success(); a trial permit
/// released twice frees one trial slot, never two.
///
/// # Safety
/// `breaker` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_release(
    breaker: *const resilience_circuit_breaker_t,
    permit: resilience_permit_t,
) -> resilience_status_t {
    with_permit(breaker, permit, |b, t| b.release(t))
}

/// The state as callers see it: an open breaker whose break has passed
/// reads RESILIENCE_CIRCUIT_HALF_OPEN; one isolated by hand reads
/// RESILIENCE_CIRCUIT_ISOLATED (it rejects every call, as open does).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_state(
    breaker: *const resilience_circuit_breaker_t,
    state_out: *mut resilience_circuit_state_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        let out = check_out(state_out, "state_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(state_to_c(b.breaker.state())) }
    })
}

/// Counted failures since the last success or reset.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_failure_count(
    breaker: *const resilience_circuit_breaker_t,
    count_out: *mut u32,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        let out = check_out(count_out, "count_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(b.breaker.failure_count()) }
    })
}

/// Back to closed with no failures, an empty window and the first break
/// length, and no trials in flight (also ends an isolation). Permits out at
/// this moment (closed-state permits and half-open trials alike) become
/// stale: reporting one later with _record_success(), _record_failure() or
/// _release() returns RESILIENCE_OK and changes nothing: it counts no
/// failure, neither opens nor closes the breaker, and frees no trial slot of
/// a later half-open round. Each permit is still reported once: a second
/// report is RESILIENCE_ERR_PERMIT_MISUSE.
///
/// # Safety
/// `breaker` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_reset(
    breaker: *const resilience_circuit_breaker_t,
) -> resilience_status_t {
    with_breaker(breaker, |b| {
        b.reset();
    })
}

/// Manual control: holds the breaker open (state RESILIENCE_CIRCUIT_ISOLATED)
/// until resilience_circuit_breaker_close() or _reset(). Every call is
/// rejected (reason RESILIENCE_REJECT_ISOLATED, retry-after UINT64_MAX);
/// permits and trials in flight decide nothing when reported.
///
/// # Safety
/// `breaker` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_isolate(
    breaker: *const resilience_circuit_breaker_t,
) -> resilience_status_t {
    with_breaker(breaker, |b| {
        b.isolate();
    })
}

/// Manual control: closes the breaker, isolated or not; the same as
/// resilience_circuit_breaker_reset() (permits out become stale).
///
/// # Safety
/// `breaker` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_close(
    breaker: *const resilience_circuit_breaker_t,
) -> resilience_status_t {
    with_breaker(breaker, |b| {
        b.close();
    })
}

/// Runs `action` on a breaker that must not be NULL.
fn with_breaker(
    breaker: *const resilience_circuit_breaker_t,
    action: impl FnOnce(&CircuitBreaker<OwnedClock>),
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the exported callers forward their caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        action(&b.breaker);
        Ok(resilience_status_t::RESILIENCE_OK)
    })
}

/// The name of a state: "closed", "open", "half_open" or "isolated";
/// "unknown" for any other value. A static string; do not free it.
#[no_mangle]
pub extern "C" fn resilience_circuit_state_name(state: resilience_circuit_state_t) -> *const std::ffi::c_char {
    match state {
        RESILIENCE_CIRCUIT_CLOSED => c"closed".as_ptr(),
        RESILIENCE_CIRCUIT_OPEN => c"open".as_ptr(),
        RESILIENCE_CIRCUIT_HALF_OPEN => c"half_open".as_ptr(),
        RESILIENCE_CIRCUIT_ISOLATED => c"isolated".as_ptr(),
        _ => c"unknown".as_ptr(),
    }
}
