//! The blocking retry executor: core's `Retry` loop over a C operation,
//! with the deadline on the caller's clock, an optional result predicate
//! and an optional event callback.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::time::Duration;

use resilience_core::rules::PredicateOutcome;
use resilience_core::{AcceptAll, Event, GiveUpReason, ResultPredicate, Retry, RetryError, RetryPolicy};

use crate::boundary::{borrow, check_out, ffi_call, nanos, OutParam};
use crate::events::{emit, resilience_event_fn, retry_event};
use crate::predicate::{outcome_from_c, resilience_predicate_outcome_t};
use crate::retry_policy::resilience_retry_policy_t;
use crate::retry_state::{reason_to_c, resilience_give_up_reason_t, RESILIENCE_GIVE_UP_NONE};
use crate::status::{resilience_status_t, Failure};
use crate::time_source::{resilience_time_source_t, TimeRef};

/// An operation's return value meaning success.
pub const RESILIENCE_OP_SUCCESS: c_int = 0;
/// The canonical "retryable failure" return value. Any value > 0 is a
/// retryable failure (return your own positive error code to see it again
/// in resilience_retry_outcome_t.last_code).
pub const RESILIENCE_OP_RETRYABLE: c_int = 1;
/// The canonical "fatal failure" return value. Any value < 0 is a fatal
/// failure: the executor gives up at once without retrying. Return a
/// negative code too when you cannot tell whether a failure is retryable
/// (your own classification failed): the library's rule for a failing retry
/// filter is "not retryable", so the failure surfaces at once, unchanged.
// Spelled `0 - 1` so cbindgen emits `(0 - 1)`: a bare `-1` macro breaks
// `x-RESILIENCE_OP_FATAL` (it becomes `x--1`).
pub const RESILIENCE_OP_FATAL: c_int = 0 - 1;

/// The operation run by resilience_retry_execute(): `attempt` is 1-based.
/// Return RESILIENCE_OP_SUCCESS (0), a positive code for a retryable
/// failure, or a negative code for a fatal one. The code is the failure's
/// classification; on the last attempt it is not consulted (the attempt
/// count decides first: any failure there gives up as exhausted).
#[allow(non_camel_case_types)]
pub type resilience_operation_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, attempt: u32) -> c_int>;

/// Told about each retry before its wait: the failed `attempt`, the code it
/// returned, and the delay (ns) about to be slept.
#[allow(non_camel_case_types)]
pub type resilience_on_retry_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, attempt: u32, code: c_int, delay_ns: u64)>;

/// Judges the value an attempt returned (the attempt returned
/// RESILIENCE_OP_SUCCESS; your code keeps the value, e.g. in `user_data`):
/// return RESILIENCE_PREDICATE_YES if it is a failure worth retrying (an
/// HTTP 503), _NO if it is fine, _FAILED if you could not tell (the
/// library's rule: the value is accepted). Any other return value counts as
/// _FAILED. Asked about every value, the last attempt's included. When the
/// value carries a server's wait (its Retry-After), write it to
/// `*retry_after_ns` (preset to 0: no hint); the wait is then at least that
/// hint capped at max_delay_ns.
#[allow(non_camel_case_types)]
pub type resilience_classify_result_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        attempt: u32,
        retry_after_ns: *mut u64,
    ) -> resilience_predicate_outcome_t,
>;

/// What resilience_retry_execute_ex() runs and tells. Start from
/// resilience_retry_call_default() (or zero-initialize it: every callback
/// NULL, the system time), then set `op` and what you need.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_retry_call_t {
    /// The operation (required), as for resilience_retry_execute().
    pub op: resilience_operation_fn,
    /// Passed as the first argument of every callback below.
    pub user_data: *mut c_void,
    /// Told about each retry after a failure code, before its wait (may be
    /// NULL). Retries of values judged failures are told to `on_event` only.
    pub on_retry: resilience_on_retry_fn,
    /// The result predicate (may be NULL: every RESILIENCE_OP_SUCCESS is a
    /// success, at no cost).
    pub classify_result: resilience_classify_result_fn,
    /// Told every event of the sequence: RESILIENCE_EVENT_RETRY_SCHEDULED
    /// before each wait, RESILIENCE_EVENT_GAVE_UP when it gives up (may be
    /// NULL: no events, at no cost).
    pub on_event: resilience_event_fn,
    /// Sleeping (`sleep_ns`) and the deadline's clock (`now_ns`), borrowed
    /// for the call (its finalizer is not called); NULL callbacks are the
    /// system's.
    pub time: resilience_time_source_t,
}

