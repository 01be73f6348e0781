//! The failure-rate windows: the calls of the last `sampling_duration`
//! (time window) or the last `size` calls (count window), counted without a
//! lock and without allocating.
//!
//! Time window: each bucket holds three atomic words (calls, failures, slow
//! calls), each `[epoch tag: 32 bits | count: 32 bits]`. A call is counted
//! into the bucket of its epoch (`now / bucket width`) with one
//! compare-and-swap per word: if the word still holds an older epoch, the
//! same CAS resets it and counts the call — so a rotation never loses a
//! call of the new epoch and never mixes epochs. A call whose bucket already
//! holds a *newer* epoch is older than the whole window and is not counted.
//! Every recorder bumps calls, then failures, then slow calls, so a word is
//! only ever rotated after the calls word of its bucket.
//!
//! Count window: a ring of one byte per call and three counters; a call's
//! contribution is added before it enters the ring and subtracted after it
//! leaves, so the counters never under-count and never go negative.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use super::config::Window;

/// What a window holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tally {
    pub(crate) calls: u64,
    pub(crate) failures: u64,
    pub(crate) slow: u64,
}

/// How one call ended, for the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    pub(crate) failure: bool,
    pub(crate) slow: bool,
}

#[derive(Debug)]
pub(crate) enum WindowCounter {
    Time(TimeWindow),
    Count(CountWindow),
}

impl WindowCounter {
    pub(crate) fn new(window: Window) -> Self {
        match window {
            Window::Time {
                sampling_duration,
                buckets,
            } => Self::Time(TimeWindow::new(sampling_duration, buckets)),
            Window::Count { size } => Self::Count(CountWindow::new(size)),
        }
    }

    /// Counts one call that ended at `now`. `reread` reads the clock again
    /// (only when `now` looks older than the whole window: a late thread,
    /// or a clock that jumped back).
    pub(crate) fn record(&self, now: Duration, sample: Sample, reread: impl FnOnce() -> Duration) {
        match self {
            Self::Time(w) => w.record(now, sample, reread),
            Self::Count(w) => w.record(sample),
        }
    }

    pub(crate) fn tally(&self, now: Duration) -> Tally {
        match self {
            Self::Time(w) => w.tally(now),
            Self::Count(w) => w.tally(),
        }
    }

    pub(crate) fn clear(&self) {
        match self {
            Self::Time(w) => w.clear(),
            Self::Count(w) => w.clear(),
        }
    }

    /// The bucket width of a time window (for snapshots).
    pub(crate) fn bucket_width(&self) -> Option<Duration> {
        match self {
            Self::Time(w) => Some(Duration::from_nanos(w.width_ns)),
            Self::Count(_) => None,
        }
    }

    /// Per-bucket contents, newest first, as (age in buckets, tally), for
    /// snapshots of a time window; per-call samples, oldest first, for a
    /// count window.
    pub(crate) fn contents(&self, now: Duration) -> Contents {
        match self {
            Self::Time(w) => Contents::Buckets(w.buckets_by_age(now)),
            Self::Count(w) => Contents::Calls(w.samples()),
        }
    }

    /// Restores contents taken by [`WindowCounter::contents`] (from a
    /// snapshot) relative to `now`.
    pub(crate) fn restore(&self, now: Duration, contents: &Contents) {
        self.clear();
        match (self, contents) {
            (Self::Time(w), Contents::Buckets(buckets)) => w.restore(now, buckets),
            (Self::Count(w), Contents::Calls(calls)) => {
                for sample in calls {
                    w.record(*sample);
                }
            }
            // A window of another kind than the configuration's: start empty.
            _ => {}
        }
    }
}

/// A window's contents, for snapshots.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Contents {
    /// `(age in buckets, tally)`: age 0 is the current bucket.
    Buckets(Vec<(u64, Tally)>),
    /// The calls, oldest first.
    Calls(Vec<Sample>),
}

const COUNT_MASK: u64 = 0xFFFF_FFFF;

