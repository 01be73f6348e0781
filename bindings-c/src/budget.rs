//! The retry budget handle (Finagle's RetryBudget, tower's TpsBudget):
//! one per downstream, shared by every retry policy that calls it.

use std::sync::Arc;

use resilience_core::rules::Unit;
use resilience_core::{
    RetryBudget, RetryBudgetConfig, Value, DEFAULT_BUDGET_TTL, DEFAULT_MIN_RETRIES_PER_SEC, DEFAULT_RETRY_RATIO,
};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, signed_nanos};
use crate::status::resilience_status_t;
use crate::time_source::{resilience_time_source_t, OwnedClock};

/// Configuration of a retry budget. Start from
/// resilience_retry_budget_config_default() and set what you need.
///
/// Over the last `ttl_ns`, retries may be at most `retry_ratio` x first
/// attempts plus `min_retries_per_sec` x ttl (the floor that lets a quiet
/// client retry at all).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_retry_budget_config_t {
    /// How long a first attempt or a retry counts, ns; 1 s..=60 s (default
    /// 10 s; Finagle's and tower's bounds).
    pub ttl_ns: i64,
    /// Retries per second of ttl allowed whatever the traffic;
    /// 0..=4294967295 (default 10).
    pub min_retries_per_sec: i64,
    /// Retries allowed per first attempt, on top of the floor; in (0, 1]
    /// (default 0.2), resolved to the nearest millionth. 0, NaN and values
    /// above 1 are RESILIENCE_ERR_INVALID_CONFIG (TOO_SMALL, NOT_A_NUMBER,
    /// TOO_LARGE): a budget always has a ratio.
    pub retry_ratio: f64,
    /// The clock (`now_ns`; `sleep_ns` is not used); all-NULL (the default)
    /// is the system monotonic clock. The budget takes ownership of
    /// `clock.user_data` on success and calls `free_user_data` once, when
    /// the budget handle *and* every policy built with it are freed. A
    /// shared budget reads it from every thread that uses it: make it
    /// thread-safe.
    pub clock: resilience_time_source_t,
}

/// Core's defaults: ttl 10 s, 10 retries per second, a ratio of 0.2, the
/// system clock.
#[no_mangle]
pub extern "C" fn resilience_retry_budget_config_default() -> resilience_retry_budget_config_t {
    resilience_retry_budget_config_t {
        ttl_ns: signed_nanos(DEFAULT_BUDGET_TTL),
        min_retries_per_sec: i64::from(DEFAULT_MIN_RETRIES_PER_SEC),
        retry_ratio: DEFAULT_RETRY_RATIO,
        clock: resilience_time_source_t::SYSTEM,
    }
}

/// A retry budget, lock-free and thread-safe: give it to any number of
/// retry policies (resilience_retry_config_t.budget), used from any number
/// of threads. Each retry sequence deposits a first attempt when it starts
/// (resilience_retry_state_new(), resilience_retry_execute()) and
/// withdraws before each retry; a denied retry gives up with
/// RESILIENCE_GIVE_UP_BUDGET. Exact under concurrency: the budget is never
/// overdrawn.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_retry_budget_t {
    pub(crate) budget: Arc<RetryBudget>,
}

/// Validates `config` and creates a budget in `*budget_out` (nothing
/// deposited: the floor is available at once).
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for a
/// ttl_ns outside 1 s..=60 s (TOO_SMALL / TOO_LARGE, parameter "ttl_ns"), a
/// negative or too large min_retries_per_sec, a retry_ratio outside (0, 1];
/// the first invalid field in that order is reported. On error the caller
/// keeps `config->clock.user_data`. Free with resilience_retry_budget_free().
///
/// # Safety
/// Pointers are NULL or valid; the clock callbacks are thread-safe if the
/// budget is shared.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_budget_new(
    config: *const resilience_retry_budget_config_t,
    budget_out: *mut *mut resilience_retry_budget_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let c = unsafe { borrow(config, "config") }?;
        let out = check_out(budget_out, "budget_out")?;
        let validated = RetryBudgetConfig::from_values(
            Some(Value::from(c.ttl_ns)),
            Some(Value::from(c.min_retries_per_sec)),
            Some(Value::Float(c.retry_ratio)),
            Unit::Nanoseconds,
        )?;
        // Nothing left to fail: the clock's user data changes hands.
        let clock = OwnedClock::lent(c.clock);
        clock.adopt();
        let budget = Arc::new(RetryBudget::new(validated, clock));
        // SAFETY: checked out-param.
        unsafe { hand_out(out, resilience_retry_budget_t { budget }) }
    })
}

/// Frees the budget handle. NULL is a no-op. Policies built with it keep
/// the budget itself (and its clock) alive until they are freed too.
///
/// # Safety
/// `budget` is NULL or from resilience_retry_budget_new(), not yet freed,
/// and no other thread is using this handle.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_budget_free(budget: *mut resilience_retry_budget_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(budget);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

/// Counts a first attempt (for loops of your own that do not start their
/// sequences through a policy with this budget).
///
/// # Safety
/// `budget` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_budget_deposit(
    budget: *const resilience_retry_budget_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(budget, "budget") }?;
        b.budget.deposit();
        Ok(resilience_status_t::RESILIENCE_OK)
    })
}

/// Claims one retry if the budget allows it: `*granted_out` true (retry) or
/// false (do not retry). For loops of your own; a policy with this budget
/// withdraws by itself.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_budget_try_withdraw(
    budget: *const resilience_retry_budget_t,
    granted_out: *mut bool,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(budget, "budget") }?;
        let out = check_out(granted_out, "granted_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(b.budget.try_withdraw()) }
    })
}

/// How many retries the budget would grant now.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_budget_available(
    budget: *const resilience_retry_budget_t,
    available_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(budget, "budget") }?;
        let out = check_out(available_out, "available_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(b.budget.available()) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_cores_default() {
        let c = resilience_retry_budget_config_default();
        let built = RetryBudgetConfig::from_values(
            Some(Value::from(c.ttl_ns)),
            Some(Value::from(c.min_retries_per_sec)),
            Some(Value::Float(c.retry_ratio)),
            Unit::Nanoseconds,
        )
        .unwrap();
        assert_eq!(built, RetryBudgetConfig::default());
    }
}
