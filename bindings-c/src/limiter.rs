//! The rate limiter handle: GCRA (governor, redis-cell) in one atomic word.

use resilience_core::rules::{self, Unit};
use resilience_core::{
    RateLimitError, RateLimiter, RateLimiterConfig, Value, DEFAULT_BURST, DEFAULT_PER, DEFAULT_RATE,
};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, nanos, signed_nanos};
use crate::status::{resilience_status_t, Failure};
use crate::time_source::{resilience_time_source_t, BorrowedTime, OwnedClock};

/// Configuration of a rate limiter: `rate` cells per `per_ns`, up to
/// `burst` at once. Start from resilience_rate_limiter_config_default().
///
/// One cell is worth per_ns / rate, rounded *up* to the nanosecond (the
/// emission interval), so the limiter never admits more than `rate` per
/// `per_ns`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_rate_limiter_config_t {
    /// Cells per period; 1..=4294967295 (default 100).
    pub rate: i64,
    /// The period, ns; above 0 (default 1 s).
    pub per_ns: i64,
    /// Cells that may be taken at once after a quiet spell; at least 1, and
    /// refilling it (burst x per_ns / rate) must fit 584 years (else
    /// TOO_LARGE); default 10.
    pub burst: i64,
    /// The clock (`now_ns`; `sleep_ns` is not used here: the blocking
    /// acquire takes its own time source); all-NULL (the default) is the
    /// system monotonic clock. Ownership as for a breaker's clock: taken on
    /// success, `free_user_data` called once from _free. Make it
    /// thread-safe if the limiter is shared.
    pub clock: resilience_time_source_t,
}

/// Core's defaults: 100 cells per second, a burst of 10, the system clock.
#[no_mangle]
pub extern "C" fn resilience_rate_limiter_config_default() -> resilience_rate_limiter_config_t {
    resilience_rate_limiter_config_t {
        rate: i64::from(DEFAULT_RATE),
        per_ns: signed_nanos(DEFAULT_PER),
        burst: i64::from(DEFAULT_BURST),
        clock: resilience_time_source_t::SYSTEM,
    }
}

/// A GCRA rate limiter, lock-free and thread-safe (one atomic word).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_rate_limiter_t {
    limiter: RateLimiter<OwnedClock>,
}

/// Validates `config` and creates a limiter with its whole burst available
/// in `*limiter_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for a
/// rate outside 1..=4294967295, a per_ns of 0 or less, a burst below 1 or
/// one whose refill does not fit 584 years (the first invalid field in the
/// order rate, per_ns, burst). On error the caller keeps
/// `config->clock.user_data`.
///
/// # Safety
/// Pointers are NULL or valid; the clock callbacks are thread-safe if the
/// limiter is shared.
#[no_mangle]
pub unsafe extern "C" fn resilience_rate_limiter_new(
    config: *const resilience_rate_limiter_config_t,
    limiter_out: *mut *mut resilience_rate_limiter_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let c = unsafe { borrow(config, "config") }?;
        let out = check_out(limiter_out, "limiter_out")?;
        let validated = RateLimiterConfig::from_values(
            Some(Value::from(c.rate)),
            Some(Value::from(c.per_ns)),
            Some(Value::from(c.burst)),
            Unit::Nanoseconds,
        )?;
        let clock = OwnedClock::lent(c.clock);
        clock.adopt();
        let limiter = RateLimiter::new(validated, clock);
        // SAFETY: checked out-param.
        unsafe { hand_out(out, resilience_rate_limiter_t { limiter }) }
    })
}

/// Frees a limiter and runs its clock's finalizer. NULL is a no-op.
///
/// # Safety
/// `limiter` is NULL or from resilience_rate_limiter_new(), not yet freed,
/// and no other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn resilience_rate_limiter_free(limiter: *mut resilience_rate_limiter_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(limiter);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

/// Rule `cells` for the `n` argument: a count from 0.
#[inline(always)]
fn cells(n: i64) -> Result<u32, Failure> {
    rules::cells(Value::from(n)).map_err(|e| Failure::argument(&e))
}