/// Division by a constant divisor through a precomputed reciprocal: a
/// multiplication and at most two corrections instead of a hardware
/// division (tens of cycles) on the hot path.
#[derive(Debug, Clone, Copy)]
struct Divisor {
    d: u64,
    /// floor((2^64 - 1) / d): the quotient estimate is low by at most 2.
    reciprocal: u64,
}

impl Divisor {
    fn new(d: u64) -> Self {
        let d = d.max(1);
        Self {
            d,
            reciprocal: u64::MAX.checked_div(d).unwrap_or(0),
        }
    }

    fn div_rem(self, a: u64) -> (u64, u64) {
        // Two 64-bit factors: the 128-bit product cannot overflow.
        let mut q = (u128::from(a).wrapping_mul(u128::from(self.reciprocal)) >> 64) as u64;
        let mut r = a.wrapping_sub(q.wrapping_mul(self.d));
        while r >= self.d {
            q = q.wrapping_add(1);
            r = r.wrapping_sub(self.d);
        }
        (q, r)
    }
}

fn tag_of(epoch: u64) -> u64 {
    epoch & COUNT_MASK
}

#[derive(Debug)]
struct Bucket {
    calls: AtomicU64,
    failures: AtomicU64,
    slow: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct TimeWindow {
    width_ns: u64,
    width: Divisor,
    slots: Divisor,
    buckets: Box<[Bucket]>,
    /// The newest epoch any call was counted in.
    newest: AtomicU64,
}

/// What happened to a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bump {
    Counted,
    /// Its bucket holds a newer epoch: the call is older than the window.
    Expired,
}

impl TimeWindow {
    fn new(sampling_duration: Duration, buckets: u32) -> Self {
        let total = u64::try_from(sampling_duration.as_nanos()).unwrap_or(u64::MAX);
        // Config validation guarantees at least a nanosecond per bucket.
        let width_ns = total.checked_div(u64::from(buckets)).unwrap_or(1).max(1);
        Self {
            width_ns,
            width: Divisor::new(width_ns),
            slots: Divisor::new(u64::from(buckets.max(1))),
            buckets: (0..buckets.max(1))
                .map(|_| Bucket {
                    calls: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                    slow: AtomicU64::new(0),
                })
                .collect(),
            newest: AtomicU64::new(0),
        }
    }

    fn len(&self) -> u64 {
        self.buckets.len() as u64
    }

    /// The epoch (bucket number) of a reading, offset by one window so that
    /// the buckets of a restored window are never before epoch 0 — even on
    /// a clock that starts at zero, like a new process's.
    fn epoch(&self, now: Duration) -> u64 {
        let ns = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        // Most readings fall in the newest epoch: check with a multiplication
        // and spare the hot path a division.
        let newest = self.newest.load(Ordering::Acquire);
        if let Some(start) = newest
            .checked_sub(self.len())
            .and_then(|n| n.checked_mul(self.width_ns))
        {
            if ns.wrapping_sub(start) < self.width_ns {
                return newest;
            }
        }
        self.width.div_rem(ns).0.saturating_add(self.len())
    }

    fn slot_of(&self, epoch: u64) -> u64 {
        self.slots.div_rem(epoch).1
    }

    fn bucket(&self, epoch: u64) -> Option<&Bucket> {
        self.buckets.get(usize::try_from(self.slot_of(epoch)).unwrap_or(0))
    }

