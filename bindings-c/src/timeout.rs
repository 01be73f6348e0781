//! The standalone timeout's decision for C event loops: when a call started
//! now must be over, and whether it is (core's `Timeout::start` → `Deadline`).
//! C cannot pre-empt a blocking call; an event loop arms its own timer at
//! the deadline and cancels its own I/O.

use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::{Deadline, Timeout, Value};

use crate::boundary::{borrow, check_out, ffi_call, nanos};
use crate::status::resilience_status_t;

/// When a timed call must be over. A plain value written by
/// resilience_timeout_start(); read it, copy it, never free it. Pass it
/// back unchanged to resilience_deadline_expired() / _remaining().
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_deadline_t {
    /// The clock reading at which the call started, ns (a negative reading
    /// counted as 0).
    pub start_ns: u64,
    /// The timeout, ns (above 0).
    pub timeout_ns: u64,
    /// The clock reading at which the call times out: start_ns + timeout_ns,
    /// saturating at UINT64_MAX. Arm your timer here.
    pub at_ns: u64,
}

impl resilience_deadline_t {
    /// Core's deadline for these values (the struct is the caller's copy).
    fn core(&self) -> Deadline {
        Deadline::after(
            Duration::from_nanos(self.start_ns),
            Duration::from_nanos(self.timeout_ns),
        )
    }
}

/// A call starting at clock reading `now_ns` may take `timeout_ns`: writes
/// its deadline to `*deadline_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for a
/// `timeout_ns` of 0 or less (kind TOO_SMALL, parameter "timeout_ns": a
/// zero timeout could never be met).
///
/// # Safety
/// `deadline_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_timeout_start(
    timeout_ns: i64,
    now_ns: i64,
    deadline_out: *mut resilience_deadline_t,
) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(deadline_out, "deadline_out")?;
        let timeout = Timeout::new(rules::timeout("timeout", Value::from(timeout_ns), Unit::Nanoseconds)?)?;
        let start = rules::clock_reading_nanos(now_ns);
        let deadline = timeout.start(start);
        // SAFETY: checked out-param.
        unsafe {
            out.write(resilience_deadline_t {
                start_ns: nanos(start),
                timeout_ns: nanos(timeout.duration()),
                at_ns: nanos(deadline.at()),
            })
        }
    })
}

/// Whether the call has timed out at clock reading `now_ns`: once the clock
/// reads the deadline or later (a clock that reads before the start leaves
/// the whole timeout).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_deadline_expired(
    deadline: *const resilience_deadline_t,
    now_ns: i64,
    expired_out: *mut bool,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let d = unsafe { borrow(deadline, "deadline") }?;
        let out = check_out(expired_out, "expired_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(d.core().expired(rules::clock_reading_nanos(now_ns))) }
    })
}

/// Time left at clock reading `now_ns`, ns (0 once expired).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_deadline_remaining(
    deadline: *const resilience_deadline_t,
    now_ns: i64,
    remaining_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let d = unsafe { borrow(deadline, "deadline") }?;
        let out = check_out(remaining_ns_out, "remaining_ns_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(nanos(d.core().remaining(rules::clock_reading_nanos(now_ns)))) }
    })
}
