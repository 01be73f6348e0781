//! The retry policy handle and its pure decisions.

use std::sync::Arc;
use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::{
    BackoffStrategy, ConfigError, Jitter, RetryPolicy, Value, DEFAULT_BASE_DELAY, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_DELAY,
};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, nanos, signed_nanos};
use crate::budget::resilience_retry_budget_t;
use crate::config::{count, duration_ns};
use crate::status::{resilience_status_t, Failure};

/// A backoff strategy: one of the `RESILIENCE_BACKOFF_*` values.
#[allow(non_camel_case_types)]
pub type resilience_backoff_t = u32;
/// `base_delay` after every attempt.
pub const RESILIENCE_BACKOFF_FIXED: resilience_backoff_t = 0;
/// `base_delay * n` after attempt n.
pub const RESILIENCE_BACKOFF_LINEAR: resilience_backoff_t = 1;
/// `base_delay * 2^(n-1)` after attempt n (the default).
pub const RESILIENCE_BACKOFF_EXPONENTIAL: resilience_backoff_t = 2;
/// `base_delay * fib(n)` after attempt n, fib(1) = fib(2) = 1.
pub const RESILIENCE_BACKOFF_FIBONACCI: resilience_backoff_t = 3;
/// No backoff: only for a circuit breaker's `break_backoff` (every break
/// lasts recovery_timeout_ns, the default). A retry policy refuses it
/// (RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME): a retry needs a strategy.
pub const RESILIENCE_BACKOFF_NONE: resilience_backoff_t = u32::MAX;

/// A jitter mode: one of the `RESILIENCE_JITTER_*` values.
#[allow(non_camel_case_types)]
pub type resilience_jitter_t = u32;
/// No randomness.
pub const RESILIENCE_JITTER_NONE: resilience_jitter_t = 0;
/// The capped delay times a factor uniform in [0.75, 1.25) (the default; may
/// reach 1.25 x max_delay, as the original Python library does).
pub const RESILIENCE_JITTER_PROPORTIONAL: resilience_jitter_t = 1;
/// Uniform in [0, capped delay).
pub const RESILIENCE_JITTER_FULL: resilience_jitter_t = 2;
/// capped/2 + uniform [0, capped/2).
pub const RESILIENCE_JITTER_EQUAL: resilience_jitter_t = 3;
/// Uniform in [base, 3 x previous delay), capped at max_delay.
pub const RESILIENCE_JITTER_DECORRELATED: resilience_jitter_t = 4;

/// Configuration of a retry policy. Start from
/// resilience_retry_config_default() and set what you need.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_retry_config_t {
    /// Total attempts, the first included; 1..=4294967295 (default 3).
    pub max_attempts: i64,
    /// A RESILIENCE_BACKOFF_* value (default RESILIENCE_BACKOFF_EXPONENTIAL).
    pub backoff: resilience_backoff_t,
    /// Base delay in nanoseconds; >= 0 (default 1 s).
    pub base_delay_ns: i64,
    /// Cap on the un-jittered delay in nanoseconds; >= base_delay_ns (default 60 s).
    pub max_delay_ns: i64,
    /// A RESILIENCE_JITTER_* value (default RESILIENCE_JITTER_PROPORTIONAL).
    pub jitter: resilience_jitter_t,
    /// When true, jitter draws from a generator seeded with `seed`, so the
    /// delays are reproducible (and equal to every other binding's for the
    /// same seed). When false (default), the OS seeds it.
    pub seeded: bool,
    /// The jitter seed, used when `seeded` is true; any value 0..=2^64-1.
    pub seed: u64,
    /// HTTP status codes worth retrying, each 100..=599 (copied; duplicates
    /// are harmless). NULL (default): never retry on a status. Non-NULL with
    /// length 0: an empty set.
    pub retryable_status_codes: *const i64,
    /// Number of entries in `retryable_status_codes`.
    pub retryable_status_codes_len: usize,
    /// When true, the sequence has a deadline: max_elapsed_ns. When false
    /// (default), none (max_elapsed_ns is not read).
    pub has_max_elapsed: bool,
    /// The deadline of a whole retry sequence, counted from the first
    /// attempt's start, ns; >= 0 (0: only the first attempt runs). A
    /// failure after it, or a wait that would reach it, gives up with
    /// RESILIENCE_GIVE_UP_DEADLINE; resilience_retry_execute() then returns
    /// RESILIENCE_ERR_TIMEOUT. Read only with has_max_elapsed.
    pub max_elapsed_ns: i64,
    /// How long one attempt may take, ns, for event loops that can cancel
    /// an attempt (read it back with resilience_retry_policy_attempt_timeout(),
    /// report a cancelled attempt with resilience_retry_state_on_timeout());
    /// above 0, or 0 (default) for none. resilience_retry_execute() cannot
    /// pre-empt a blocking call and does not use it.
    pub attempt_timeout_ns: i64,
    /// A retry budget shared with other policies (resilience_retry_budget_new()),
    /// or NULL (default) for none. The policy keeps the budget alive: the
    /// budget handle may be freed first. Every sequence started with this
    /// policy deposits a first attempt; a retry the attempt count, the
    /// filter and the deadline allow is then withdrawn from the budget, and
    /// a denied one gives up with RESILIENCE_GIVE_UP_BUDGET.
    pub budget: *const resilience_retry_budget_t,
}

