//! The bulkhead handle: slots and a FIFO queue; the caller does the waiting.

use resilience_core::{
    count_from_i64, duration_from_nanos_i64, Admission, Bulkhead, BulkheadConfig, CancelOutcome, Ticket,
    DEFAULT_BULKHEAD_TIMEOUT, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE_SIZE,
};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, nanos, signed_nanos};
use crate::status::resilience_status_t;

/// Configuration of a bulkhead. Start from resilience_bulkhead_config_default().
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_bulkhead_config_t {
    /// Slots (concurrent calls); 1..=4294967295 (default 10).
    pub max_concurrent: i64,
    /// Waiters allowed in the queue; 0..=4294967295 (default 100; 0: never queue).
    pub max_queue_size: i64,
    /// How long a waiter should wait before cancelling, ns; >= 0 (default 30 s).
    /// The bulkhead only stores it (resilience_bulkhead_timeout()): waiting
    /// is the caller's job.
    pub timeout_ns: i64,
}

/// The defaults: 10 slots, a queue of 100, 30 s timeout.
#[no_mangle]
pub extern "C" fn resilience_bulkhead_config_default() -> resilience_bulkhead_config_t {
    resilience_bulkhead_config_t {
        max_concurrent: i64::from(DEFAULT_MAX_CONCURRENT),
        max_queue_size: i64::from(DEFAULT_MAX_QUEUE_SIZE),
        timeout_ns: signed_nanos(DEFAULT_BULKHEAD_TIMEOUT),
    }
}

/// How an acquire was answered: one of the `RESILIENCE_ADMISSION_*` values.
#[allow(non_camel_case_types)]
pub type resilience_admission_t = u32;
/// A slot is yours: call resilience_bulkhead_release() when done.
pub const RESILIENCE_ADMISSION_ACQUIRED: resilience_admission_t = 0;
/// You are queued with a ticket: wait until a release hands you the slot
/// (it reports your ticket), or until your timeout, then cancel.
pub const RESILIENCE_ADMISSION_QUEUED: resilience_admission_t = 1;

/// The answer to resilience_bulkhead_try_acquire().
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_admission_t {
    /// RESILIENCE_ADMISSION_ACQUIRED or RESILIENCE_ADMISSION_QUEUED.
    pub admission: resilience_admission_t,
    /// QUEUED: your ticket. ACQUIRED: 0.
    pub ticket: u64,
}

/// What a release did with the slot.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_handoff_t {
    /// True when the slot passed straight to the first waiter: wake the
    /// holder of `ticket`. False: the slot is free again.
    pub granted: bool,
    /// The waiter's ticket when `granted`, else 0.
    pub ticket: u64,
}

/// What became of a waiter that gave up: one of the `RESILIENCE_CANCEL_*` values.
#[allow(non_camel_case_types)]
pub type resilience_cancel_outcome_t = u32;
/// It was still waiting and has left the queue.
pub const RESILIENCE_CANCEL_WITHDRAWN: resilience_cancel_outcome_t = 0;
/// A release handed it the slot first: it holds the slot now and must use
/// or release it (this is how no slot is ever leaked).
pub const RESILIENCE_CANCEL_ALREADY_GRANTED: resilience_cancel_outcome_t = 1;

/// Occupancy of a bulkhead.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_stats_t {
    /// Slots in use.
    pub active: u32,
    /// Waiters in the queue.
    pub queued: u32,
}

/// A thread-safe bulkhead (sans-IO: it decides who holds a slot; the caller
/// blocks or schedules).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_bulkhead_t {
    bulkhead: Bulkhead,
}

/// Validates `config` and creates an empty bulkhead in `*bulkhead_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for
/// max_concurrent < 1.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_new(
    config: *const resilience_bulkhead_config_t,
    bulkhead_out: *mut *mut resilience_bulkhead_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let c = unsafe { borrow(config, "config") }?;
        let out = check_out(bulkhead_out, "bulkhead_out")?;
        let config = BulkheadConfig::new(
            count_from_i64("max_concurrent", c.max_concurrent, 1)?,
            count_from_i64("max_queue_size", c.max_queue_size, 0)?,
            duration_from_nanos_i64("timeout", c.timeout_ns)?,
        )?;
        // SAFETY: checked out-param.
        unsafe {
            hand_out(
                out,
                resilience_bulkhead_t {
                    bulkhead: Bulkhead::new(config),
                },
            )
        }
    })
}