    /// Adds one to `word` for `epoch`, resetting it first if it holds an
    /// older epoch — one CAS, so no count of the new epoch is ever lost.
    fn bump(word: &AtomicU64, epoch: u64) -> Bump {
        let tag = tag_of(epoch);
        let mut current = word.load(Ordering::Acquire);
        loop {
            let held = current >> 32;
            let next = if held == tag {
                let count = current & COUNT_MASK;
                if count == COUNT_MASK {
                    return Bump::Counted; // saturated at 2^32 − 1 calls in one bucket
                }
                current.wrapping_add(1)
            } else if current & COUNT_MASK == 0 || (tag.wrapping_sub(held) & COUNT_MASK) < (1 << 31) {
                // The word is empty, or holds an older epoch (by serial-number
                // order): rotate.
                (tag << 32) | 1
            } else {
                return Bump::Expired;
            };
            match word.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Bump::Counted,
                Err(now) => current = now, // coverage: race — another recorder changed the word first
            }
        }
    }

    fn record(&self, now: Duration, sample: Sample, reread: impl FnOnce() -> Duration) {
        let mut epoch = self.epoch(now);
        let newest = self.newest.load(Ordering::Acquire);
        if epoch.saturating_add(self.len()) <= newest {
            // Older than the whole window: a thread that read the clock long
            // ago, or a clock that jumped back. A fresh reading tells which.
            let fresh = self.epoch(reread());
            if fresh.saturating_add(self.len()) > newest {
                return; // a late call: already outside the window
            }
            // Rule `clock_jump`: the clock went back; the window restarts there.
            self.clear();
            self.newest.store(fresh, Ordering::Release);
            epoch = fresh;
        } else if epoch > newest {
            if epoch >= newest.saturating_add(self.len()) {
                // Idle for a whole window: everything held has expired. Clearing
                // also keeps 32-bit tags from ever being read across a wrap.
                self.clear_except(epoch);
            }
            self.newest.fetch_max(epoch, Ordering::AcqRel);
        }
        let Some(bucket) = self.bucket(epoch) else { return };
        if Self::bump(&bucket.calls, epoch) == Bump::Expired {
            return;
        }
        if sample.failure {
            Self::bump(&bucket.failures, epoch);
        }
        if sample.slow {
            Self::bump(&bucket.slow, epoch);
        }
    }

    /// The count `word` holds for an epoch inside the window ending at `now_epoch`.
    fn live(&self, word: &AtomicU64, slot: u64, now_epoch: u64) -> u64 {
        let value = word.load(Ordering::Acquire);
        let back = tag_of(now_epoch).wrapping_sub(value >> 32) & COUNT_MASK;
        // The word's epoch is `now_epoch - back`; it counts when that is this
        // slot's epoch within the last `len` epochs.
        if back < self.len() && now_epoch.checked_sub(back).map(|e| self.slot_of(e)) == Some(slot) {
            value & COUNT_MASK
        } else {
            0
        }
    }

    fn tally(&self, now: Duration) -> Tally {
        let now_epoch = self.epoch(now).max(self.newest.load(Ordering::Acquire));
        let mut tally = Tally::default();
        for (slot, bucket) in (0u64..).zip(self.buckets.iter()) {
            let calls = self.live(&bucket.calls, slot, now_epoch);
            if calls == 0 {
                continue;
            }
            tally.calls = tally.calls.saturating_add(calls);
            tally.failures = tally
                .failures
                .saturating_add(self.live(&bucket.failures, slot, now_epoch));
            tally.slow = tally.slow.saturating_add(self.live(&bucket.slow, slot, now_epoch));
        }
        tally
    }

    fn clear(&self) {
        for bucket in self.buckets.iter() {
            for word in [&bucket.calls, &bucket.failures, &bucket.slow] {
                word.store(0, Ordering::Release);
            }
        }
    }

    /// Zeroes every word that does not hold `epoch` (with CAS, so a call
    /// counted concurrently for `epoch` survives).
    fn clear_except(&self, epoch: u64) {
        let keep = tag_of(epoch);
        for bucket in self.buckets.iter() {
            for word in [&bucket.calls, &bucket.failures, &bucket.slow] {
                let _ = word.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| (v >> 32 != keep).then_some(0));
            }
        }
    }

    fn buckets_by_age(&self, now: Duration) -> Vec<(u64, Tally)> {
        let now_epoch = self.epoch(now).max(self.newest.load(Ordering::Acquire));
        (0..self.len())
            .filter_map(|age| {
                let epoch = now_epoch.checked_sub(age)?;
                let slot = self.slot_of(epoch);
                let bucket = self.buckets.get(usize::try_from(slot).ok()?)?;
                let tally = Tally {
                    calls: self.live(&bucket.calls, slot, now_epoch),
                    failures: self.live(&bucket.failures, slot, now_epoch),
                    slow: self.live(&bucket.slow, slot, now_epoch),
                };
                (tally.calls > 0).then_some((age, tally))
            })
            .collect()
    }

    fn restore(&self, now: Duration, buckets: &[(u64, Tally)]) {
        let now_epoch = self.epoch(now);
        self.newest.store(now_epoch, Ordering::Release);
        for &(age, tally) in buckets {
            let Some(epoch) = now_epoch.checked_sub(age) else {
                continue;
            };
            if age >= self.len() {
                continue;
            }
            let Some(bucket) = self.bucket(epoch) else { continue };
            let word = |count: u64| (tag_of(epoch) << 32) | count.min(COUNT_MASK);
            bucket.calls.store(word(tally.calls), Ordering::Release);
            bucket
                .failures
                .store(word(tally.failures.min(tally.calls)), Ordering::Release);
            bucket.slow.store(word(tally.slow.min(tally.calls)), Ordering::Release);
        }
    }
}

