//! The adaptive throttle handle (Google SRE book, "Handling Overload"):
//! the client sheds requests itself when its backend keeps rejecting them.

use resilience_core::rules::Unit;
use resilience_core::{AdaptiveThrottle, AdaptiveThrottleConfig, Value, DEFAULT_THROTTLE_K, DEFAULT_THROTTLE_WINDOW};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, nanos, signed_nanos};
use crate::status::resilience_status_t;
use crate::time_source::{resilience_time_source_t, OwnedClock};

/// Configuration of an adaptive throttle. Start from
/// resilience_adaptive_throttle_config_default() and set what you need.
///
/// A request is shed with probability
/// max(0, (requests - k x accepts) / (requests + 1)) over the last
/// `window_ns` (ten buckets): while the backend accepts everything nothing
/// is shed and no random number is drawn.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_adaptive_throttle_config_t {
    /// The multiplier K: requests beyond K x accepts are shed; a finite
    /// number above 0 (default 2, the SRE book's). 0 or less is TOO_SMALL,
    /// infinity TOO_LARGE, NaN NOT_A_NUMBER.
    pub k: f64,
    /// How much history counts, ns; at least 1 s (default 120 s).
    pub window_ns: i64,
    /// When true, the shedding draws come from a generator seeded with
    /// `seed` (reproducible runs, the same draws as every other binding's
    /// for the same seed). When false (default), the OS seeds it.
    pub seeded: bool,
    /// The seed, used when `seeded` is true; any value 0..=2^64-1.
    pub seed: u64,
    /// The clock (`now_ns`; `sleep_ns` is not used); all-NULL (the default)
    /// is the system monotonic clock. Ownership as for a breaker's clock:
    /// taken on success, `free_user_data` called once from _free. Make it
    /// thread-safe if the throttle is shared.
    pub clock: resilience_time_source_t,
}

/// Core's defaults: k 2, a window of 120 s, OS-seeded, the system clock.
#[no_mangle]
pub extern "C" fn resilience_adaptive_throttle_config_default() -> resilience_adaptive_throttle_config_t {
    resilience_adaptive_throttle_config_t {
        k: DEFAULT_THROTTLE_K,
        window_ns: signed_nanos(DEFAULT_THROTTLE_WINDOW),
        seeded: false,
        seed: 0,
        clock: resilience_time_source_t::SYSTEM,
    }
}

/// An adaptive throttle, lock-free and thread-safe.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_adaptive_throttle_t {
    throttle: AdaptiveThrottle<OwnedClock>,
}

/// Why a request was shed: the probability it was drawn against, and a
/// suggested wait (until the oldest tenth of history leaves the window,
/// the soonest the counts change other than by new traffic).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct resilience_throttled_t {
    /// The rejection probability, in (0, 1).
    pub probability: f64,
    /// The suggested wait, ns.
    pub retry_after_ns: u64,
}

/// The window's counts and the probability they give.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct resilience_throttle_stats_t {
    /// Requests attempted in the window (shed ones included).
    pub requests: u64,
    /// Requests the backend accepted in the window.
    pub accepts: u64,
    /// max(0, (requests - k x accepts) / (requests + 1)).
    pub probability: f64,
}

/// Validates `config` and creates a throttle with no history in
/// `*throttle_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for a
/// k that is not a finite number above 0, a window_ns below 1 s (the first
/// invalid field in that order). On error the caller keeps
/// `config->clock.user_data`.
///
/// # Safety
/// Pointers are NULL or valid; the clock callbacks are thread-safe if the
/// throttle is shared.
#[no_mangle]
pub unsafe extern "C" fn resilience_adaptive_throttle_new(
    config: *const resilience_adaptive_throttle_config_t,
    throttle_out: *mut *mut resilience_adaptive_throttle_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let c = unsafe { borrow(config, "config") }?;
        let out = check_out(throttle_out, "throttle_out")?;
        let seed = if c.seeded { Value::from(c.seed) } else { Value::Absent };
        let validated = AdaptiveThrottleConfig::from_values(
            Some(Value::Float(c.k)),
            Some(Value::from(c.window_ns)),
            Some(seed),
            Unit::Nanoseconds,
        )?;
        let clock = OwnedClock::lent(c.clock);
        clock.adopt();
        let throttle = AdaptiveThrottle::new(validated, clock);
        // SAFETY: checked out-param.
        unsafe { hand_out(out, resilience_adaptive_throttle_t { throttle }) }
    })
}

/// Frees a throttle and runs its clock's finalizer. NULL is a no-op.
///
/// # Safety
/// `throttle` is NULL or from resilience_adaptive_throttle_new(), not yet
/// freed, and no other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn resilience_adaptive_throttle_free(throttle: *mut resilience_adaptive_throttle_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(throttle);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

/// A request is about to be sent: counts it and decides. RESILIENCE_OK:
/// send it, then report the backend's answer with
/// resilience_adaptive_throttle_record(). RESILIENCE_ERR_THROTTLED: shed
/// it (do not send it); `*throttled_out`, if not NULL, receives the
/// probability and a suggested wait (a documented exception to "out-
/// parameters only on RESILIENCE_OK"; nothing is written on RESILIENCE_OK).
///
/// # Safety
/// `throttle` is NULL or valid; `throttled_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_adaptive_throttle_try_admit(
    throttle: *const resilience_adaptive_throttle_t,
    throttled_out: *mut resilience_throttled_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let t = unsafe { borrow(throttle, "throttle") }?;
        match t.throttle.try_admit() {
            Ok(()) => Ok(resilience_status_t::RESILIENCE_OK),
            Err(shed) => {
                if !throttled_out.is_null() {
                    let answer = resilience_throttled_t {
                        probability: shed.probability,
                        retry_after_ns: nanos(shed.retry_after),
                    };
                    // SAFETY: non-NULL, valid by the caller's promise.
                    unsafe { throttled_out.write(answer) };
                }
                Ok(resilience_status_t::RESILIENCE_ERR_THROTTLED)
            }
        }
    })
}

/// The backend answered an admitted request: `accepted` is your predicate
/// on its answer (e.g. "not a 429 or 503"). Accepts are what keep the
/// throttle open.
///
/// # Safety
/// `throttle` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_adaptive_throttle_record(
    throttle: *const resilience_adaptive_throttle_t,
    accepted: bool,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let t = unsafe { borrow(throttle, "throttle") }?;
        t.throttle.record(accepted);
        Ok(resilience_status_t::RESILIENCE_OK)
    })
}

/// The window's counts and the current rejection probability.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_adaptive_throttle_stats(
    throttle: *const resilience_adaptive_throttle_t,
    stats_out: *mut resilience_throttle_stats_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let t = unsafe { borrow(throttle, "throttle") }?;
        let out = check_out(stats_out, "stats_out")?;
        let s = t.throttle.stats();
        // SAFETY: checked out-param.
        unsafe {
            out.write(resilience_throttle_stats_t {
                requests: s.requests,
                accepts: s.accepts,
                probability: s.probability,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_cores_default() {
        let c = resilience_adaptive_throttle_config_default();
        let built = AdaptiveThrottleConfig::from_values(
            Some(Value::Float(c.k)),
            Some(Value::from(c.window_ns)),
            Some(Value::Absent),
            Unit::Nanoseconds,
        )
        .unwrap();
        assert_eq!(built, AdaptiveThrottleConfig::default());
    }
}
