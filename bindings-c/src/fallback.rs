//! The fallback chain as a step API: the caller runs the calls, the core
//! decides which comes next and whose failure surfaces.

use resilience_core::{FallbackState, FallbackStep};

use crate::boundary::{borrow_mut, check_out, ffi_call, free_handle, hand_out};
use crate::predicate::{outcome_from_c, resilience_predicate_outcome_t};
use crate::status::resilience_status_t;

/// What to do next: one of the `RESILIENCE_FALLBACK_*` values.
#[allow(non_camel_case_types)]
pub type resilience_fallback_action_t = u32;
/// Call fallback number `index` (0-based) with the same arguments.
pub const RESILIENCE_FALLBACK_CALL: resilience_fallback_action_t = 0;
/// Stop and surface the failure just received.
pub const RESILIENCE_FALLBACK_RAISE: resilience_fallback_action_t = 1;

/// The next step of a fallback chain.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_fallback_step_t {
    /// RESILIENCE_FALLBACK_CALL or RESILIENCE_FALLBACK_RAISE.
    pub action: resilience_fallback_action_t,
    /// CALL: the fallback to call (0-based). RAISE: 0.
    pub index: usize,
}

impl From<FallbackStep> for resilience_fallback_step_t {
    fn from(step: FallbackStep) -> Self {
        match step {
            FallbackStep::CallFallback(index) => Self {
                action: RESILIENCE_FALLBACK_CALL,
                index,
            },
            // `Raise`, and any step a later core may add: surface the failure.
            _ => Self {
                action: RESILIENCE_FALLBACK_RAISE,
                index: 0,
            },
        }
    }
}

/// One run of a fallback chain (primary, then fallbacks in order). Not
/// thread-safe; one per call.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_fallback_t {
    state: FallbackState,
}

/// A chain with `fallbacks` fallbacks after the primary (0 is allowed: the
/// primary's failure then surfaces).
///
/// # Safety
/// `fallback_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_fallback_new(
    fallbacks: usize,
    fallback_out: *mut *mut resilience_fallback_t,
) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(fallback_out, "fallback_out")?;
        // SAFETY: checked out-param.
        unsafe {
            hand_out(
                out,
                resilience_fallback_t {
                    state: FallbackState::new(fallbacks),
                },
            )
        }
    })
}

/// Frees a chain. NULL is a no-op.
///
/// # Safety
/// `fallback` is NULL or from resilience_fallback_new(), not yet freed.
#[no_mangle]
pub unsafe extern "C" fn resilience_fallback_free(fallback: *mut resilience_fallback_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(fallback);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

/// The primary failed; `expected` says whether its failure is one the chain
/// handles. An unexpected failure is raised without trying fallbacks.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_fallback_on_primary_error(
    fallback: *mut resilience_fallback_t,
    expected: bool,
    step_out: *mut resilience_fallback_step_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let f = unsafe { borrow_mut(fallback, "fallback") }?;
        let out = check_out(step_out, "step_out")?;
        let step = f.state.on_primary_error(expected);
        // SAFETY: checked out-param.
        unsafe { out.write(step.into()) }
    })
}

/// As resilience_fallback_on_primary_error(), when your expected-error
/// filter answered `outcome` (a RESILIENCE_PREDICATE_* value). A filter that
/// failed (RESILIENCE_PREDICATE_FAILED) means "not expected": no fallback
/// runs and the primary's own failure surfaces.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_ARGUMENT for
/// an `outcome` that is no RESILIENCE_PREDICATE_* value (the chain is
/// unchanged).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_fallback_on_primary_error_classified(
    fallback: *mut resilience_fallback_t,
    outcome: resilience_predicate_outcome_t,
    step_out: *mut resilience_fallback_step_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let f = unsafe { borrow_mut(fallback, "fallback") }?;
        let out = check_out(step_out, "step_out")?;
        let expected = outcome_from_c(outcome)?.falls_back();
        let step = f.state.on_primary_error(expected);
        // SAFETY: checked out-param.
        unsafe { out.write(step.into()) }
    })
}

/// The fallback named by the last step failed: the next one, or raise its
/// failure (the last fallback's failure is the one that surfaces).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_fallback_on_fallback_error(
    fallback: *mut resilience_fallback_t,
    step_out: *mut resilience_fallback_step_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let f = unsafe { borrow_mut(fallback, "fallback") }?;
        let out = check_out(step_out, "step_out")?;
        let step = f.state.on_fallback_error();
        // SAFETY: checked out-param.
        unsafe { out.write(step.into()) }
    })
}