// A count-window slot: bit 0 a call is there, bit 1 it failed, bit 2 it was slow.
const PRESENT: u8 = 1;
const FAILED: u8 = 1 << 1;
const SLOW: u8 = 1 << 2;

#[derive(Debug)]
pub(crate) struct CountWindow {
    len: Divisor,
    slots: Box<[AtomicU8]>,
    next: AtomicU64,
    calls: AtomicU32,
    failures: AtomicU32,
    slow: AtomicU32,
}

impl CountWindow {
    fn new(size: u32) -> Self {
        Self {
            len: Divisor::new(u64::from(size.max(1))),
            slots: (0..size.max(1)).map(|_| AtomicU8::new(0)).collect(),
            next: AtomicU64::new(0),
            calls: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            slow: AtomicU32::new(0),
        }
    }

    fn counters(&self) -> [(&AtomicU32, u8); 3] {
        [(&self.calls, PRESENT), (&self.failures, FAILED), (&self.slow, SLOW)]
    }

    fn record(&self, sample: Sample) {
        let mut byte = PRESENT;
        if sample.failure {
            byte |= FAILED;
        }
        if sample.slow {
            byte |= SLOW;
        }
        let index = self.len.div_rem(self.next.fetch_add(1, Ordering::AcqRel)).1;
        let Some(slot) = self.slots.get(usize::try_from(index).unwrap_or(0)) else {
            return; // coverage: unreachable — `index` is a remainder by the ring's length
        };
        // Steady state: a call like the one it replaces changes no counter,
        // so one CAS does it.
        if slot
            .compare_exchange(byte, byte, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return;
        }
        // Add first: the counters may briefly over-count a call in flight,
        // never under-count one, and never go below zero.
        for (counter, bit) in self.counters() {
            if byte & bit != 0 {
                counter.fetch_add(1, Ordering::AcqRel);
            }
        }
        let evicted = slot.swap(byte, Ordering::AcqRel);
        for (counter, bit) in self.counters() {
            if evicted & bit != 0 {
                counter.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    fn tally(&self) -> Tally {
        let calls = u64::from(self.calls.load(Ordering::Acquire));
        Tally {
            calls,
            failures: u64::from(self.failures.load(Ordering::Acquire)).min(calls),
            slow: u64::from(self.slow.load(Ordering::Acquire)).min(calls),
        }
    }

    fn clear(&self) {
        for slot in self.slots.iter() {
            let evicted = slot.swap(0, Ordering::AcqRel);
            for (counter, bit) in self.counters() {
                if evicted & bit != 0 {
                    counter.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
    }

    /// The calls held, oldest first.
    fn samples(&self) -> Vec<Sample> {
        let len = self.slots.len() as u64;
        let next = self.next.load(Ordering::Acquire);
        (0..len)
            .filter_map(|i| {
                let index = next.wrapping_add(i).checked_rem(len)?;
                let byte = self.slots.get(usize::try_from(index).ok()?)?.load(Ordering::Acquire);
                (byte & PRESENT != 0).then_some(Sample {
                    failure: byte & FAILED != 0,
                    slow: byte & SLOW != 0,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Sample = Sample {
        failure: false,
        slow: false,
    };
    const FAIL: Sample = Sample {
        failure: true,
        slow: false,
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn time_window() -> TimeWindow {
        TimeWindow::new(ms(1000), 10) // buckets of 100 ms
    }

    #[test]
    fn reciprocal_division_is_exact() {
        for d in [
            1u64,
            2,
            3,
            7,
            10,
            1000,
            1_000_000,
            3_000_000_000,
            u64::MAX / 3,
            u64::MAX,
        ] {
            let div = Divisor::new(d);
            for a in [
                0u64,
                1,
                d - 1,
                d,
                d.wrapping_add(1),
                12_345_678_901,
                u64::MAX / 2,
                u64::MAX - 1,
                u64::MAX,
            ] {
                assert_eq!(div.div_rem(a), (a / d, a % d), "{a} / {d}");
            }
        }
    }

    #[test]
    fn a_time_window_forgets_whole_buckets() {
        let w = time_window();
        w.record(ms(50), FAIL, || ms(50));
        w.record(ms(150), OK, || ms(150));
        assert_eq!(
            w.tally(ms(999)),
            Tally {
                calls: 2,
                failures: 1,
                slow: 0
            }
        );
        // At 1000 ms the first bucket (0..100) leaves the window.
        assert_eq!(
            w.tally(ms(1000)),
            Tally {
                calls: 1,
                failures: 0,
                slow: 0
            }
        );
        assert_eq!(w.tally(ms(1100)), Tally::default());
    }

    #[test]
    fn a_gap_longer_than_the_window_empties_it() {
        let w = time_window();
        w.record(ms(50), FAIL, || ms(50));
        w.record(ms(5_050), OK, || ms(5_050));
        assert_eq!(
            w.tally(ms(5_050)),
            Tally {
                calls: 1,
                failures: 0,
                slow: 0
            }
        );
        // The failure's bucket (slot 0) was reused by the new call.
        w.record(ms(5_051), FAIL, || ms(5_051));
        assert_eq!(
            w.tally(ms(5_051)),
            Tally {
                calls: 2,
                failures: 1,
                slow: 0
            }
        );
    }

    #[test]
    fn a_late_call_older_than_the_window_is_not_counted() {
        let w = time_window();
        w.record(ms(2_000), OK, || ms(2_000));
        // A thread that read 500 ms long ago; the clock now reads 2000 ms.
        w.record(ms(500), FAIL, || ms(2_000));
        assert_eq!(
            w.tally(ms(2_000)),
            Tally {
                calls: 1,
                failures: 0,
                slow: 0
            }
        );
    }

    #[test]
    fn a_clock_that_jumps_back_restarts_the_window() {
        let w = time_window();
        w.record(ms(10_000), FAIL, || ms(10_000));
        w.record(ms(100), FAIL, || ms(100));
        assert_eq!(
            w.tally(ms(100)),
            Tally {
                calls: 1,
                failures: 1,
                slow: 0
            }
        );
        w.record(ms(200), OK, || ms(200));
        assert_eq!(
            w.tally(ms(200)),
            Tally {
                calls: 2,
                failures: 1,
                slow: 0
            }
        );
    }

    #[test]
    fn snapshots_of_buckets_round_trip() {
        let w = time_window();
        w.record(ms(50), FAIL, || ms(50));
        w.record(ms(350), OK, || ms(350));
        w.record(ms(350), FAIL, || ms(350));
        let contents = w.buckets_by_age(ms(400));
        let restored = time_window();
        restored.restore(ms(10_400), &contents);
        assert_eq!(restored.tally(ms(10_400)), w.tally(ms(400)));
        assert_eq!(
            restored.tally(ms(11_000)),
            Tally {
                calls: 2,
                failures: 1,
                slow: 0
            }
        );
    }

    #[test]
    fn a_count_window_holds_the_last_calls() {
        let w = CountWindow::new(3);
        for s in [FAIL, FAIL, OK, OK] {
            w.record(s);
        }
        assert_eq!(
            w.tally(),
            Tally {
                calls: 3,
                failures: 1,
                slow: 0
            }
        );
        assert_eq!(w.samples(), vec![FAIL, OK, OK]);
        w.record(OK);
        assert_eq!(
            w.tally(),
            Tally {
                calls: 3,
                failures: 0,
                slow: 0
            }
        );
        w.clear();
        assert_eq!(w.tally(), Tally::default());
    }

    #[test]
    fn a_bucket_saturates_instead_of_wrapping_into_the_next_epoch() {
        let word = AtomicU64::new((tag_of(7) << 32) | COUNT_MASK);
        assert_eq!(TimeWindow::bump(&word, 7), Bump::Counted);
        assert_eq!(
            word.load(Ordering::Acquire),
            (tag_of(7) << 32) | COUNT_MASK,
            "still epoch 7, still full"
        );
        // A newer epoch rotates the full word as usual.
        assert_eq!(TimeWindow::bump(&word, 8), Bump::Counted);
        assert_eq!(word.load(Ordering::Acquire), (tag_of(8) << 32) | 1);
    }

    #[test]
    fn a_call_whose_bucket_another_thread_already_rotated_is_not_counted() {
        let w = time_window();
        w.record(ms(50), FAIL, || ms(50));
        let epoch = w.epoch(ms(50));
        // Another thread, a whole window later, has rotated this bucket to
        // its epoch; this thread read `newest` before that thread raised it.
        let bucket = w.bucket(epoch).unwrap();
        let newer = (tag_of(epoch + w.len()) << 32) | 1;
        bucket.calls.store(newer, Ordering::Release);
        w.record(ms(60), FAIL, || ms(60));
        assert_eq!(
            bucket.calls.load(Ordering::Acquire),
            newer,
            "the newer epoch's count is untouched"
        );
        assert_eq!(
            bucket.failures.load(Ordering::Acquire) & COUNT_MASK,
            1,
            "nor is the failure counted"
        );
        assert_eq!(
            w.tally(ms(60)),
            Tally::default(),
            "the newer epoch is not in this window yet"
        );
    }

    #[test]
    fn only_a_time_window_has_buckets_to_restore() {
        let count = WindowCounter::new(Window::Count { size: 3 });
        assert_eq!(count.bucket_width(), None);
        let time = WindowCounter::new(Window::Time {
            sampling_duration: ms(1000),
            buckets: 10,
        });
        assert_eq!(time.bucket_width(), Some(ms(100)));

        // Contents of the other kind leave a window empty (and cleared).
        count.record(ms(0), FAIL, || ms(0));
        count.restore(
            ms(0),
            &Contents::Buckets(vec![(
                0,
                Tally {
                    calls: 5,
                    failures: 5,
                    slow: 0,
                },
            )]),
        );
        assert_eq!(count.tally(ms(0)), Tally::default());
        time.record(ms(0), FAIL, || ms(0));
        time.restore(ms(0), &Contents::Calls(vec![FAIL, FAIL]));
        assert_eq!(time.tally(ms(0)), Tally::default());
    }

    #[test]
    fn tags_order_across_the_32_bit_wrap() {
        let w = TimeWindow::new(ms(10), 10); // 1 ms buckets
                                             // Epochs are offset by the window's length (10 buckets).
        let near_wrap = ms((1u64 << 32) - 12);
        w.record(near_wrap, OK, || near_wrap);
        let after = near_wrap + ms(3);
        w.record(after, FAIL, || after);
        assert_eq!(
            w.tally(after),
            Tally {
                calls: 2,
                failures: 1,
                slow: 0
            }
        );
    }
}