/// The limiter refused `n` cells for good: more than the burst.
#[cold]
#[inline(never)]
fn exceeds_burst(e: impl std::fmt::Display) -> Failure {
    Failure::new(resilience_status_t::RESILIENCE_ERR_EXCEEDS_BURST, e.to_string())
}

/// Takes `n` cells if they all conform now (0 cells always conform and
/// change nothing).
///
/// Returns RESILIENCE_OK (taken); RESILIENCE_ERR_RATE_LIMITED: not yet, and
/// `*wait_ns_out` (if not NULL) receives exactly how long until the `n`
/// cells conform (if nobody takes them first; a documented exception to
/// "out-parameters only on RESILIENCE_OK", nothing is written on OK) — a
/// decision, the last error is untouched; RESILIENCE_ERR_EXCEEDS_BURST when
/// `n` is above the burst (no wait would ever do); RESILIENCE_ERR_INVALID_ARGUMENT
/// for a negative `n` or one above 4294967295 (kind TOO_SMALL / TOO_LARGE,
/// parameter "n"); RESILIENCE_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `limiter` is NULL or valid; `wait_ns_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_rate_limiter_try_acquire(
    limiter: *const resilience_rate_limiter_t,
    n: i64,
    wait_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let l = unsafe { borrow(limiter, "limiter") }?;
        match l.limiter.try_acquire_n(cells(n)?) {
            Ok(()) => Ok(resilience_status_t::RESILIENCE_OK),
            Err(RateLimitError::Limited(limited)) => {
                if !wait_ns_out.is_null() {
                    // SAFETY: non-NULL, valid by the caller's promise.
                    unsafe { wait_ns_out.write(nanos(limited.retry_after)) };
                }
                Ok(resilience_status_t::RESILIENCE_ERR_RATE_LIMITED)
            }
            Err(other) => Err(exceeds_burst(other)),
        }
    })
}

/// Takes `n` cells, sleeping through `time->sleep_ns` for as long as the
/// limiter says and asking again (another caller may take the cells
/// meanwhile), until they are taken. `time` (or its `sleep_ns`) NULL: the
/// system sleep; `time` is only borrowed, its finalizer is not called.
/// Returns at once with RESILIENCE_ERR_EXCEEDS_BURST when `n` is above the
/// burst (never a hang on cells that can never conform); other errors as
/// resilience_rate_limiter_try_acquire().
///
/// # Safety
/// `limiter` is NULL or valid; `time` is NULL or valid, its callbacks safe
/// to call with its `user_data`.
#[no_mangle]
pub unsafe extern "C" fn resilience_rate_limiter_acquire(
    limiter: *const resilience_rate_limiter_t,
    n: i64,
    time: *const resilience_time_source_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let l = unsafe { borrow(limiter, "limiter") }?;
        let n = cells(n)?;
        // SAFETY: the caller's promise.
        let sleeper = unsafe { BorrowedTime::from_ptr(time) };
        l.limiter.acquire(n, &sleeper).map_err(exceeds_burst)?;
        Ok(resilience_status_t::RESILIENCE_OK)
    })
}

/// The limiter's emission interval: the time one cell is worth, ns
/// (per_ns / rate rounded up to the nanosecond, by core's rule
/// `emission_interval`). After a quiet spell the limiter admits `burst`
/// cells at once, then one per interval.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_rate_limiter_emission_interval(
    limiter: *const resilience_rate_limiter_t,
    interval_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let l = unsafe { borrow(limiter, "limiter") }?;
        let out = check_out(interval_ns_out, "interval_ns_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(nanos(l.limiter.config().emission_interval())) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_cores_default() {
        let c = resilience_rate_limiter_config_default();
        let built = RateLimiterConfig::from_values(
            Some(Value::from(c.rate)),
            Some(Value::from(c.per_ns)),
            Some(Value::from(c.burst)),
            Unit::Nanoseconds,
        )
        .unwrap();
        assert_eq!(built, RateLimiterConfig::default());
    }
}
