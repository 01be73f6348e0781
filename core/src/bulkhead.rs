//! The bulkhead: a bounded number of concurrent calls and a bounded FIFO
//! queue of waiters. Sans-IO: bindings do the waiting (condition variables,
//! promises, asyncio futures); this decides who holds a slot.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::{ConfigError, COUNT_AT_LEAST_ONE};

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
    /// Validates a configuration.
    ///
    /// # Errors
    /// [`ConfigError`] when `max_concurrent` is zero.
    pub fn new(max_concurrent: u32, max_queue_size: u32, timeout: Duration) -> Result<Self, ConfigError> {
        if max_concurrent < 1 {
            return Err(ConfigError::new("max_concurrent", COUNT_AT_LEAST_ONE, max_concurrent));
        }
        Ok(Self {
            max_concurrent,
            max_queue_size,
            timeout,
        })
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

/// Identifies one queued waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(pub u64);

/// The answer to an acquire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A slot is yours; call [`Bulkhead::release`] when done.
    Acquired,
    /// Wait until [`Bulkhead::release`] hands you the slot (it returns your
    /// ticket), or until the timeout, then call [`Bulkhead::cancel`].
    Queued(Ticket),
    /// The queue is full: fail at once.
    QueueFull,
}

/// What became of a waiter that gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was still waiting and has left the queue.
    Withdrawn,
    /// A release handed it the slot first: it now holds the slot and must
    /// use it or release it. This is how no slot is ever leaked.
    AlreadyGranted,
}

/// A snapshot of a bulkhead's occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadStats {
    /// Slots in use.
    pub active: u32,
    /// Waiters in the queue.
    pub queued: u32,
}

#[derive(Debug)]
struct Slots {
    active: u32,
    queue: VecDeque<Ticket>,
    next_ticket: u64,
}

/// Slots and a FIFO queue.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{Admission, Bulkhead, BulkheadConfig, Ticket};
/// let bulkhead = Bulkhead::new(BulkheadConfig::new(1, 1, Duration::from_secs(1))?);
/// assert_eq!(bulkhead.try_acquire(), Admission::Acquired);
/// let Admission::Queued(ticket) = bulkhead.try_acquire() else { panic!() };
/// assert_eq!(bulkhead.try_acquire(), Admission::QueueFull);
/// assert_eq!(bulkhead.release(), Some(ticket)); // the slot passes to the waiter
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Bulkhead {
    config: BulkheadConfig,
    slots: Mutex<Slots>,
}

impl Bulkhead {
    /// An empty bulkhead.
    pub fn new(config: BulkheadConfig) -> Self {
        Self {
            config,
            slots: Mutex::new(Slots {
                active: 0,
                queue: VecDeque::new(),
                next_ticket: 0,
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

    /// Takes a free slot, joins the queue, or reports the queue full.
    pub fn try_acquire(&self) -> Admission {
        let mut s = self.lock();
        if s.active < self.config.max_concurrent {
            s.active = s.active.saturating_add(1);
            return Admission::Acquired;
        }
        if s.queue.len() >= self.config.max_queue_size as usize {
            return Admission::QueueFull;
        }
        let ticket = Ticket(s.next_ticket);
        s.next_ticket = s.next_ticket.wrapping_add(1);
        s.queue.push_back(ticket);
        Admission::Queued(ticket)
    }

    /// Gives a slot back. If a waiter is queued, the slot passes straight to
    /// the first one and its ticket is returned so the binding can wake it.
    /// A release with no slot held is ignored.
    pub fn release(&self) -> Option<Ticket> {
        let mut s = self.lock();
        if let Some(next) = s.queue.pop_front() {
            // The slot changes hands; `active` stays the same (if nothing was
            // held, the waiter still gets a slot that is free).
            if s.active == 0 {
                s.active = 1;
            }
            return Some(next);
        }
        s.active = s.active.saturating_sub(1);
        None
    }

    /// A waiter gave up (timeout, cancellation).
    pub fn cancel(&self, ticket: Ticket) -> CancelOutcome {
        let mut s = self.lock();
        match s.queue.iter().position(|&t| t == ticket) {
            Some(i) => {
                s.queue.remove(i);
                CancelOutcome::Withdrawn
            }
            None => CancelOutcome::AlreadyGranted,
        }
    }

    /// Current occupancy.
    pub fn stats(&self) -> BulkheadStats {
        let s = self.lock();
        BulkheadStats {
            active: s.active,
            queued: u32::try_from(s.queue.len()).unwrap_or(u32::MAX),
        }
    }
}
