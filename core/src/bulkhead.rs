//! The bulkhead: a bounded number of concurrent calls and a bounded FIFO
//! queue of waiters. Sans-IO: bindings do the waiting (condition variables,
//! promises, asyncio futures); this decides who holds a slot.
//!
//! Every held slot and every queued ticket is a unique number checked when
//! it comes back, so releasing twice, releasing another bulkhead's slot or
//! cancelling an unknown ticket is refused and changes nothing.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::ConfigError;
use crate::rules;
use crate::value::Value;

/// Default `max_concurrent` (the original's).
pub const DEFAULT_MAX_CONCURRENT: u32 = 10;
/// Default `max_queue_size`.
pub const DEFAULT_MAX_QUEUE_SIZE: u32 = 100;
/// Default wait timeout: 30 s.
pub const DEFAULT_BULKHEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A validated bulkhead configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BulkheadConfig {
    max_concurrent: u32,
    max_queue_size: u32,
    timeout: Duration,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        Self {
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            timeout: DEFAULT_BULKHEAD_TIMEOUT,
        }
    }
}

impl BulkheadConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> BulkheadConfigBuilder {
        BulkheadConfigBuilder(Self::default())
    }
    /// Slots.
    pub fn max_concurrent(&self) -> u32 {
        self.max_concurrent
    }
    /// Waiters allowed in the queue.
    pub fn max_queue_size(&self) -> u32 {
        self.max_queue_size
    }
    /// How long a waiter waits before giving up.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Builds a [`BulkheadConfig`]; [`build`](BulkheadConfigBuilder::build) validates.
#[derive(Debug, Clone, Copy)]
pub struct BulkheadConfigBuilder(BulkheadConfig);

impl BulkheadConfigBuilder {
    /// Slots; must be >= 1.
    pub fn max_concurrent(mut self, n: u32) -> Self {
        self.0.max_concurrent = n;
        self
    }
    /// Waiters allowed in the queue (0: never queue).
    pub fn max_queue_size(mut self, n: u32) -> Self {
        self.0.max_queue_size = n;
        self
    }
    /// How long a waiter waits; at most [`rules::MAX_DURATION`].
    pub fn timeout(mut self, d: Duration) -> Self {
        self.0.timeout = d;
        self
    }
    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] when `max_concurrent` is zero or `timeout` is beyond
    /// [`rules::MAX_DURATION`].
    pub fn build(self) -> Result<BulkheadConfig, ConfigError> {
        Ok(BulkheadConfig {
            max_concurrent: rules::count_of("max_concurrent", Value::from(self.0.max_concurrent))?,
            max_queue_size: rules::count_of("max_queue_size", Value::from(self.0.max_queue_size))?,
            timeout: rules::bounded_duration("timeout", self.0.timeout)?,
        })
    }
}

/// A held slot. Give it back with [`Bulkhead::release`], once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot(u64);

/// A queued waiter. When a release hands it the slot, the waiter holds the
/// slot [`Ticket::slot`] of the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(u64);

macro_rules! raw_handle {
    ($t:ident) => {
        impl $t {
            /// The handle as 64 bits (for FFI callers).
            pub fn to_raw(&self) -> u64 {
                self.0
            }
            /// A handle from [`to_raw`](Self::to_raw); a value the bulkhead
            /// did not issue is refused with [`SlotMisuse`].
            pub fn from_raw(raw: u64) -> Self {
                Self(raw)
            }
        }
    };
}
raw_handle!(Slot);
raw_handle!(Ticket);

impl Ticket {
    /// The slot this waiter holds once a release granted it.
    pub fn slot(&self) -> Slot {
        Slot(self.0)
    }
}

/// The answer to an acquire.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A slot is yours; call [`Bulkhead::release`] with it when done.
    Acquired(Slot),
    /// Wait until [`Bulkhead::release`] hands you the slot (it returns your
    /// ticket), or until the timeout, then call [`Bulkhead::cancel`].
    Queued(Ticket),
    /// The queue is full: fail at once.
    QueueFull,
}

/// What became of a waiter that gave up.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was still waiting and has left the queue.
    Withdrawn,
    /// A release handed it the slot first: it now holds this slot and must
    /// use it or release it. This is how no slot is ever leaked.
    AlreadyGranted(Slot),
}