/// The defaults of the original library: 3 attempts, exponential backoff
/// from 1 s capped at 60 s, proportional jitter, OS-seeded, no status
/// codes; and no deadline, no attempt timeout, no budget.
#[no_mangle]
pub extern "C" fn resilience_retry_config_default() -> resilience_retry_config_t {
    resilience_retry_config_t {
        max_attempts: i64::from(DEFAULT_MAX_ATTEMPTS),
        backoff: backoff_to_c(BackoffStrategy::default()),
        base_delay_ns: signed_nanos(DEFAULT_BASE_DELAY),
        max_delay_ns: signed_nanos(DEFAULT_MAX_DELAY),
        jitter: jitter_to_c(Jitter::default()),
        seeded: false,
        seed: 0,
        retryable_status_codes: std::ptr::null(),
        retryable_status_codes_len: 0,
        has_max_elapsed: false,
        max_elapsed_ns: 0,
        attempt_timeout_ns: 0,
        budget: std::ptr::null(),
    }
}

/// A value no strategy or mode has: a strategy or mode of a later core that
/// this header cannot name yet (a unit test keeps today's all named), which
/// the policy then refuses as an unknown name rather than run something else.
const UNNAMED: u32 = RESILIENCE_BACKOFF_NONE;

fn backoff_to_c(b: BackoffStrategy) -> resilience_backoff_t {
    match b {
        BackoffStrategy::Fixed => RESILIENCE_BACKOFF_FIXED,
        BackoffStrategy::Linear => RESILIENCE_BACKOFF_LINEAR,
        BackoffStrategy::Exponential => RESILIENCE_BACKOFF_EXPONENTIAL,
        BackoffStrategy::Fibonacci => RESILIENCE_BACKOFF_FIBONACCI,
        _ => UNNAMED,
    }
}

fn jitter_to_c(j: Jitter) -> resilience_jitter_t {
    match j {
        Jitter::None => RESILIENCE_JITTER_NONE,
        Jitter::Proportional => RESILIENCE_JITTER_PROPORTIONAL,
        Jitter::Full => RESILIENCE_JITTER_FULL,
        Jitter::Equal => RESILIENCE_JITTER_EQUAL,
        Jitter::Decorrelated => RESILIENCE_JITTER_DECORRELATED,
        _ => UNNAMED,
    }
}

/// Rule `backoff_name` for C: the constant is the index into core's
/// strategies (a unit test ties each constant to its strategy); any other
/// value is an unknown name.
pub(crate) fn backoff_from_c(v: resilience_backoff_t) -> Result<BackoffStrategy, ConfigError> {
    rules::backoff_index("backoff", i64::from(v))
}

/// Rule `jitter_switch` for C, by index as [`backoff_from_c`].
fn jitter_from_c(v: resilience_jitter_t) -> Result<Jitter, ConfigError> {
    rules::jitter_index("jitter", i64::from(v))
}

