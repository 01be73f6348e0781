//! Bucketed time windows of atomic counters, shared by the retry budget and
//! the adaptive throttle.
//!
//! Time is cut into *epochs* of a fixed width; a window is the current epoch
//! and the `len - 1` before it. Each bucket is one `AtomicU64` holding the
//! epoch it counts (its *tag*, 40 bits) and its count (24 bits), so adding
//! to a bucket and rotating it (resetting a bucket whose tag has left the
//! window) are one compare-and-swap: a rotation never loses a count that
//! belongs in the window, and never counts one twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::time::nanos_u64;

const COUNT_BITS: u32 = 24;
/// The largest count a bucket holds; adding beyond it saturates.
pub(crate) const COUNT_MAX: u64 = (1 << COUNT_BITS) - 1;
/// The largest epoch; readings beyond it stay in it. With epochs of at
/// least 100 ms (every window here is at least 1 s in 10 buckets) that is
/// more than 3,000 years, beyond any clock reading (584 years).
pub(crate) const EPOCH_MAX: u64 = (1 << (64 - COUNT_BITS)) - 1;

pub(crate) fn pack(tag: u64, count: u64) -> u64 {
    (tag.min(EPOCH_MAX) << COUNT_BITS) | count.min(COUNT_MAX)
}

pub(crate) fn unpack(word: u64) -> (u64, u64) {
    (word >> COUNT_BITS, word & COUNT_MAX)
}

/// Cuts time into epochs of `width` (at least 1 ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Epochs {
    width_ns: u64,
}

impl Epochs {
    /// `window` split into `buckets` epochs (the width rounds down, at least 1 ns).
    pub(crate) fn new(window: Duration, buckets: u32) -> Self {
        let ns = nanos_u64(window);
        Self {
            width_ns: ns.checked_div(u64::from(buckets)).unwrap_or(ns).max(1),
        }
    }

    /// The epoch of a clock reading.
    #[inline]
    pub(crate) fn of(&self, now: Duration) -> u64 {
        let ns = nanos_u64(now);
        ns.checked_div(self.width_ns).unwrap_or(0).min(EPOCH_MAX)
    }

    /// Time from `now` until the next epoch starts.
    pub(crate) fn until_next(&self, now: Duration) -> Duration {
        let ns = nanos_u64(now);
        let into = ns.checked_rem(self.width_ns).unwrap_or(0);
        Duration::from_nanos(self.width_ns.saturating_sub(into))
    }
}

/// What to do with a count whose epoch is older than the bucket's tag (a
/// thread that read the clock, then was descheduled for a whole window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Late {
    /// Drop it (the retry budget: a lost deposit only makes it stricter).
    Drop,
    /// Count it in the newer bucket (the throttle: never lose a request).
    CountInNewer,
}

/// `len` buckets; bucket `i` counts the epochs `e` with `e % len == i`.
#[derive(Debug)]
pub(crate) struct Buckets {
    slots: Box<[AtomicU64]>,
}

impl Buckets {
    pub(crate) fn new(len: u32) -> Self {
        Self {
            slots: (0..len.max(1)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// `epoch`'s bucket (always `Some`: the index is a remainder by the length).
    fn slot(&self, epoch: u64) -> Option<&AtomicU64> {
        let len = self.slots.len() as u64;
        let i = usize::try_from(epoch.checked_rem(len)?).ok()?;
        self.slots.get(i)
    }

    /// Adds one to `epoch`'s bucket, resetting the bucket first if it still
    /// counts an older epoch. Returns whether the count was kept.
    pub(crate) fn add(&self, epoch: u64, late: Late) -> bool {
        let Some(slot) = self.slot(epoch) else {
            return false; // coverage: unreachable — `slot` is a remainder by the (non-zero) number of buckets
        };
        let mut current = slot.load(Ordering::Acquire);
        loop {
            let (tag, count) = unpack(current);
            let next = if tag == epoch {
                pack(tag, count.saturating_add(1))
            } else if tag < epoch {
                pack(epoch, 1)
            } else {
                match late {
                    Late::Drop => return false,
                    Late::CountInNewer => pack(tag, count.saturating_add(1)),
                }
            };
            match slot.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return count < COUNT_MAX || tag < epoch,
                Err(seen) => current = seen, // coverage: race — another thread changed the bucket first
            }
        }
    }

    /// Raises `epoch`'s bucket to `count` unless it already counts more or
    /// a newer epoch (used to publish a closed epoch's final count).
    pub(crate) fn publish(&self, epoch: u64, count: u64) {
        if let Some(slot) = self.slot(epoch) {
            slot.fetch_max(pack(epoch, count), Ordering::AcqRel);
        }
    }

    /// The sum of the buckets whose epoch is in `oldest..=newest`, except
    /// `skip`.
    pub(crate) fn sum(&self, oldest: u64, newest: u64, skip: Option<u64>) -> u64 {
        self.slots
            .iter()
            .map(|slot| unpack(slot.load(Ordering::Acquire)))
            .filter(|&(tag, _)| tag >= oldest && tag <= newest && Some(tag) != skip)
            .map(|(_, count)| count)
            .fold(0, u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_rotates_in_one_step() {
        let b = Buckets::new(3);
        assert!(b.add(0, Late::Drop));
        assert!(b.add(0, Late::Drop));
        assert!(b.add(1, Late::Drop));
        assert_eq!(b.sum(0, 2, None), 3);
        // Epoch 3 reuses epoch 0's bucket: the two old counts leave the window.
        assert!(b.add(3, Late::Drop));
        assert_eq!(b.sum(1, 3, None), 2);
        assert_eq!(b.sum(1, 3, Some(3)), 1);
        // A late count for epoch 0 is dropped, or counted in epoch 3.
        assert!(!b.add(0, Late::Drop));
        assert!(b.add(0, Late::CountInNewer));
        assert_eq!(b.sum(3, 3, None), 2);
    }

    #[test]
    fn counts_saturate_and_publish_only_raises() {
        let b = Buckets::new(2);
        b.publish(4, COUNT_MAX);
        assert!(!b.add(4, Late::Drop), "a saturated bucket keeps nothing more");
        assert_eq!(b.sum(4, 4, None), COUNT_MAX);
        b.publish(4, 3);
        assert_eq!(b.sum(4, 4, None), COUNT_MAX);
        b.publish(2, 9);
        assert_eq!(
            b.sum(0, 9, None),
            COUNT_MAX,
            "an older epoch never replaces a newer one"
        );
    }

    #[test]
    fn epochs_clamp_and_count_down_to_the_next() {
        let e = Epochs::new(Duration::from_secs(10), 10);
        assert_eq!(e.of(Duration::from_millis(2_500)), 2);
        assert_eq!(e.until_next(Duration::from_millis(2_500)), Duration::from_millis(500));
        assert_eq!(e.of(Duration::MAX), EPOCH_MAX.min(u64::MAX / 1_000_000_000));
        assert_eq!(Epochs::new(Duration::ZERO, 10).of(Duration::from_nanos(5)), 5);
    }
}
