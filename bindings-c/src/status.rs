//! Status codes, their messages, and the thread-local last error (message,
//! configuration-error kind and parameter).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};

use resilience_core::{ConfigError, ConfigErrorKind, Idiom};

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
    /// A configuration value broke one of the library's rules;
    /// resilience_last_error_kind() says which rule, and
    /// resilience_last_error_parameter() and resilience_last_error_message()
    /// name the parameter, the allowed range and the rejected value.
    RESILIENCE_ERR_INVALID_CONFIG = 2,
    /// A (non-configuration) argument is invalid, e.g. a header that is not
    /// a Retry-After value, a string that is not UTF-8, or an unknown
    /// RESILIENCE_PREDICATE_* value.
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
    /// A permit or bulkhead slot was reported twice, to the wrong object, or
    /// never issued (also: a ticket cancelled that is neither queued nor
    /// holding a slot, and a breaker with 65,536 permits out that were never
    /// reported). A caller bug, refused: nothing changed, and the last error
    /// message says what was wrong.
    RESILIENCE_ERR_PERMIT_MISUSE = 8,
    /// A circuit breaker snapshot could not be read: not JSON, truncated,
    /// not a breaker snapshot, or a field missing or out of range. No
    /// breaker was built; the last error message says what is wrong.
    RESILIENCE_ERR_INVALID_SNAPSHOT = 9,
    /// A circuit breaker snapshot was written by a newer release, in a
    /// format version this library does not read. No breaker was built.
    RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION = 10,
    /// The caller's buffer is too small for the result; the length it needs
    /// was written to the length out-parameter (see the function).
    RESILIENCE_ERR_BUFFER_TOO_SMALL = 11,
    /// The retry deadline (the policy's max_elapsed_ns) passed: the
    /// operation failed and the policy gave up rather than wait past the
    /// deadline (reason RESILIENCE_GIVE_UP_DEADLINE in the outcome).
    RESILIENCE_ERR_TIMEOUT = 12,
    /// The rate limiter has no cells for the call yet: wait the time it
    /// reports (written to the wait out-parameter) and ask again. A
    /// decision, not a fault: the last error is untouched.
    RESILIENCE_ERR_RATE_LIMITED = 13,
    /// More cells were asked of a rate limiter at once than its burst: they
    /// can never be granted (no wait would help). A caller error: the last
    /// error message says how many were asked for and what the burst is.
    RESILIENCE_ERR_EXCEEDS_BURST = 14,
    /// The adaptive throttle shed the request locally: do not send it. A
    /// decision, not a fault: the last error is untouched.
    RESILIENCE_ERR_THROTTLED = 15,
}

use resilience_status_t::*;

impl resilience_status_t {
    /// Every status, in numeric order.
    pub const ALL: [resilience_status_t; 16] = [
        RESILIENCE_OK,
        RESILIENCE_ERR_NULL_ARGUMENT,
        RESILIENCE_ERR_INVALID_CONFIG,
        RESILIENCE_ERR_INVALID_ARGUMENT,
        RESILIENCE_ERR_CIRCUIT_OPEN,
        RESILIENCE_ERR_BULKHEAD_FULL,
        RESILIENCE_ERR_OPERATION_FAILED,
        RESILIENCE_ERR_PANIC,
        RESILIENCE_ERR_PERMIT_MISUSE,
        RESILIENCE_ERR_INVALID_SNAPSHOT,
        RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION,
        RESILIENCE_ERR_BUFFER_TOO_SMALL,
        RESILIENCE_ERR_TIMEOUT,
        RESILIENCE_ERR_RATE_LIMITED,
        RESILIENCE_ERR_EXCEEDS_BURST,
        RESILIENCE_ERR_THROTTLED,
    ];