/// A call with every callback NULL (set `op`), no user data and the system
/// time.
#[no_mangle]
pub extern "C" fn resilience_retry_call_default() -> resilience_retry_call_t {
    resilience_retry_call_t {
        op: None,
        user_data: std::ptr::null_mut(),
        on_retry: None,
        classify_result: None,
        on_event: None,
        time: resilience_time_source_t::SYSTEM,
    }
}

/// How a resilience_retry_execute() call ended.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_retry_outcome_t {
    /// How many times the operation ran.
    pub attempts: u32,
    /// What the last run returned (0 on success, and for a value).
    pub last_code: c_int,
    /// RESILIENCE_GIVE_UP_NONE on success, else why it gave up (also with
    /// RESILIENCE_OK when retries ran out on a value judged a failure).
    pub reason: resilience_give_up_reason_t,
    /// The sum of the delays slept (ns, saturating).
    pub total_delay_ns: u64,
}

/// Runs `op` until it succeeds or `policy` gives up, sleeping between
/// attempts through `time->sleep_ns` (the system sleep if `time` or its
/// `sleep_ns` is NULL; `time` is only borrowed, its finalizer is not called).
/// `on_retry` (may be NULL) is called before each sleep. Both callbacks get
/// `user_data`.
///
/// The retry filter is the sign of the returned code, asked lazily by the
/// library's rule: once per failed attempt but the last, whose failure is
/// never classified (it gives up with RESILIENCE_GIVE_UP_EXHAUSTED, even
/// for a negative code). Event loops that classify with a filter of their
/// own use the step API (resilience_retry_state_needs_classification()).
///
/// The deadline (the policy's max_elapsed_ns) counts from the first
/// attempt's start on `time->now_ns` (the system monotonic clock if NULL),
/// attempts included; the clock is read only when the policy has one. A
/// running attempt cannot be pre-empted: the deadline applies between
/// attempts (a failure after it, or a wait that would reach it, gives up).
/// With a retry budget, the call deposits a first attempt and withdraws
/// before each retry.
///
/// Returns RESILIENCE_OK when an attempt succeeded; RESILIENCE_ERR_TIMEOUT
/// when it gave up on the deadline (reason RESILIENCE_GIVE_UP_DEADLINE);
/// RESILIENCE_ERR_OPERATION_FAILED when it gave up otherwise (attempts
/// exhausted, a fatal code, the budget); in these cases `*outcome_out` is
/// written. On any other status nothing ran and nothing is written.
/// resilience_retry_execute_ex() adds a result predicate and events.
///
/// # Safety
/// Pointers are NULL or valid; the callbacks are safe to call with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_execute(
    policy: *const resilience_retry_policy_t,
    op: resilience_operation_fn,
    on_retry: resilience_on_retry_fn,
    user_data: *mut c_void,
    time: *const resilience_time_source_t,
    outcome_out: *mut resilience_retry_outcome_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let p = unsafe { borrow(policy, "policy") }?;
        let op = op.ok_or_else(|| Failure::null("op"))?;
        let out = check_out(outcome_out, "outcome_out")?;
        // SAFETY: the caller's promise (`time` NULL or valid for the call).
        let time = unsafe { TimeRef::from_ptr(time) };
        // SAFETY: the callbacks are the caller's, valid with `user_data`.
        unsafe { run_plain::<EXECUTE>(&p.policy, op, user_data, on_retry, time, out) }
    })
}