/// A slot or ticket came back that the bulkhead cannot accept. Nothing changed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotMisuse {
    /// It was issued by another bulkhead.
    OtherBulkhead,
    /// The slot is not held (released already, or never issued), or the
    /// ticket is neither queued nor holding a slot.
    NotHeld,
}

impl fmt::Display for SlotMisuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OtherBulkhead => "the slot or ticket was issued by another bulkhead",
            Self::NotHeld => {
                "the slot or ticket is not held or queued (released or cancelled already, or never issued)"
            }
        })
    }
}

impl std::error::Error for SlotMisuse {}

/// A snapshot of a bulkhead's occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadStats {
    /// Slots in use.
    pub active: u32,
    /// Waiters in the queue.
    pub queued: u32,
}

// A handle: the bulkhead's tag in the top bits, a serial below.
const TAG_SHIFT: u32 = 64 - crate::handle_tag::TAG_BITS;

#[derive(Debug)]
struct Slots {
    holders: HashSet<u64>,
    queue: VecDeque<u64>,
    next_serial: u64,
}

/// Slots and a FIFO queue.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{Admission, Bulkhead, BulkheadConfig, SlotMisuse};
/// let config = BulkheadConfig::builder().max_concurrent(1).max_queue_size(1).build()?;
/// let bulkhead = Bulkhead::new(config);
/// let Admission::Acquired(slot) = bulkhead.try_acquire() else { panic!() };
/// let Admission::Queued(ticket) = bulkhead.try_acquire() else { panic!() };
/// assert_eq!(bulkhead.try_acquire(), Admission::QueueFull);
/// assert_eq!(bulkhead.release(slot), Ok(Some(ticket))); // the slot passes to the waiter
/// assert_eq!(bulkhead.release(slot), Err(SlotMisuse::NotHeld)); // not twice
/// assert_eq!(bulkhead.release(ticket.slot()), Ok(None));
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Bulkhead {
    config: BulkheadConfig,
    tag: u64,
    slots: Mutex<Slots>,
}

