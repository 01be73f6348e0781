//! The blocking retry executor: core's `Retry` loop over a C operation.

use std::ffi::{c_int, c_void};

use resilience_core::{Retry, RetryError};

use crate::boundary::{borrow, check_out, ffi_call, nanos};
use crate::retry_policy::resilience_retry_policy_t;
use crate::retry_state::{reason_to_c, resilience_give_up_reason_t, RESILIENCE_GIVE_UP_NONE};
use crate::status::{resilience_status_t, Failure};
use crate::time_source::{resilience_time_source_t, BorrowedSleeper};

/// An operation's return value meaning success.
pub const RESILIENCE_OP_SUCCESS: c_int = 0;
/// The canonical "retryable failure" return value. Any value > 0 is a
/// retryable failure (return your own positive error code to see it again
/// in resilience_retry_outcome_t.last_code).
pub const RESILIENCE_OP_RETRYABLE: c_int = 1;
/// The canonical "fatal failure" return value. Any value < 0 is a fatal
/// failure: the executor gives up at once without retrying. Return a
/// negative code too when you cannot tell whether a failure is retryable
/// (your own classification failed): the library's rule for a failing retry
/// filter is "not retryable", so the failure surfaces at once, unchanged.
// Spelled `0 - 1` so cbindgen emits `(0 - 1)`: a bare `-1` macro breaks
// `x-RESILIENCE_OP_FATAL` (it becomes `x--1`).
pub const RESILIENCE_OP_FATAL: c_int = 0 - 1;

/// The operation run by resilience_retry_execute(): `attempt` is 1-based.
/// Return RESILIENCE_OP_SUCCESS (0), a positive code for a retryable
/// failure, or a negative code for a fatal one. The code is the failure's
/// classification; on the last attempt it is not consulted (the attempt
/// count decides first: any failure there gives up as exhausted).
#[allow(non_camel_case_types)]
pub type resilience_operation_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, attempt: u32) -> c_int>;

/// Told about each retry before its wait: the failed `attempt`, the code it
/// returned, and the delay (ns) about to be slept.
#[allow(non_camel_case_types)]
pub type resilience_on_retry_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, attempt: u32, code: c_int, delay_ns: u64)>;

/// How a resilience_retry_execute() call ended.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_retry_outcome_t {
    /// How many times the operation ran.
    pub attempts: u32,
    /// What the last run returned (0 on success).
    pub last_code: c_int,
    /// RESILIENCE_GIVE_UP_NONE on success, else why it gave up.
    pub reason: resilience_give_up_reason_t,
    /// The sum of the delays slept (ns, saturating).
    pub total_delay_ns: u64,
}

/// Runs `op` until it succeeds or `policy` gives up, sleeping between
/// attempts through `time->sleep_ns` (the system sleep if `time` or its
/// `sleep_ns` is NULL; `time` is only borrowed, its finalizer is not called).
/// `on_retry` (may be NULL) is called before each sleep. Both callbacks get
/// `user_data`.
///
/// The retry filter is the sign of the returned code, asked lazily by the
/// library's rule: once per failed attempt but the last, whose failure is
/// never classified (it gives up with RESILIENCE_GIVE_UP_EXHAUSTED, even
/// for a negative code). Event loops that classify with a filter of their
/// own use the step API (resilience_retry_state_needs_classification()).
///
/// Returns RESILIENCE_OK when an attempt succeeded, and
/// RESILIENCE_ERR_OPERATION_FAILED when the policy gave up (attempts
/// exhausted, or a fatal code); in both cases `*outcome_out` is written.
/// On any other status nothing ran and nothing is written.
///
/// # Safety
/// Pointers are NULL or valid; the callbacks are safe to call with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_execute(
    policy: *const resilience_retry_policy_t,
    op: resilience_operation_fn,
    on_retry: resilience_on_retry_fn,
    user_data: *mut c_void,
    time: *const resilience_time_source_t,
    outcome_out: *mut resilience_retry_outcome_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let p = unsafe { borrow(policy, "policy") }?;
        let op = op.ok_or_else(|| Failure::null("op"))?;
        let out = check_out(outcome_out, "outcome_out")?;
        // SAFETY: the caller's promise.
        let sleeper = BorrowedSleeper(
            unsafe { time.as_ref() }
                .copied()
                .unwrap_or(resilience_time_source_t::SYSTEM),
        );
        let mut attempts = 0u32;
        let mut last_code = RESILIENCE_OP_SUCCESS;
        let mut total_delay = 0u64;
        let result = Retry::new(&p.policy, sleeper)
            .retry_if(|code: &c_int| *code > 0)
            .on_retry(|attempt, code: &c_int, delay| {
                let delay_ns = nanos(delay);
                total_delay = total_delay.saturating_add(delay_ns);
                if let Some(hook) = on_retry {
                    // SAFETY: the caller's promise about the callback.
                    unsafe { hook(user_data, attempt, *code, delay_ns) };
                }
            })
            .call(|attempt| {
                attempts = attempt;
                // SAFETY: the caller's promise about the callback.
                last_code = unsafe { op(user_data, attempt) };
                if last_code == RESILIENCE_OP_SUCCESS {
                    Ok(())
                } else {
                    Err(last_code)
                }
            });
        let reason = match &result {
            Ok(()) => RESILIENCE_GIVE_UP_NONE,
            Err(e) => reason_to_c(e.reason),
        };
        // SAFETY: checked out-param.
        unsafe {
            out.set(resilience_retry_outcome_t {
                attempts,
                last_code,
                reason,
                total_delay_ns: total_delay,
            })
        };
        match result {
            Ok(()) => Ok(resilience_status_t::RESILIENCE_OK),
            Err(e) => Err(gave_up(&e)),
        }
    })
}

#[cold]
#[inline(never)]
fn gave_up(e: &RetryError<c_int>) -> Failure {
    Failure::new(
        resilience_status_t::RESILIENCE_ERR_OPERATION_FAILED,
        format!(
            "the operation failed: gave up after {} attempt(s) ({}), last code {}",
            e.attempts,
            e.reason.as_str(),
            e.error
        ),
    )
}