/// A validated, immutable retry policy. Thread-safe: one policy may be used
/// by many threads at once (jitter draws from a lock-free generator).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_retry_policy_t {
    pub(crate) policy: Arc<RetryPolicy>,
}

impl resilience_retry_config_t {
    /// Every field goes through core's rules (and core's builder checks
    /// max_delay >= base_delay); nothing is checked here.
    ///
    /// # Safety
    /// `retryable_status_codes` is NULL or points to `..._len` readable
    /// values; `budget` is NULL or valid.
    unsafe fn build(&self) -> Result<RetryPolicy, Failure> {
        let seed = if self.seeded {
            rules::seed(Value::from(self.seed))?
        } else {
            None
        };
        let mut builder = RetryPolicy::builder()
            .max_attempts(count("max_attempts", self.max_attempts)?)
            .backoff(backoff_from_c(self.backoff)?)
            .base_delay(duration_ns("base_delay", self.base_delay_ns)?)
            .max_delay(duration_ns("max_delay", self.max_delay_ns)?)
            .jitter(jitter_from_c(self.jitter)?)
            .maybe_seed(seed);
        if !self.retryable_status_codes.is_null() {
            // SAFETY: non-NULL, and the caller promises `len` readable values.
            let codes =
                unsafe { std::slice::from_raw_parts(self.retryable_status_codes, self.retryable_status_codes_len) };
            builder = builder.retryable_status_codes(rules::status_codes(codes.iter().map(|&c| Value::from(c)))?);
        } else if self.retryable_status_codes_len != 0 {
            return Err(Failure::null("config->retryable_status_codes (with a non-zero length)"));
        }
        // Rule `optional`: C says "none" with the flag, and with 0 for a
        // timeout (a zero timeout is no timeout core would accept).
        let max_elapsed = Value::from(self.max_elapsed_ns);
        let max_elapsed = rules::optional(
            if self.has_max_elapsed {
                max_elapsed
            } else {
                Value::Absent
            },
            |v| rules::duration("max_elapsed", v, Unit::Nanoseconds),
        )?;
        let attempt_timeout = match self.attempt_timeout_ns {
            0 => Value::Absent,
            ns => Value::from(ns),
        };
        let attempt_timeout = rules::optional(attempt_timeout, |v| {
            rules::timeout("attempt_timeout", v, Unit::Nanoseconds)
        })?;
        builder = builder
            .maybe_max_elapsed(max_elapsed)
            .maybe_attempt_timeout(attempt_timeout);
        // SAFETY: NULL or valid, by the caller's promise.
        if let Some(b) = unsafe { self.budget.as_ref() } {
            builder = builder.budget(Arc::clone(&b.budget));
        }
        Ok(builder.build()?)
    }
}

/// Validates `config` and creates a policy in `*policy_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT (also for a NULL status-code array
/// with a non-zero length); RESILIENCE_ERR_INVALID_CONFIG for max_attempts
/// outside 1..=4294967295 (kind TOO_SMALL / TOO_LARGE), a negative delay
/// (TOO_SMALL), max_delay_ns < base_delay_ns (BELOW_OTHER), a status code
/// outside 100..=599 (TOO_SMALL / TOO_LARGE), a backoff or jitter value that
/// is no RESILIENCE_BACKOFF_* / RESILIENCE_JITTER_* constant (UNKNOWN_NAME),
/// a negative max_elapsed_ns (with has_max_elapsed) or attempt_timeout_ns
/// (TOO_SMALL); see resilience_last_error_kind(). Free the policy with
/// resilience_retry_policy_free().
///
/// # Safety
/// `config` and `policy_out` are NULL or valid; see the config's fields.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_new(
    config: *const resilience_retry_config_t,
    policy_out: *mut *mut resilience_retry_policy_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let config = unsafe { borrow(config, "config") }?;
        let out = check_out(policy_out, "policy_out")?;
        // SAFETY: the caller's promise about the status-code array.
        let policy = unsafe { config.build() }?;
        // SAFETY: `out` was checked.
        unsafe {
            hand_out(
                out,
                resilience_retry_policy_t {
                    policy: Arc::new(policy),
                },
            )
        }
    })
}