/// Frees a bulkhead. NULL is a no-op.
///
/// # Safety
/// `bulkhead` is NULL or from resilience_bulkhead_new(), not yet freed, and
/// no other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_free(bulkhead: *mut resilience_bulkhead_t) {
    // SAFETY: the caller's promise.
    let _ = ffi_call(|| unsafe {
        free_handle(bulkhead);
        Ok(resilience_status_t::RESILIENCE_OK)
    });
}

/// Takes a free slot or joins the queue (RESILIENCE_OK, `*admission_out`
/// says which). A full queue is RESILIENCE_ERR_BULKHEAD_FULL and writes nothing.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_try_acquire(
    bulkhead: *const resilience_bulkhead_t,
    admission_out: *mut resilience_bulkhead_admission_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(bulkhead, "bulkhead") }?;
        let out = check_out(admission_out, "admission_out")?;
        let (admission, ticket) = match b.bulkhead.try_acquire() {
            Admission::Acquired => (RESILIENCE_ADMISSION_ACQUIRED, 0),
            Admission::Queued(Ticket(t)) => (RESILIENCE_ADMISSION_QUEUED, t),
            Admission::QueueFull => return Ok(resilience_status_t::RESILIENCE_ERR_BULKHEAD_FULL),
        };
        // SAFETY: checked out-param.
        unsafe { out.write(resilience_bulkhead_admission_t { admission, ticket }) }
    })
}

/// Gives a slot back. If a waiter is queued the slot passes straight to it:
/// `handoff_out->granted` is true and `ticket` names the waiter to wake.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_release(
    bulkhead: *const resilience_bulkhead_t,
    handoff_out: *mut resilience_bulkhead_handoff_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(bulkhead, "bulkhead") }?;
        let out = check_out(handoff_out, "handoff_out")?;
        let handoff = match b.bulkhead.release() {
            Some(Ticket(ticket)) => resilience_bulkhead_handoff_t { granted: true, ticket },
            None => resilience_bulkhead_handoff_t {
                granted: false,
                ticket: 0,
            },
        };
        // SAFETY: checked out-param.
        unsafe { out.write(handoff) }
    })
}

/// A queued waiter gives up (its timeout passed). RESILIENCE_CANCEL_WITHDRAWN:
/// it left the queue. RESILIENCE_CANCEL_ALREADY_GRANTED: a release gave it
/// the slot first; it must now use or release that slot. An unknown ticket
/// also reads ALREADY_GRANTED (it is not in the queue).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_cancel(
    bulkhead: *const resilience_bulkhead_t,
    ticket: u64,
    outcome_out: *mut resilience_cancel_outcome_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(bulkhead, "bulkhead") }?;
        let out = check_out(outcome_out, "outcome_out")?;
        let outcome = match b.bulkhead.cancel(Ticket(ticket)) {
            CancelOutcome::Withdrawn => RESILIENCE_CANCEL_WITHDRAWN,
            CancelOutcome::AlreadyGranted => RESILIENCE_CANCEL_ALREADY_GRANTED,
        };
        // SAFETY: checked out-param.
        unsafe { out.write(outcome) }
    })
}

/// Current occupancy.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_stats(
    bulkhead: *const resilience_bulkhead_t,
    stats_out: *mut resilience_bulkhead_stats_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(bulkhead, "bulkhead") }?;
        let out = check_out(stats_out, "stats_out")?;
        let s = b.bulkhead.stats();
        // SAFETY: checked out-param.
        unsafe {
            out.write(resilience_bulkhead_stats_t {
                active: s.active,
                queued: s.queued,
            })
        }
    })
}

/// The configured waiting timeout (ns).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_timeout(
    bulkhead: *const resilience_bulkhead_t,
    timeout_ns_out: *mut u64,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(bulkhead, "bulkhead") }?;
        let out = check_out(timeout_ns_out, "timeout_ns_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(nanos(b.bulkhead.config().timeout())) }
    })
}
