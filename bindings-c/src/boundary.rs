//! The C boundary: every exported function runs its body through [`ffi_call`],
//! which turns a [`Failure`] into its status (remembering the message) and a
//! panic into `RESILIENCE_ERR_PANIC` (a panic never unwinds into C).
//!
//! Plus the small pointer helpers every function uses, so that null checks
//! and "write out-params only on success" are spelled once.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::{resilience_status_t, set_last_error, Failure};

/// Runs `body` at the C boundary. `Ok(status)` is returned as is (the
/// last-error message is untouched: success, or a decision such as
/// "circuit open"); `Err` records its message; a panic becomes
/// `RESILIENCE_ERR_PANIC`.
#[inline(always)]
pub(crate) fn ffi_call(body: impl FnOnce() -> Result<resilience_status_t, Failure>) -> resilience_status_t {
    // AssertUnwindSafe: after a panic the caller only gets a status; the
    // objects involved hold no invariant that a half-done call can break
    // beyond what core's poison-tolerant locks already handle.
    // The status travels as itself: no widening to a machine word and no
    // conversion back (measured with `make bench-c`: as fast as the
    // transmute-based word it replaces; a `match` back from the word cost
    // about 0.4 ns per call on S1).
    let status = catch_unwind(AssertUnwindSafe(|| match body() {
        Ok(status) => status,
        Err(failure) => report(failure),
    }));
    match status {
        Ok(status) => status,
        Err(payload) => report_panic(payload),
    }
}

/// Remembers a failure's message and returns its status. Out of line and
/// cold, so the success path of every function stays small.
#[cold]
#[inline(never)]
fn report(failure: Failure) -> resilience_status_t {
    set_last_error(&failure);
    failure.status
}

#[cold]
#[inline(never)]
fn report_panic(payload: Box<dyn std::any::Any + Send>) -> resilience_status_t {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    let failure = Failure::new(
        resilience_status_t::RESILIENCE_ERR_PANIC,
        format!("internal error: {what}"),
    );
    set_last_error(&failure);
    failure.status
}

/// A shared reference to a caller-owned object, or a NULL-argument failure.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` for the duration of the call.
#[inline(always)]
pub(crate) unsafe fn borrow<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller guarantees a non-NULL `ptr` is valid.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// A mutable reference to a caller-owned object, or a NULL-argument failure.
///
/// # Safety
/// `ptr` is NULL or points to a live `T`, not aliased during the call.
#[inline(always)]
pub(crate) unsafe fn borrow_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: the caller guarantees a non-NULL `ptr` is valid and unaliased.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// Checks that an out-parameter is not NULL, before any work is done.
#[inline(always)]
pub(crate) fn check_out<T>(ptr: *mut T, name: &str) -> Result<OutParam<T>, Failure> {
    if ptr.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(OutParam(ptr))
    }
}

/// A checked, non-NULL out-parameter; written once, on success.
pub(crate) struct OutParam<T>(*mut T);

impl<T> OutParam<T> {
    /// Writes the result and reports success.
    ///
    /// # Safety
    /// The pointer given to [`check_out`] is valid for a write of `T`.
    #[inline(always)]
    pub(crate) unsafe fn write(self, value: T) -> Result<resilience_status_t, Failure> {
        // SAFETY: non-NULL (checked) and valid (the caller's promise).
        // `write` does not read or drop the old (possibly uninitialised) value.
        unsafe { self.0.write(value) };
        Ok(resilience_status_t::RESILIENCE_OK)
    }

    /// Writes a value without deciding the status (for out-params that are
    /// documented to be written on a non-OK status too).
    ///
    /// # Safety
    /// As [`OutParam::write`].
    #[inline(always)]
    pub(crate) unsafe fn set(self, value: T) {
        // SAFETY: as in `write`.
        unsafe { self.0.write(value) };
    }
}

/// Moves `value` to the heap and hands its ownership to C through `out`.
///
/// # Safety
/// As [`OutParam::write`].
pub(crate) unsafe fn hand_out<T>(out: OutParam<*mut T>, value: T) -> Result<resilience_status_t, Failure> {
    // SAFETY: forwarded to the caller.
    unsafe { out.write(Box::into_raw(Box::new(value))) }
}

/// Takes back and drops an object handed out by [`hand_out`]; NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or came from [`hand_out`] with the same `T` and was not
/// freed before.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the caller's promise; dropping may run user finalizers,
        // so it happens inside the panic guard of the exported function.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Nanoseconds of a duration, saturating at `u64::MAX` (584 years).
#[inline(always)]
pub(crate) fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds of a duration as `i64`, saturating at `i64::MAX` (292 years).
#[inline(always)]
pub(crate) fn signed_nanos(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = ffi_call(|| panic!("boom"));
        assert_eq!(status, resilience_status_t::RESILIENCE_ERR_PANIC);
        // SAFETY: the library's own NUL-terminated string.
        let msg = unsafe { CStr::from_ptr(crate::status::resilience_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "internal error: boom");
    }

    #[test]
    fn a_failure_keeps_its_message_and_ok_leaves_it() {
        let status = ffi_call(|| Err(Failure::null("policy")));
        assert_eq!(status, resilience_status_t::RESILIENCE_ERR_NULL_ARGUMENT);
        assert_eq!(
            ffi_call(|| Ok(resilience_status_t::RESILIENCE_OK)),
            resilience_status_t::RESILIENCE_OK
        );
        // SAFETY: as above.
        let msg = unsafe { CStr::from_ptr(crate::status::resilience_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "policy must not be NULL");
    }
}