/// As resilience_retry_execute(), with what `call` adds: a result predicate
/// (`classify_result`: a value judged a failure is retried like a retryable
/// failure, with its own Retry-After hint; when the sequence gives up on a
/// value, the call returns RESILIENCE_OK — the value is the answer — and
/// the outcome's reason says why it gave up) and an event callback
/// (`on_event`). `call` is read once, at the start.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT for `policy`, `call`, `call->op` or
/// `outcome_out` (nothing runs); otherwise as resilience_retry_execute().
///
/// # Safety
/// Pointers are NULL or valid; the callbacks are safe to call with
/// `call->user_data`.
#[no_mangle]
pub unsafe extern "C" fn resilience_retry_execute_ex(
    policy: *const resilience_retry_policy_t,
    call: *const resilience_retry_call_t,
    outcome_out: *mut resilience_retry_outcome_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let p = unsafe { borrow(policy, "policy") }?;
        // SAFETY: the caller's promise.
        let c = unsafe { borrow(call, "call") }?;
        let op = c.op.ok_or_else(|| Failure::null("call->op"))?;
        let out = check_out(outcome_out, "outcome_out")?;
        let time = TimeRef(&c.time);
        // SAFETY: the callbacks are the caller's, valid with `user_data`.
        unsafe {
            match (c.classify_result, c.on_event) {
                // Neither: the plain loop, at the plain loop's cost.
                (None, None) => run_plain::<EXECUTE_EX>(&p.policy, op, c.user_data, c.on_retry, time, out),
                (Some(classify), on_event) => {
                    let judge = Judge {
                        classify,
                        user_data: c.user_data,
                        hint: 0,
                    };
                    run_judged(&p.policy, op, c.user_data, c.on_retry, on_event, time, judge, out)
                }
                (None, on_event) => run_judged(&p.policy, op, c.user_data, c.on_retry, on_event, time, AcceptAll, out),
            }
        }
    })
}

type Operation = unsafe extern "C" fn(user_data: *mut c_void, attempt: u32) -> c_int;

/// The C result predicate as core's: the value is the attempt number
/// (the C code keeps the value itself).
struct Judge {
    classify: unsafe extern "C" fn(*mut c_void, u32, *mut u64) -> resilience_predicate_outcome_t,
    user_data: *mut c_void,
    hint: u64,
}

impl ResultPredicate<u32> for Judge {
    fn is_failure(&mut self, attempt: &u32) -> bool {
        self.hint = 0;
        // SAFETY: the caller's callback, valid with its user_data; `hint` lives for the call.
        let answer = unsafe { (self.classify)(self.user_data, *attempt, &mut self.hint) };
        // Rule `result_predicate`: a predicate that failed accepts the value
        // (a value that is no RESILIENCE_PREDICATE_* is a predicate that
        // did not answer).
        outcome_from_c(answer).unwrap_or(PredicateOutcome::Failed).retryable()
    }

    fn retry_after(&mut self, _: &u32) -> Option<Duration> {
        (self.hint != 0).then(|| Duration::from_nanos(self.hint))
    }
}

/// Which entry point runs [`run_plain`]: each gets its own copy of the loop
/// (its own closure types), so the compiler inlines the whole loop into
/// each rather than sharing one out-of-line copy (measured: 51 instructions
/// per successful call inlined, 101 shared).
const EXECUTE: u8 = 0;
const EXECUTE_EX: u8 = 1;

/// The loop without a result predicate or a listener (resilience_retry_execute,
/// and execute_ex without either): the error filter is the code's sign, the
/// deadline reads `time`'s clock only when the policy has one.
///
/// # Safety
/// The callbacks are safe to call with `user_data`.
#[inline(always)]
unsafe fn run_plain<const SITE: u8>(
    policy: &RetryPolicy,
    op: Operation,
    user_data: *mut c_void,
    on_retry: resilience_on_retry_fn,
    time: TimeRef<'_>,
    out: OutParam<resilience_retry_outcome_t>,
) -> Result<resilience_status_t, Failure> {
    let mut attempts = 0u32;
    let mut last_code = RESILIENCE_OP_SUCCESS;
    let mut total_delay = 0u64;
    let result = Retry::new(policy, time)
        .clock(time)
        .retry_if(|code: &c_int| *code > 0)
        .on_retry(|attempt, code: &c_int, delay: Duration| {
            let delay_ns = nanos(delay);
            total_delay = total_delay.saturating_add(delay_ns);
            if let Some(hook) = on_retry {
                // SAFETY: the caller's promise about the callback.
                unsafe { hook(user_data, attempt, *code, delay_ns) };
            }
        })
        .call(|attempt| {
            attempts = attempt;
            // SAFETY: the caller's promise about the callback.
            last_code = unsafe { op(user_data, attempt) };
            if last_code == RESILIENCE_OP_SUCCESS {
                Ok(())
            } else {
                Err(last_code)
            }
        });
    let reason = match &result {
        Ok(()) => RESILIENCE_GIVE_UP_NONE,
        Err(e) => reason_to_c(e.reason),
    };
    // SAFETY: checked out-param.
    unsafe {
        out.set(resilience_retry_outcome_t {
            attempts,
            last_code,
            reason,
            total_delay_ns: total_delay,
        })
    };
    match result {
        Ok(()) => Ok(resilience_status_t::RESILIENCE_OK),
        Err(e) => Err(gave_up_failure(&e)),
    }
}

