//! The bulkhead handle: slots and a FIFO queue; the caller does the waiting.
//! Every slot and ticket is a unique handle checked by core when it comes back.

use resilience_core::{
    Admission, Bulkhead, BulkheadConfig, CancelOutcome, Slot, SlotMisuse, Ticket, DEFAULT_BULKHEAD_TIMEOUT,
    DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE_SIZE,
};

use crate::boundary::{borrow, check_out, ffi_call, free_handle, hand_out, nanos, signed_nanos};
use crate::config::{count, duration_ns};
use crate::status::{resilience_status_t, Failure};
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

/// A slot held in a bulkhead: the right to run one call. Give it back once,
/// with resilience_bulkhead_release(), to the bulkhead that issued it. A
/// plain value: copy it freely, no freeing needed.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_slot_t {
    /// Opaque (the bulkhead's 64-bit handle); pass it back unchanged. 0 is
    /// never a valid slot.
    pub id: u64,
}

/// A place in a bulkhead's queue. When a release hands the waiter a slot,
/// the waiter holds resilience_bulkhead_ticket_slot(ticket). A plain value.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_ticket_t {
    /// Opaque (the bulkhead's 64-bit handle); pass it back unchanged. 0 is
    /// never a valid ticket.
    pub id: u64,
}

const NO_SLOT: resilience_bulkhead_slot_t = resilience_bulkhead_slot_t { id: 0 };
const NO_TICKET: resilience_bulkhead_ticket_t = resilience_bulkhead_ticket_t { id: 0 };

fn slot_to_c(slot: Slot) -> resilience_bulkhead_slot_t {
    resilience_bulkhead_slot_t { id: slot.to_raw() }
}

fn ticket_to_c(ticket: Ticket) -> resilience_bulkhead_ticket_t {
    resilience_bulkhead_ticket_t { id: ticket.to_raw() }
}

/// How an acquire was answered: one of the `RESILIENCE_ADMISSION_*` values.
#[allow(non_camel_case_types)]
pub type resilience_admission_t = u32;
/// A slot is yours: run the call, then give the slot back with
/// resilience_bulkhead_release().
pub const RESILIENCE_ADMISSION_ACQUIRED: resilience_admission_t = 0;
/// You are queued with a ticket: wait until a release hands you a slot (it
/// reports your ticket), or until your timeout, then cancel.
pub const RESILIENCE_ADMISSION_QUEUED: resilience_admission_t = 1;

/// The answer to resilience_bulkhead_try_acquire().
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_admission_t {
    /// RESILIENCE_ADMISSION_ACQUIRED or RESILIENCE_ADMISSION_QUEUED.
    pub admission: resilience_admission_t,
    /// ACQUIRED: the slot you hold. QUEUED: {0}.
    pub slot: resilience_bulkhead_slot_t,
    /// QUEUED: your ticket. ACQUIRED: {0}.
    pub ticket: resilience_bulkhead_ticket_t,
}

/// What a release did with the slot.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_handoff_t {
    /// True when the slot passed straight to the first waiter: wake the
    /// holder of `ticket` (it now holds resilience_bulkhead_ticket_slot(ticket)).
    /// False: the slot is free again.
    pub granted: bool,
    /// The waiter's ticket when `granted`, else {0}.
    pub ticket: resilience_bulkhead_ticket_t,
}

/// What became of a waiter that gave up: one of the `RESILIENCE_CANCEL_*` values.
#[allow(non_camel_case_types)]
pub type resilience_cancel_outcome_t = u32;
/// It was still waiting and has left the queue.
pub const RESILIENCE_CANCEL_WITHDRAWN: resilience_cancel_outcome_t = 0;
/// A release handed it a slot first: it holds that slot now and must use
/// or release it (this is how no slot is ever leaked).
pub const RESILIENCE_CANCEL_ALREADY_GRANTED: resilience_cancel_outcome_t = 1;

/// The answer to resilience_bulkhead_cancel().
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct resilience_bulkhead_cancellation_t {
    /// RESILIENCE_CANCEL_WITHDRAWN or RESILIENCE_CANCEL_ALREADY_GRANTED.
    pub outcome: resilience_cancel_outcome_t,
    /// ALREADY_GRANTED: the slot the waiter now holds (release it once).
    /// WITHDRAWN: {0}.
    pub slot: resilience_bulkhead_slot_t,
}

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
/// blocks or schedules). One bulkhead may be shared by many threads: at no
/// moment do more than max_concurrent slots exist, whatever the callers do
/// with their handles.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct resilience_bulkhead_t {
    bulkhead: Bulkhead,
}

/// Validates `config` and creates an empty bulkhead in `*bulkhead_out`.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_INVALID_CONFIG for
/// max_concurrent outside 1..=4294967295, max_queue_size outside
/// 0..=4294967295 or a negative timeout_ns (see resilience_last_error_kind()).
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
        let config = BulkheadConfig::builder()
            .max_concurrent(count("max_concurrent", c.max_concurrent)?)
            .max_queue_size(count("max_queue_size", c.max_queue_size)?)
            .timeout(duration_ns("timeout", c.timeout_ns)?)
            .build()?;
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

