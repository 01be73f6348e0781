//! Tags that make the handles of one object (a breaker's permits, a
//! bulkhead's slots) unrecognisable to another object.

use std::sync::atomic::{AtomicU32, Ordering};

/// Bits of a handle that hold its owner's tag (the top of a `u64`).
pub(crate) const TAG_BITS: u32 = 20;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh tag in `1..2^20`: never 0, so an all-zero handle is never valid.
/// Tags repeat after about a million objects; a handle of one object is then
/// accepted by another only if its serial matches too.
pub(crate) fn next_tag() -> u64 {
    let n = u64::from(NEXT.fetch_add(1, Ordering::Relaxed));
    (n % ((1 << TAG_BITS) - 1)).wrapping_add(1)
}