/// The loop with a result predicate (the value is the attempt number: the C
/// code keeps the value) and/or an event callback. The outcome's waits and
/// reason come from the events, which only failures produce.
///
/// # Safety
/// The callbacks are safe to call with `user_data`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_judged<R: ResultPredicate<u32>>(
    policy: &RetryPolicy,
    op: Operation,
    user_data: *mut c_void,
    on_retry: resilience_on_retry_fn,
    on_event: resilience_event_fn,
    time: TimeRef<'_>,
    judge: R,
    out: OutParam<resilience_retry_outcome_t>,
) -> Result<resilience_status_t, Failure> {
    let attempts = Cell::new(0u32);
    let last_code = Cell::new(RESILIENCE_OP_SUCCESS);
    let total_delay = Cell::new(0u64);
    let gave_up = Cell::new(None::<GiveUpReason>);
    let listener = |e: &Event<'_, u32, c_int>| {
        match *e {
            Event::RetryScheduled { delay, .. } => total_delay.set(total_delay.get().saturating_add(nanos(delay))),
            Event::GaveUp { reason, .. } => gave_up.set(Some(reason)),
            _ => {}
        }
        if let Some(event) = retry_event(e, last_code.get()) {
            // SAFETY: the caller's callback (if any), valid with `user_data`.
            unsafe { emit(on_event, user_data, event) };
        }
    };
    let result = Retry::new(policy, time)
        .clock(time)
        .retry_if(|code: &c_int| *code > 0)
        .retry_on_result(judge)
        .on_retry(|attempt, code: &c_int, delay: Duration| {
            if let Some(hook) = on_retry {
                // SAFETY: the caller's promise about the callback.
                unsafe { hook(user_data, attempt, *code, nanos(delay)) };
            }
        })
        .on_event(listener)
        .call(|attempt| {
            attempts.set(attempt);
            // SAFETY: the caller's promise about the callback.
            let code = unsafe { op(user_data, attempt) };
            last_code.set(code);
            if code == RESILIENCE_OP_SUCCESS {
                Ok(attempt)
            } else {
                Err(code)
            }
        });
    let reason = match &result {
        Ok(_) => gave_up.get().map_or(RESILIENCE_GIVE_UP_NONE, reason_to_c),
        Err(e) => reason_to_c(e.reason),
    };
    // SAFETY: checked out-param.
    unsafe {
        out.set(resilience_retry_outcome_t {
            attempts: attempts.get(),
            last_code: last_code.get(),
            reason,
            total_delay_ns: total_delay.get(),
        })
    };
    match result {
        Ok(_) => Ok(resilience_status_t::RESILIENCE_OK),
        Err(e) => Err(gave_up_failure(&e)),
    }
}

#[cold]
#[inline(never)]
fn gave_up_failure(e: &RetryError<c_int>) -> Failure {
    let status = if e.reason == GiveUpReason::Deadline {
        resilience_status_t::RESILIENCE_ERR_TIMEOUT
    } else {
        resilience_status_t::RESILIENCE_ERR_OPERATION_FAILED
    };
    Failure::new(
        status,
        format!(
            "the operation failed: gave up after {} attempt(s) ({}), last code {}",
            e.attempts,
            e.reason.as_str(),
            e.error
        ),
    )
}
