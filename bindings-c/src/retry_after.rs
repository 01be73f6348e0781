//! Helpers at the edge of the C world: the `Retry-After` header and float
//! durations from configuration files.

use std::ffi::{c_char, CStr};
use std::time::Duration;

use resilience_core::{duration_from_millis, duration_from_secs, parse_retry_after, ConfigError};

use crate::boundary::{check_out, ffi_call, nanos, signed_nanos};
use crate::status::{resilience_status_t, Failure};

/// The wait (ns) an HTTP `Retry-After` header value asks for: delta-seconds
/// ("120") or an HTTP-date, relative to `now_unix_ns` (wall-clock time since
/// the UNIX epoch, ns). A date in the past gives 0. Cap the result with
/// resilience_retry_policy_cap_retry_after().
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_ARGUMENT when
/// the value is neither form (ignore the header then) or not UTF-8.
///
/// # Safety
/// `header` is NULL or a NUL-terminated string; `wait_ns_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_parse_retry_after(
    header: *const c_char,
    now_unix_ns: u64,
    wait_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        if header.is_null() {
            return Err(Failure::null("header"));
        }
        let out = check_out(wait_ns_out, "wait_ns_out")?;
        // SAFETY: non-NULL and NUL-terminated by the caller's promise.
        let text = unsafe { CStr::from_ptr(header) }
            .to_str()
            .map_err(|_| Failure::invalid("header", "not UTF-8"))?;
        let wait = parse_retry_after(text, Duration::from_nanos(now_unix_ns)).ok_or_else(|| {
            Failure::invalid(
                "header",
                format_args!("{text:?} is neither delta-seconds nor an HTTP-date"),
            )
        })?;
        // SAFETY: checked out-param.
        unsafe { out.write(nanos(wait)) }
    })
}

fn to_signed_ns(d: Result<Duration, ConfigError>, value: f64) -> Result<i64, Failure> {
    let d = d?;
    if d.as_nanos() > i64::MAX as u128 {
        return Err(ConfigError::new("duration", "at most 9223372036854775807 ns (about 292 years)", value).into());
    }
    Ok(signed_nanos(d))
}

/// Converts seconds given as a double (e.g. from a configuration file) into
/// the nanoseconds every config field takes. NaN, negative, infinite and
/// too-large values are RESILIENCE_ERR_INVALID_CONFIG
/// ("invalid duration: must be a finite number >= 0, got NaN").
///
/// # Safety
/// `ns_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_duration_from_secs(secs: f64, ns_out: *mut i64) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(ns_out, "ns_out")?;
        let ns = to_signed_ns(duration_from_secs("duration", secs), secs)?;
        // SAFETY: checked out-param.
        unsafe { out.write(ns) }
    })
}

/// As resilience_duration_from_secs(), for milliseconds.
///
/// # Safety
/// `ns_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_duration_from_millis(millis: f64, ns_out: *mut i64) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(ns_out, "ns_out")?;
        let ns = to_signed_ns(duration_from_millis("duration", millis), millis)?;
        // SAFETY: checked out-param.
        unsafe { out.write(ns) }
    })
}