    fn message(self) -> &'static CStr {
        match self {
            RESILIENCE_OK => c"ok",
            RESILIENCE_ERR_NULL_ARGUMENT => c"a required pointer argument was NULL",
            RESILIENCE_ERR_INVALID_CONFIG => c"a configuration value is out of its allowed range",
            RESILIENCE_ERR_INVALID_ARGUMENT => c"an argument is invalid",
            RESILIENCE_ERR_CIRCUIT_OPEN => c"circuit breaker is open",
            RESILIENCE_ERR_BULKHEAD_FULL => c"bulkhead queue is full",
            RESILIENCE_ERR_OPERATION_FAILED => c"the operation failed and was not retried further",
            RESILIENCE_ERR_PANIC => c"internal error (a panic was caught at the C boundary)",
            RESILIENCE_ERR_PERMIT_MISUSE => {
                c"a permit or bulkhead slot was reported twice, to the wrong object, or never issued"
            }
            RESILIENCE_ERR_INVALID_SNAPSHOT => c"the circuit breaker snapshot is malformed",
            RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION => {
                c"the circuit breaker snapshot was written by a newer release"
            }
            RESILIENCE_ERR_BUFFER_TOO_SMALL => c"the buffer is too small",
            RESILIENCE_ERR_TIMEOUT => c"the retry deadline passed",
            RESILIENCE_ERR_RATE_LIMITED => c"rate limited: wait and try again",
            RESILIENCE_ERR_EXCEEDS_BURST => c"more cells requested at once than the rate limiter's burst",
            RESILIENCE_ERR_THROTTLED => c"the request was throttled locally",
        }
    }
}

/// The rule a rejected configuration value broke: one of the
/// `RESILIENCE_CONFIG_ERROR_*` values, as resilience_last_error_kind()
/// reports it. Branch on the kind, never on the message text.
#[allow(non_camel_case_types)]
pub type resilience_config_error_kind_t = u32;
/// The last failure on this thread was not RESILIENCE_ERR_INVALID_CONFIG
/// (or nothing has failed yet).
pub const RESILIENCE_CONFIG_ERROR_NONE: resilience_config_error_kind_t = 0;
/// Not a value of the expected type.
pub const RESILIENCE_CONFIG_ERROR_WRONG_TYPE: resilience_config_error_kind_t = 1;
/// A number with a fraction where a whole number belongs.
pub const RESILIENCE_CONFIG_ERROR_NOT_AN_INTEGER: resilience_config_error_kind_t = 2;
/// NaN where a number belongs (resilience_duration_from_secs(NAN, ...)).
pub const RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER: resilience_config_error_kind_t = 3;
/// Below the allowed minimum: a zero count, a negative duration.
pub const RESILIENCE_CONFIG_ERROR_TOO_SMALL: resilience_config_error_kind_t = 4;
/// Above the allowed maximum: a count beyond 4294967295, a status code
/// beyond 599, an infinite duration.
pub const RESILIENCE_CONFIG_ERROR_TOO_LARGE: resilience_config_error_kind_t = 5;
/// Not one of the allowed names: a backoff or jitter value that is no
/// RESILIENCE_BACKOFF_* / RESILIENCE_JITTER_* constant.
pub const RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME: resilience_config_error_kind_t = 6;
/// Below another parameter it must not be below (max_delay_ns < base_delay_ns).
pub const RESILIENCE_CONFIG_ERROR_BELOW_OTHER: resilience_config_error_kind_t = 7;
/// Set without another field it only works with: a slow-call rule
/// (slow_call_ratio) without a failure-rate rule (failure_ratio).
pub const RESILIENCE_CONFIG_ERROR_REQUIRES_OTHER: resilience_config_error_kind_t = 8;
/// A rule this version of the header has no name for yet.
pub const RESILIENCE_CONFIG_ERROR_OTHER: resilience_config_error_kind_t = 255;

pub(crate) fn kind_to_c(kind: ConfigErrorKind) -> resilience_config_error_kind_t {
    match kind {
        ConfigErrorKind::WrongType => RESILIENCE_CONFIG_ERROR_WRONG_TYPE,
        ConfigErrorKind::NotAnInteger => RESILIENCE_CONFIG_ERROR_NOT_AN_INTEGER,
        ConfigErrorKind::NotANumber => RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER,
        ConfigErrorKind::TooSmall => RESILIENCE_CONFIG_ERROR_TOO_SMALL,
        ConfigErrorKind::TooLarge => RESILIENCE_CONFIG_ERROR_TOO_LARGE,
        ConfigErrorKind::UnknownName => RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME,
        ConfigErrorKind::BelowOther => RESILIENCE_CONFIG_ERROR_BELOW_OTHER,
        ConfigErrorKind::RequiresOther => RESILIENCE_CONFIG_ERROR_REQUIRES_OTHER,
        _ => RESILIENCE_CONFIG_ERROR_OTHER,
    }
}

