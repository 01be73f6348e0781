//! Status codes, their messages, and the thread-local last error.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};

use resilience_core::ConfigError;

/// The result of every function. The numeric values are part of the ABI:
/// they are never changed or reused; new codes are only appended.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum resilience_status_t {
    /// Success.
    RESILIENCE_OK = 0,
    /// A required pointer argument was NULL.
    RESILIENCE_ERR_NULL_ARGUMENT = 1,
    /// A configuration value is out of its allowed range; the last error
    /// message names the parameter, the range and the rejected value.
    RESILIENCE_ERR_INVALID_CONFIG = 2,
    /// A (non-configuration) argument is invalid, e.g. a header that is not
    /// a Retry-After value, or a string that is not UTF-8.
    RESILIENCE_ERR_INVALID_ARGUMENT = 3,
    /// The circuit breaker rejected the call (open, or its half-open trial
    /// slots are taken). A decision, not a fault: the last error is untouched.
    RESILIENCE_ERR_CIRCUIT_OPEN = 4,
    /// The bulkhead's queue is full. A decision, not a fault: the last error
    /// is untouched.
    RESILIENCE_ERR_BULKHEAD_FULL = 5,
    /// The retried operation failed for good (attempts exhausted, or a fatal
    /// failure); the outcome out-parameter says how.
    RESILIENCE_ERR_OPERATION_FAILED = 6,
    /// A bug inside the library was caught at the boundary; nothing crossed
    /// into C. The object involved may be in an unspecified (but memory-safe)
    /// state.
    RESILIENCE_ERR_PANIC = 7,
}

use resilience_status_t::*;

impl resilience_status_t {
    /// Every status, in numeric order.
    pub const ALL: [resilience_status_t; 8] = [
        RESILIENCE_OK,
        RESILIENCE_ERR_NULL_ARGUMENT,
        RESILIENCE_ERR_INVALID_CONFIG,
        RESILIENCE_ERR_INVALID_ARGUMENT,
        RESILIENCE_ERR_CIRCUIT_OPEN,
        RESILIENCE_ERR_BULKHEAD_FULL,
        RESILIENCE_ERR_OPERATION_FAILED,
        RESILIENCE_ERR_PANIC,
    ];

    fn message(self) -> &'static std::ffi::CStr {
        match self {
            RESILIENCE_OK => c"ok",
            RESILIENCE_ERR_NULL_ARGUMENT => c"a required pointer argument was NULL",
            RESILIENCE_ERR_INVALID_CONFIG => c"a configuration value is out of its allowed range",
            RESILIENCE_ERR_INVALID_ARGUMENT => c"an argument is invalid",
            RESILIENCE_ERR_CIRCUIT_OPEN => c"circuit breaker is open",
            RESILIENCE_ERR_BULKHEAD_FULL => c"bulkhead queue is full",
            RESILIENCE_ERR_OPERATION_FAILED => c"the operation failed and was not retried further",
            RESILIENCE_ERR_PANIC => c"internal error (a panic was caught at the C boundary)",
        }
    }
}

/// Why a call failed: the status to return and the message to keep.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: resilience_status_t,
    pub(crate) message: String,
}

impl Failure {
    #[cold]
    pub(crate) fn new(status: resilience_status_t, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// `name` was NULL.
    #[cold]
    #[inline(never)]
    pub(crate) fn null(name: &str) -> Self {
        Self::new(RESILIENCE_ERR_NULL_ARGUMENT, format!("{name} must not be NULL"))
    }

    /// `name` is not a valid argument: `why`.
    #[cold]
    #[inline(never)]
    pub(crate) fn invalid(name: &str, why: impl std::fmt::Display) -> Self {
        Self::new(RESILIENCE_ERR_INVALID_ARGUMENT, format!("invalid {name}: {why}"))
    }
}

impl From<ConfigError> for Failure {
    /// Core's message, e.g. `invalid max_attempts: must be >= 1, got 0`.
    fn from(e: ConfigError) -> Self {
        Self::new(RESILIENCE_ERR_INVALID_CONFIG, e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Remembers `message` as this thread's last error.
pub(crate) fn set_last_error(message: &str) {
    // Interior NULs cannot come from our own messages, but user text (a
    // header) may carry one: cut there rather than lose the message.
    let bytes = message.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = CString::new(bytes.get(..end).unwrap_or_default()).unwrap_or_default();
    // During thread teardown the slot may be gone; then there is nobody to tell.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = text);
}

/// A static, human-readable description of `status` (never NULL). Unknown
/// values give "unknown status".
///
/// The string is owned by the library and lives forever; do not free it.
#[no_mangle]
pub extern "C" fn resilience_status_message(status: c_int) -> *const c_char {
    resilience_status_t::ALL
        .iter()
        .find(|s| **s as c_int == status)
        .map_or(c"unknown status", |s| s.message())
        .as_ptr()
}

/// The message of the last failed call on the calling thread (never NULL;
/// "" if no call has failed yet), e.g.
/// "invalid max_attempts: must be >= 1, got 0". Successful calls leave it
/// unchanged, as do the decisions RESILIENCE_ERR_CIRCUIT_OPEN and
/// RESILIENCE_ERR_BULKHEAD_FULL.
///
/// The string belongs to the library and stays valid until the next failing
/// call on this thread; copy it if you need it longer. Do not free it.
#[no_mangle]
pub extern "C" fn resilience_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}
