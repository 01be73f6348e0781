//! The circuit breaker handle: permits for callers that drive their own I/O.

use resilience_core::{
    BreakerConfig, CircuitBreaker, PermitMisuse, PermitToken, RejectReason, Rejected, DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_HALF_OPEN_MAX_CALLS, DEFAULT_RECOVERY_TIMEOUT,
};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, nanos, signed_nanos};
use crate::config::{count, duration_ns};
use crate::status::{resilience_status_t, Failure};
use crate::time_source::{resilience_time_source_t, OwnedClock};
use crate::transition::{
    resilience_circuit_state_t, resilience_transition_listener_t, state_to_c, OwnedListener, RESILIENCE_CIRCUIT_CLOSED,
    RESILIENCE_CIRCUIT_HALF_OPEN, RESILIENCE_CIRCUIT_OPEN,
};

/// Configuration of a circuit breaker. Start from
/// resilience_circuit_breaker_config_default().
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_circuit_breaker_config_t {
    /// Consecutive counted failures that open the breaker; 1..=4294967295 (default 5).
    pub failure_threshold: i64,
    /// How long it stays open before admitting a trial, ns; >= 0 (default 30 s).
    pub recovery_timeout_ns: i64,
    /// Concurrent trial calls admitted while half-open; 1..=4294967295 (default 1).
    pub half_open_max_calls: i64,
    /// The clock (`now_ns`); all-NULL (the default) is the system monotonic
    /// clock. The breaker takes ownership of `clock.user_data` on success.
    pub clock: resilience_time_source_t,
    /// State-change notifications; all-NULL (the default) means none. The
    /// breaker takes ownership of `listener.user_data` on success.
    pub listener: resilience_transition_listener_t,
}

/// The defaults: threshold 5, recovery 30 s, one half-open trial, system
/// clock, no listener.
#[no_mangle]
pub extern "C" fn resilience_circuit_breaker_config_default() -> resilience_circuit_breaker_config_t {
    resilience_circuit_breaker_config_t {
        failure_threshold: i64::from(DEFAULT_FAILURE_THRESHOLD),
        recovery_timeout_ns: signed_nanos(DEFAULT_RECOVERY_TIMEOUT),
        half_open_max_calls: i64::from(DEFAULT_HALF_OPEN_MAX_CALLS),
        clock: resilience_time_source_t::SYSTEM,
        listener: resilience_transition_listener_t::NONE,
    }
}

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
    breaker: CircuitBreaker<OwnedClock>,
}

/// Validates `config` and creates a closed breaker in `*breaker_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for a
/// failure_threshold or half_open_max_calls outside 1..=4294967295, or a
/// negative recovery_timeout_ns (see resilience_last_error_kind()). On error
/// the caller keeps ownership of `config->clock.user_data` and
/// `config->listener.user_data`.
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
        let validated = BreakerConfig::builder()
            .failure_threshold(count("failure_threshold", c.failure_threshold, 1)?)
            .recovery_timeout(duration_ns("recovery_timeout", c.recovery_timeout_ns)?)
            .half_open_max_calls(count("half_open_max_calls", c.half_open_max_calls, 1)?)
            .build()?;
        // Only now, with nothing left to fail, does the clock change hands.
        let mut breaker = CircuitBreaker::new(validated, OwnedClock::new(c.clock));
        if c.listener.on_transition.is_some() || c.listener.free_user_data.is_some() {
            let listener = OwnedListener::new(c.listener);
            breaker = breaker.with_listener(move |t| listener.notify(t));
        }
        // SAFETY: checked out-param.
        unsafe { hand_out(out, resilience_circuit_breaker_t { breaker }) }
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
/// when half-open and the trial slots are taken). `permit_out` is not
/// written then. RESILIENCE_ERR_PERMIT_MISUSE: 65,536 permits of this
/// breaker are out and none was reported (a leak in the caller); do not run
/// the call.
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
            // SAFETY: the caller's promise about `retry_after_ns_out`.
            Err(rejected) => unsafe { report_rejection(rejected, retry_after_ns_out) },
        }
    })
}

/// The rejection path, out of line so the admitting path stays a handful of
/// instructions.
///
/// # Safety
/// `retry_after_ns_out` is NULL or valid for a write.
#[cold]
#[inline(never)]
unsafe fn report_rejection(rejected: Rejected, retry_after_ns_out: *mut u64) -> Result<resilience_status_t, Failure> {
    if rejected.reason == RejectReason::PermitsExhausted {
        return Err(Failure::misuse(format_args!(
            "{rejected}: report the permits you hold before asking for more"
        )));
    }
    // The out-parameter is optional: NULL is not an error here, so test it
    // directly (building a "NULL argument" message would cost an allocation
    // on every rejection).
    if !retry_after_ns_out.is_null() {
        // SAFETY: non-NULL, valid by the caller's promise.
        unsafe { retry_after_ns_out.write(nanos(rejected.retry_after)) };
    }
    Ok(resilience_status_t::RESILIENCE_ERR_CIRCUIT_OPEN)
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

/// The state as callers see it: an open breaker whose recovery timeout has
/// passed reads RESILIENCE_CIRCUIT_HALF_OPEN.
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

/// Back to closed with no failures, and no trials in flight. Permits out at
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
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        b.breaker.reset();
        Ok(resilience_status_t::RESILIENCE_OK)
    })
}

/// The name of a state: "closed", "open" or "half_open"; "unknown" for any
/// other value. A static string; do not free it.
#[no_mangle]
pub extern "C" fn resilience_circuit_state_name(state: resilience_circuit_state_t) -> *const std::ffi::c_char {
    match state {
        RESILIENCE_CIRCUIT_CLOSED => c"closed".as_ptr(),
        RESILIENCE_CIRCUIT_OPEN => c"open".as_ptr(),
        RESILIENCE_CIRCUIT_HALF_OPEN => c"half_open".as_ptr(),
        _ => c"unknown".as_ptr(),
    }
}
