//! A breaker's metrics, and its state as a snapshot document that a
//! restarted process builds a breaker back from.

use std::ffi::c_char;

use resilience_core::{CircuitBreaker, SnapshotError};

use crate::boundary::{borrow, check_out, ffi_call, hand_out, nanos};
use crate::breaker::resilience_circuit_breaker_t;
use crate::breaker_config::resilience_circuit_breaker_config_t;
use crate::status::{resilience_status_t, Failure};
use crate::time_source::OwnedClock;
use crate::transition::{resilience_circuit_state_t, state_to_c};

/// What a breaker has seen: a copy taken without a lock and without
/// allocating (read it again for a newer one).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct resilience_circuit_breaker_metrics_t {
    /// The state, as resilience_circuit_breaker_state() reports it.
    pub state: resilience_circuit_state_t,
    /// Counted failures in a row since the last success or reset.
    pub consecutive_failures: u32,
    /// Calls in the failure-rate window (0 without a failure_ratio).
    pub window_calls: u64,
    /// Failed calls in the window.
    pub window_failures: u64,
    /// Slow calls in the window (0 without a slow-call rule).
    pub window_slow_calls: u64,
    /// window_failures / window_calls, in [0, 1] (0 when the window is empty).
    pub failure_ratio: f64,
    /// window_slow_calls / window_calls, in [0, 1] (0 when the window is empty).
    pub slow_call_ratio: f64,
    /// Calls rejected since the breaker was created (or restored).
    pub rejections: u64,
    /// Times it opened since it was created (or restored).
    pub openings: u64,
    /// Time since the current state began, ns. Open turning half-open with
    /// time alone is no new state: that time counts from the opening.
    pub time_in_state_ns: u64,
    /// The current break (while open), or the next one, ns.
    pub break_ns: u64,
}

/// The breaker's metrics now, in `*metrics_out`.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_metrics(
    breaker: *const resilience_circuit_breaker_t,
    metrics_out: *mut resilience_circuit_breaker_metrics_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        let out = check_out(metrics_out, "metrics_out")?;
        let m = b.breaker.metrics();
        let metrics = resilience_circuit_breaker_metrics_t {
            state: state_to_c(m.state),
            consecutive_failures: m.consecutive_failures,
            window_calls: m.window_calls,
            window_failures: m.window_failures,
            window_slow_calls: m.window_slow_calls,
            failure_ratio: m.failure_ratio,
            slow_call_ratio: m.slow_call_ratio,
            rejections: m.rejections,
            openings: m.openings,
            time_in_state_ns: nanos(m.time_in_state),
            break_ns: nanos(m.break_duration),
        };
        // SAFETY: checked out-param.
        unsafe { out.write(metrics) }
    })
}

/// Writes the breaker's state as a snapshot document: JSON text (ASCII),
/// versioned, with its times relative to now (monotonic clocks do not
/// survive a restart), for resilience_circuit_breaker_new_from_snapshot() in
/// a restarted process. Half-open trials in flight are not part of it.
///
/// The buffer convention (as snprintf): `*len_out` receives the document's
/// length in bytes, without a terminating NUL. If `cap` > that length, the
/// document and a NUL are written to `buf` and the result is RESILIENCE_OK.
/// Otherwise nothing is written to `buf`, `*len_out` still receives the
/// length (a documented exception to "out-parameters only on
/// RESILIENCE_OK") and the result is RESILIENCE_ERR_BUFFER_TOO_SMALL: call
/// again with a buffer of at least `*len_out + 1` bytes. `buf` may be NULL
/// when `cap` is 0, to ask for the length. A shared breaker's document may
/// grow between two calls: loop until RESILIENCE_OK.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT (`breaker`, `len_out`, or `buf` with
/// a non-zero `cap`); RESILIENCE_ERR_BUFFER_TOO_SMALL.
///
/// # Safety
/// `breaker` and `len_out` are NULL or valid; `buf` is NULL or valid for
/// writes of `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_snapshot(
    breaker: *const resilience_circuit_breaker_t,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(breaker, "breaker") }?;
        let len = check_out(len_out, "len_out")?;
        if buf.is_null() && cap != 0 {
            return Err(Failure::null("buf (with a non-zero cap)"));
        }
        let document = b.breaker.snapshot();
        let bytes = document.as_bytes();
        if bytes.len() >= cap {
            // SAFETY: checked out-param.
            unsafe { len.set(bytes.len()) };
            return Err(Failure::new(
                resilience_status_t::RESILIENCE_ERR_BUFFER_TOO_SMALL,
                format!(
                    "the snapshot needs a buffer of {} bytes (its {} bytes and a NUL), got {cap}",
                    bytes.len() + 1,
                    bytes.len()
                ),
            ));
        }
        // SAFETY: `buf` is non-NULL (cap > len >= 0) and valid for `cap`
        // bytes by the caller's promise; len + 1 <= cap; the document is
        // ours, so the regions do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len());
            buf.add(bytes.len()).write(0);
        }
        // SAFETY: checked out-param.
        unsafe { len.write(bytes.len()) }
    })
}

