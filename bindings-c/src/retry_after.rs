//! Helpers at the edge of the C world: the `Retry-After` header and float
//! durations from configuration files.

use std::ffi::{c_char, CStr};
use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::{parse_retry_after, Allowed, ConfigError, ConfigErrorKind, Idiom, Value};

use crate::boundary::{check_out, ffi_call, nanos};
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

/// A float number of `unit`s through core's `duration` rule, into the
/// `int64_t` nanoseconds of a configuration field. Messages use the Rust
/// idiom (`1.5s`), whose wording states no unit for the rejected value:
/// it is in the caller's unit (`secs` or `millis`), not in nanoseconds.
fn float_to_ns(parameter: &'static str, value: f64, unit: Unit) -> Result<i64, Failure> {
    let d = rules::duration(parameter, Value::Float(value), unit).map_err(|e| Failure::config(&e, Idiom::Rust))?;
    // Core's bound is 2^64-1 ns; an `int64_t` field holds half of that.
    // Not a rule: the width of the C type this function writes.
    i64::try_from(d.as_nanos()).map_err(|_| {
        let bound = Allowed::Duration {
            max: Duration::from_nanos(i64::MAX.unsigned_abs()),
        };
        let e = ConfigError::new(ConfigErrorKind::TooLarge, parameter, bound, Value::Float(value));
        Failure::config(&e, Idiom::Rust)
    })
}

/// Converts seconds given as a double (e.g. from a configuration file) into
/// the int64_t nanoseconds every configuration field takes, by the same
/// rule the fields follow. NaN (kind NOT_A_NUMBER), negative (TOO_SMALL),
/// infinite and longer-than-int64_t (TOO_LARGE, about 292 years) values are
/// RESILIENCE_ERR_INVALID_CONFIG, e.g. "invalid secs: must be a duration of
/// at most 18446744073.709551615s, got NaN" (the parameter reads "secs").
///
/// # Safety
/// `ns_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_duration_from_secs(secs: f64, ns_out: *mut i64) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(ns_out, "ns_out")?;
        let ns = float_to_ns("secs", secs, Unit::Seconds)?;
        // SAFETY: checked out-param.
        unsafe { out.write(ns) }
    })
}

/// As resilience_duration_from_secs(), for milliseconds (the parameter
/// reads "millis").
///
/// # Safety
/// `ns_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_duration_from_millis(millis: f64, ns_out: *mut i64) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(ns_out, "ns_out")?;
        let ns = float_to_ns("millis", millis, Unit::Milliseconds)?;
        // SAFETY: checked out-param.
        unsafe { out.write(ns) }
    })
}