/// Frees a policy. NULL is a no-op. Retry states created from it stay valid.
///
/// # Safety
/// `policy` is NULL or from resilience_retry_policy_new(), not yet freed.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_free(policy: *mut resilience_retry_policy_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(policy);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

/// The shape every policy query shares: borrow the policy, check the
/// out-parameter, write the answer.
///
/// # Safety
/// `policy` is NULL or valid; `out` is NULL or valid for a write.
#[inline(always)]
unsafe fn answer<T>(
    policy: *const resilience_retry_policy_t,
    out: *mut T,
    out_name: &str,
    query: impl FnOnce(&RetryPolicy) -> T,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let p = unsafe { borrow(policy, "policy") }?;
        let out = check_out(out, out_name)?;
        // SAFETY: checked out-param.
        unsafe { out.write(query(&p.policy)) }
    })
}

/// The delay (ns) before retrying after failed attempt `attempt`, with
/// jitter (one draw from the policy's generator). `attempt <= 0` gives 0.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_calculate_delay(
    policy: *const resilience_retry_policy_t,
    attempt: i64,
    delay_ns_out: *mut u64,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe {
        answer(policy, delay_ns_out, "delay_ns_out", |p| {
            nanos(p.calculate_delay(attempt))
        })
    }
}

/// The delay (ns) after failed attempt `attempt`, capped at max_delay,
/// without jitter. `attempt <= 0` gives 0.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_raw_delay(
    policy: *const resilience_retry_policy_t,
    attempt: i64,
    delay_ns_out: *mut u64,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe { answer(policy, delay_ns_out, "delay_ns_out", |p| nanos(p.raw_delay(attempt))) }
}

/// Whether to retry after failed attempt `attempt` whose error is
/// `retryable`: false once attempt >= max_attempts.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_should_retry(
    policy: *const resilience_retry_policy_t,
    attempt: i64,
    retryable: bool,
    retry_out: *mut bool,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe { answer(policy, retry_out, "retry_out", |p| p.should_retry(attempt, retryable)) }
}

/// Whether to retry a response with HTTP `status` after attempt `attempt`:
/// false once attempt >= max_attempts; else whether `status` is one of the
/// configured retryable_status_codes (never, when none were configured).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_should_retry_status(
    policy: *const resilience_retry_policy_t,
    status: i64,
    attempt: i64,
    retry_out: *mut bool,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe {
        answer(policy, retry_out, "retry_out", |p| {
            p.should_retry_status(status, attempt)
        })
    }
}

/// A server's Retry-After wait (ns) capped at the policy's max_delay.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_cap_retry_after(
    policy: *const resilience_retry_policy_t,
    hint_ns: u64,
    delay_ns_out: *mut u64,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe {
        answer(policy, delay_ns_out, "delay_ns_out", |p| {
            nanos(p.cap_retry_after(Duration::from_nanos(hint_ns)))
        })
    }
}

/// The policy's attempt timeout, ns (0: none): how long an event loop
/// should let one attempt run before cancelling it and reporting
/// resilience_retry_state_on_timeout(). Arm the timer at the earlier of
/// this and resilience_retry_state_deadline().
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_policy_attempt_timeout(
    policy: *const resilience_retry_policy_t,
    timeout_ns_out: *mut u64,
) -> resilience_status_t {
    // SAFETY: the caller's promise, forwarded.
    unsafe {
        answer(policy, timeout_ns_out, "timeout_ns_out", |p| {
            p.attempt_timeout().map_or(0, nanos)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_and_mode_of_core_has_a_constant() {
        for b in BackoffStrategy::ALL {
            assert_ne!(backoff_to_c(b), UNNAMED, "{b:?}");
            assert_eq!(backoff_from_c(backoff_to_c(b)), Ok(b));
        }
        for j in Jitter::ALL {
            assert_ne!(jitter_to_c(j), UNNAMED, "{j:?}");
            assert_eq!(jitter_from_c(jitter_to_c(j)), Ok(j));
        }
        assert!(backoff_from_c(RESILIENCE_BACKOFF_NONE).is_err());
        assert!(backoff_from_c(4).is_err() && jitter_from_c(5).is_err());
    }
}