/// Takes a free slot or joins the queue (RESILIENCE_OK; `*admission_out`
/// says which, and carries the slot or the ticket). A full queue is
/// RESILIENCE_ERR_BULKHEAD_FULL and writes nothing.
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
        let admission = match b.bulkhead.try_acquire() {
            Admission::Acquired(slot) => resilience_bulkhead_admission_t {
                admission: RESILIENCE_ADMISSION_ACQUIRED,
                slot: slot_to_c(slot),
                ticket: NO_TICKET,
            },
            Admission::Queued(ticket) => resilience_bulkhead_admission_t {
                admission: RESILIENCE_ADMISSION_QUEUED,
                slot: NO_SLOT,
                ticket: ticket_to_c(ticket),
            },
            // `QueueFull`, and any answer a later core may add: no slot, no ticket.
            _ => return Ok(resilience_status_t::RESILIENCE_ERR_BULKHEAD_FULL),
        };
        // SAFETY: checked out-param.
        unsafe { out.write(admission) }
    })
}

/// Gives `slot` back. If a waiter is queued the slot passes straight to it:
/// `handoff_out->granted` is true and `ticket` names the waiter to wake.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_PERMIT_MISUSE for a
/// slot that is not held (released already, never issued, or issued by
/// another bulkhead): nothing changes then, so a slot released twice never
/// lets an extra caller in.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_release(
    bulkhead: *const resilience_bulkhead_t,
    slot: resilience_bulkhead_slot_t,
    handoff_out: *mut resilience_bulkhead_handoff_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(bulkhead, "bulkhead") }?;
        let out = check_out(handoff_out, "handoff_out")?;
        let handoff = match b.bulkhead.release(Slot::from_raw(slot.id)) {
            Ok(Some(ticket)) => resilience_bulkhead_handoff_t {
                granted: true,
                ticket: ticket_to_c(ticket),
            },
            Ok(None) => resilience_bulkhead_handoff_t {
                granted: false,
                ticket: NO_TICKET,
            },
            Err(misuse) => return Err(slot_misuse(misuse)),
        };
        // SAFETY: checked out-param.
        unsafe { out.write(handoff) }
    })
}

#[cold]
fn slot_misuse(misuse: SlotMisuse) -> Failure {
    Failure::misuse(misuse)
}

/// A queued waiter gives up (its timeout passed). RESILIENCE_CANCEL_WITHDRAWN:
/// it left the queue. RESILIENCE_CANCEL_ALREADY_GRANTED: a release gave it
/// a slot first (`cancellation_out->slot`); it must now use or release it.
///
/// Errors: RESILIENCE_ERR_NULL_ARGUMENT; RESILIENCE_ERR_PERMIT_MISUSE for a
/// ticket that is neither queued nor holding a slot (cancelled already,
/// released already, never issued, or issued by another bulkhead): nothing
/// changes then.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_cancel(
    bulkhead: *const resilience_bulkhead_t,
    ticket: resilience_bulkhead_ticket_t,
    cancellation_out: *mut resilience_bulkhead_cancellation_t,
) -> resilience_status_t {
    ffi_call(|| {
        // SAFETY: the caller's promise.
        let b = unsafe { borrow(bulkhead, "bulkhead") }?;
        let out = check_out(cancellation_out, "cancellation_out")?;
        let cancellation = match b.bulkhead.cancel(Ticket::from_raw(ticket.id)) {
            Ok(CancelOutcome::AlreadyGranted(slot)) => resilience_bulkhead_cancellation_t {
                outcome: RESILIENCE_CANCEL_ALREADY_GRANTED,
                slot: slot_to_c(slot),
            },
            // `Withdrawn`, and any outcome a later core may add that holds no slot.
            Ok(_) => resilience_bulkhead_cancellation_t {
                outcome: RESILIENCE_CANCEL_WITHDRAWN,
                slot: NO_SLOT,
            },
            Err(misuse) => return Err(slot_misuse(misuse)),
        };
        // SAFETY: checked out-param.
        unsafe { out.write(cancellation) }
    })
}

/// The slot a waiter holds once a release granted its ticket (the same
/// handle: core turns a granted ticket into its slot). Pure: it does not
/// check that the grant happened; resilience_bulkhead_release() does, when
/// the slot comes back.
///
/// # Safety
/// `slot_out` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn resilience_bulkhead_ticket_slot(
    ticket: resilience_bulkhead_ticket_t,
    slot_out: *mut resilience_bulkhead_slot_t,
) -> resilience_status_t {
    ffi_call(|| {
        let out = check_out(slot_out, "slot_out")?;
        // SAFETY: checked out-param.
        unsafe { out.write(slot_to_c(Ticket::from_raw(ticket.id).slot())) }
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