impl Bulkhead {
    /// An empty bulkhead.
    pub fn new(config: BulkheadConfig) -> Self {
        Self {
            config,
            tag: crate::handle_tag::next_tag(),
            slots: Mutex::new(Slots {
                holders: HashSet::new(),
                queue: VecDeque::new(),
                next_serial: 0,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BulkheadConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_tag(&self, raw: u64) -> Result<(), SlotMisuse> {
        if raw >> TAG_SHIFT == self.tag {
            Ok(())
        } else {
            Err(SlotMisuse::OtherBulkhead)
        }
    }

    /// Takes a free slot, joins the queue, or reports the queue full.
    pub fn try_acquire(&self) -> Admission {
        let mut s = self.lock();
        let full = s.holders.len() >= self.config.max_concurrent as usize;
        if full && s.queue.len() >= self.config.max_queue_size as usize {
            return Admission::QueueFull;
        }
        // 2^44 handles per bulkhead before the serial wraps into the tag's bits.
        let handle = (self.tag << TAG_SHIFT) | (s.next_serial & ((1 << TAG_SHIFT) - 1));
        s.next_serial = s.next_serial.wrapping_add(1);
        if full {
            s.queue.push_back(handle);
            Admission::Queued(Ticket(handle))
        } else {
            s.holders.insert(handle);
            Admission::Acquired(Slot(handle))
        }
    }

    /// Gives `slot` back. If a waiter is queued, the slot passes straight to
    /// the first one and its ticket is returned so the binding can wake it.
    ///
    /// # Errors
    /// [`SlotMisuse`] for a slot not held (released twice, or never issued)
    /// or issued by another bulkhead; nothing changes then.
    pub fn release(&self, slot: Slot) -> Result<Option<Ticket>, SlotMisuse> {
        self.check_tag(slot.0)?;
        let mut s = self.lock();
        if !s.holders.remove(&slot.0) {
            return Err(SlotMisuse::NotHeld);
        }
        Ok(s.queue.pop_front().map(|next| {
            s.holders.insert(next);
            Ticket(next)
        }))
    }

    /// A waiter gave up (timeout, cancellation).
    ///
    /// # Errors
    /// [`SlotMisuse`] for a ticket that is neither queued nor holding a
    /// slot, or of another bulkhead; nothing changes then.
    pub fn cancel(&self, ticket: Ticket) -> Result<CancelOutcome, SlotMisuse> {
        self.check_tag(ticket.0)?;
        let mut s = self.lock();
        match s.queue.iter().position(|&t| t == ticket.0) {
            Some(i) => {
                s.queue.remove(i);
                Ok(CancelOutcome::Withdrawn)
            }
            None if s.holders.contains(&ticket.0) => Ok(CancelOutcome::AlreadyGranted(ticket.slot())),
            None => Err(SlotMisuse::NotHeld),
        }
    }

    /// Current occupancy.
    pub fn stats(&self) -> BulkheadStats {
        let s = self.lock();
        BulkheadStats {
            active: u32::try_from(s.holders.len()).unwrap_or(u32::MAX),
            queued: u32::try_from(s.queue.len()).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulkhead(max_concurrent: u32, max_queue_size: u32) -> Bulkhead {
        let config = BulkheadConfig::builder()
            .max_concurrent(max_concurrent)
            .max_queue_size(max_queue_size)
            .build()
            .unwrap();
        Bulkhead::new(config)
    }

    /// The slot an admission must carry.
    fn slot(admission: Admission) -> Slot {
        match admission {
            Admission::Acquired(slot) => slot,
            other => panic!("expected a slot, got {other:?}"), // coverage: unreachable — only when the test fails
        }
    }

    /// The ticket an admission must carry.
    fn ticket(admission: Admission) -> Ticket {
        match admission {
            Admission::Queued(ticket) => ticket,
            other => panic!("expected a ticket, got {other:?}"), // coverage: unreachable — only when the test fails
        }
    }

    #[test]
    fn a_double_release_frees_nothing() {
        let b = bulkhead(2, 0);
        let first = slot(b.try_acquire());
        let _second = slot(b.try_acquire());
        assert_eq!(b.release(first), Ok(None));
        assert_eq!(b.release(first), Err(SlotMisuse::NotHeld));
        assert_eq!(b.stats().active, 1);
        let _ = slot(b.try_acquire());
        assert_eq!(b.try_acquire(), Admission::QueueFull, "only two real holders");
    }

    #[test]
    fn foreign_and_forged_handles_are_refused() {
        let (a, other) = (bulkhead(1, 1), bulkhead(1, 1));
        let slot = slot(a.try_acquire());
        let ticket = ticket(a.try_acquire());
        assert_eq!(other.release(slot), Err(SlotMisuse::OtherBulkhead));
        assert_eq!(other.cancel(ticket), Err(SlotMisuse::OtherBulkhead));
        assert_eq!(a.release(Slot::from_raw(0)), Err(SlotMisuse::OtherBulkhead));
        assert_eq!(a.cancel(Ticket::from_raw(slot.to_raw() + 7)), Err(SlotMisuse::NotHeld));
        assert_eq!(a.stats(), BulkheadStats { active: 1, queued: 1 });
    }

    #[test]
    fn a_granted_waiter_that_cancels_holds_the_slot() {
        let b = bulkhead(1, 1);
        let slot = slot(b.try_acquire());
        let ticket = ticket(b.try_acquire());
        assert_eq!(b.release(slot), Ok(Some(ticket)));
        assert_eq!(b.cancel(ticket), Ok(CancelOutcome::AlreadyGranted(ticket.slot())));
        assert_eq!(b.release(ticket.slot()), Ok(None));
        assert_eq!(b.cancel(ticket), Err(SlotMisuse::NotHeld));
        assert_eq!(b.stats(), BulkheadStats { active: 0, queued: 0 });
    }

    #[test]
    fn a_withdrawn_waiter_leaves_the_queue() {
        let b = bulkhead(1, 2);
        let slot = slot(b.try_acquire());
        let first = ticket(b.try_acquire());
        let second = ticket(b.try_acquire());
        assert_eq!(b.cancel(first), Ok(CancelOutcome::Withdrawn));
        assert_eq!(b.release(slot), Ok(Some(second)));
    }

    #[test]
    fn the_builder_validates() {
        let err = BulkheadConfig::builder().max_concurrent(0).build().unwrap_err();
        assert_eq!(err.parameter(), "max_concurrent");
        assert_eq!(BulkheadConfig::builder().build(), Ok(BulkheadConfig::default()));
    }
}