/// The kinds with a name, and their names (the conformance vectors' spelling).
const KIND_NAMES: [(resilience_config_error_kind_t, &CStr); 10] = [
    (RESILIENCE_CONFIG_ERROR_NONE, c"none"),
    (RESILIENCE_CONFIG_ERROR_WRONG_TYPE, c"wrong_type"),
    (RESILIENCE_CONFIG_ERROR_NOT_AN_INTEGER, c"not_an_integer"),
    (RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER, c"not_a_number"),
    (RESILIENCE_CONFIG_ERROR_TOO_SMALL, c"too_small"),
    (RESILIENCE_CONFIG_ERROR_TOO_LARGE, c"too_large"),
    (RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME, c"unknown_name"),
    (RESILIENCE_CONFIG_ERROR_BELOW_OTHER, c"below_other"),
    (RESILIENCE_CONFIG_ERROR_REQUIRES_OTHER, c"requires_other"),
    (RESILIENCE_CONFIG_ERROR_OTHER, c"other"),
];

/// Why a call failed: the status to return and the message to keep (and,
/// for a configuration error, its kind and parameter).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: resilience_status_t,
    pub(crate) message: String,
    pub(crate) config: Option<(resilience_config_error_kind_t, String)>,
}

impl Failure {
    #[cold]
    pub(crate) fn new(status: resilience_status_t, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            config: None,
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

    /// A permit, slot or ticket was refused by core (`why` is core's reason).
    #[cold]
    #[inline(never)]
    pub(crate) fn misuse(why: impl std::fmt::Display) -> Self {
        Self::new(RESILIENCE_ERR_PERMIT_MISUSE, why.to_string())
    }

    /// An argument (not configuration) that broke one of core's rules, e.g.
    /// a rate limiter's `n` (rule `cells`): RESILIENCE_ERR_INVALID_ARGUMENT,
    /// with the rule's kind and parameter kept for
    /// resilience_last_error_kind() / _parameter().
    #[cold]
    #[inline(never)]
    pub(crate) fn argument(e: &ConfigError) -> Self {
        Self {
            status: RESILIENCE_ERR_INVALID_ARGUMENT,
            message: e.message(Idiom::C),
            config: Some((kind_to_c(e.kind()), e.parameter_in(Idiom::C))),
        }
    }

    /// A configuration error, written by core for `idiom` (the C idiom for
    /// configuration structs: `_ns` names, nanoseconds).
    #[cold]
    #[inline(never)]
    pub(crate) fn config(e: &ConfigError, idiom: Idiom) -> Self {
        let (parameter, message) = (e.parameter_in(idiom), e.message(idiom));
        Self {
            status: RESILIENCE_ERR_INVALID_CONFIG,
            message,
            config: Some((kind_to_c(e.kind()), parameter)),
        }
    }
}

impl From<ConfigError> for Failure {
    /// Core's message in the C idiom, e.g.
    /// `invalid max_attempts: must be an integer in 1..=4294967295, got 0`.
    fn from(e: ConfigError) -> Self {
        Self::config(&e, Idiom::C)
    }
}

struct LastError {
    message: CString,
    kind: resilience_config_error_kind_t,
    parameter: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        message: CString::default(),
        kind: RESILIENCE_CONFIG_ERROR_NONE,
        parameter: CString::default(),
    });
}

/// Text as a C string: interior NULs cannot come from our own messages, but
/// user text (a header) may carry one: cut there rather than lose the text.
fn c_text(text: &str) -> CString {
    let bytes = text.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(bytes.get(..end).unwrap_or_default()).unwrap_or_default()
}