/// Validates `config` and builds a breaker in `*breaker_out` from a snapshot
/// document of resilience_circuit_breaker_snapshot() (`len` bytes at
/// `document`, no NUL needed), as of now on `config->clock`: an open breaker
/// stays open for the rest of its break, an isolated one stays isolated, a
/// half-open one admits new trials, and the failure count, the break backoff
/// and the window (when `config` has a window of the same shape; else it
/// starts empty) come back. Metrics counters (rejections, openings) start
/// at 0. The document comes from any process or release; trust it as much
/// as its source.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG (as
/// resilience_circuit_breaker_new()); RESILIENCE_ERR_INVALID_SNAPSHOT for a
/// document that is not a breaker snapshot (not UTF-8 or not JSON,
/// truncated, another format, a field missing or out of range);
/// RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION for one written by a newer
/// release. Never a breaker that silently starts closed: on any error no
/// breaker is built, `*breaker_out` is not written, and the caller keeps
/// ownership of `config->clock.user_data`, `config->listener.user_data` and
/// `config->events.user_data`;
/// resilience_last_error_message() says what is wrong.
///
/// # Safety
/// `config` and `breaker_out` are NULL or valid; `document` is NULL or
/// valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn resilience_circuit_breaker_new_from_snapshot(
    config: *const resilience_circuit_breaker_config_t,
    document: *const c_char,
    len: usize,
    breaker_out: *mut *mut resilience_circuit_breaker_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let c = unsafe { borrow(config, "config") }?;
        if document.is_null() {
            return Err(Failure::null("document"));
        }
        let out = check_out(breaker_out, "breaker_out")?;
        let validated = c.build()?;
        // SAFETY: non-NULL, and valid for `len` bytes by the caller's promise.
        let bytes = unsafe { std::slice::from_raw_parts(document.cast::<u8>(), len) };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            snapshot_failure(&SnapshotError::Malformed {
                reason: format!("not UTF-8 (at byte {})", e.valid_up_to()),
            })
        })?;
        // The clock is lent: a failed restore drops it without finalizing
        // the caller's user data.
        let breaker = CircuitBreaker::from_snapshot(validated, OwnedClock::lent(c.clock), text)
            .map_err(|e| snapshot_failure(&e))?;
        // SAFETY: checked out-param.
        unsafe { hand_out(out, resilience_circuit_breaker_t::adopt(breaker, c.listener, c.events)) }
    })
}

/// The status and message of a snapshot that could not be read.
#[cold]
#[inline(never)]
fn snapshot_failure(e: &SnapshotError) -> Failure {
    let status = match e {
        SnapshotError::UnsupportedVersion { .. } => resilience_status_t::RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION,
        // Malformed, and any error a later core adds.
        _ => resilience_status_t::RESILIENCE_ERR_INVALID_SNAPSHOT,
    };
    Failure::new(status, e.to_string())
}