/// Remembers `failure` as this thread's last error.
pub(crate) fn set_last_error(failure: &Failure) {
    let (kind, parameter) = match &failure.config {
        Some((kind, parameter)) => (*kind, c_text(parameter)),
        None => (RESILIENCE_CONFIG_ERROR_NONE, CString::default()),
    };
    let last = LastError {
        message: c_text(&failure.message),
        kind,
        parameter,
    };
    // During thread teardown the slot may be gone; then there is nobody to tell.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = last);
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
/// "invalid max_attempts: must be an integer in 1..=4294967295, got 0" or
/// "invalid recovery_timeout_ns: must be an integer number of nanoseconds
/// in 0..=18446744073709551615, got -1". Successful calls leave it
/// unchanged, as do the decisions RESILIENCE_ERR_CIRCUIT_OPEN,
/// RESILIENCE_ERR_BULKHEAD_FULL, RESILIENCE_ERR_RATE_LIMITED and
/// RESILIENCE_ERR_THROTTLED.
///
/// The string belongs to the library and stays valid until the next failing
/// call on this thread; copy it if you need it longer. Do not free it.
#[no_mangle]
pub extern "C" fn resilience_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().message.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// When the last failed call on this thread returned
/// RESILIENCE_ERR_INVALID_CONFIG (or RESILIENCE_ERR_INVALID_ARGUMENT for an
/// argument checked by one of the same rules: a rate limiter's `n`): the
/// rule the value broke (a RESILIENCE_CONFIG_ERROR_* value other than
/// NONE), so callers can branch on it without reading the message. After
/// any other failure (or none): RESILIENCE_CONFIG_ERROR_NONE. Successes
/// and the decisions RESILIENCE_ERR_CIRCUIT_OPEN, _BULKHEAD_FULL,
/// _RATE_LIMITED and _THROTTLED leave it unchanged, as they leave the
/// message.
#[no_mangle]
pub extern "C" fn resilience_last_error_kind() -> resilience_config_error_kind_t {
    LAST_ERROR
        .try_with(|slot| slot.borrow().kind)
        .unwrap_or(RESILIENCE_CONFIG_ERROR_NONE)
}

/// When the last failed call on this thread returned
/// RESILIENCE_ERR_INVALID_CONFIG (or an argument broke a rule, as for
/// resilience_last_error_kind()): the parameter it names, spelled as the
/// configuration struct's field ("max_attempts", "recovery_timeout_ns",
/// "retryable_status_codes", "ttl_ns"; "secs" / "millis" for
/// resilience_duration_from_secs() / _from_millis(); "n" for a rate
/// limiter's cells; "timeout_ns" for resilience_timeout_start()). After any other
/// failure (or none): "". Never NULL; valid, like the message, until the
/// next failing call on this thread. Do not free it.
#[no_mangle]
pub extern "C" fn resilience_last_error_parameter() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().parameter.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The name of a configuration-error kind as the conformance vectors spell
/// it ("too_small", "too_large", "unknown_name", ...; "none" for
/// RESILIENCE_CONFIG_ERROR_NONE), or "unknown" for any other value. A
/// static string; do not free it.
#[no_mangle]
pub extern "C" fn resilience_config_error_kind_name(kind: resilience_config_error_kind_t) -> *const c_char {
    KIND_NAMES
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(c"unknown", |(_, name)| *name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_match_core() {
        for kind in [
            ConfigErrorKind::WrongType,
            ConfigErrorKind::NotAnInteger,
            ConfigErrorKind::NotANumber,
            ConfigErrorKind::TooSmall,
            ConfigErrorKind::TooLarge,
            ConfigErrorKind::UnknownName,
            ConfigErrorKind::BelowOther,
            ConfigErrorKind::RequiresOther,
        ] {
            // SAFETY: the library's own static NUL-terminated strings.
            let name = unsafe { CStr::from_ptr(resilience_config_error_kind_name(kind_to_c(kind))) };
            assert_eq!(name.to_str().unwrap(), kind.as_str());
        }
    }

    #[test]
    fn every_status_has_its_own_message() {
        let mut seen = std::collections::HashSet::new();
        for (i, s) in resilience_status_t::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "ALL is in numeric order");
            assert!(seen.insert(s.message()), "{s:?}");
        }
    }
}
