//! The ledger of permits handed out as plain tokens: it makes every token
//! unique and checks it when it comes back, so a caller bug (a permit
//! reported twice, a permit of another breaker, a made-up value) is refused
//! and changes nothing.
//!
//! Lock-free and, after the first permit, allocation-free: a slot is one
//! atomic word (busy bit, trial bit, stale bit, generation); issuing a
//! permit claims a free slot with one compare-and-swap, settling it frees
//! the slot with another. Each thread starts looking at its own slot, so
//! threads do not fight over one cache line. Slots come in segments of
//! 1024, allocated when first needed, up to 65 536 permits out at once.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use super::{CircuitState, Transition};

const SEGMENT_BITS: u32 = 10;
const SEGMENT_LEN: usize = 1 << SEGMENT_BITS;
const SEGMENTS: usize = 64;
/// Permits that can be out at once.
pub(crate) const CAPACITY: usize = SEGMENT_LEN * SEGMENTS;

// A slot: bit 0 busy, bit 1 trial, bit 2 stale, bits 3.. generation.
const BUSY: u64 = 1;
const SLOT_TRIAL: u64 = 1 << 1;
const STALE: u64 = 1 << 2;
const GEN_SHIFT: u32 = 3;

// A token: bit 0 trial, bit 1 "admitting it moved the breaker to
// half-open", bits 2..=27 generation, bits 28..=43 slot, bits 44..=63 the
// breaker's tag.
const TOKEN_TRIAL: u64 = 1;
const TOKEN_ENTERED: u64 = 1 << 1;
const TOKEN_GEN_SHIFT: u32 = 2;
const TOKEN_GEN_BITS: u32 = 26;
const TOKEN_SLOT_SHIFT: u32 = 28;
const TOKEN_TAG_SHIFT: u32 = 64 - crate::handle_tag::TAG_BITS;
/// Spreads threads' starting slots over distinct cache lines.
static NEXT_HINT: AtomicU32 = AtomicU32::new(0);

thread_local! {
    static HINT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Where this thread should start looking: the slot it claimed last (free
/// again if its permit came back — reusing it keeps the cache line warm — or
/// next to free ones if it still holds many permits, so claiming stays O(1)).
fn remember_hint(slot: usize) {
    let _ = HINT.try_with(|hint| hint.set(Some(slot)));
}

fn thread_hint() -> usize {
    HINT.try_with(|hint| match hint.get() {
        Some(h) => h,
        None => {
            // Eight slots (one cache line) apart per thread, within the first segment.
            let h = (NEXT_HINT.fetch_add(1, Ordering::Relaxed) as usize).wrapping_mul(8) % SEGMENT_LEN;
            hint.set(Some(h));
            h
        }
    })
    .unwrap_or(0)
}

/// A plain, copyable record of an admitted call, for callers that cannot
/// hold a borrow of the breaker (FFI, wasm, an asyncio driver). Give it
/// back exactly once; the breaker refuses it a second time, and refuses a
/// token of another breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PermitToken(u64);

impl PermitToken {
    /// Whether this call is a half-open trial.
    pub fn is_trial(&self) -> bool {
        self.0 & TOKEN_TRIAL != 0
    }

    /// Whether admitting this call moved the breaker from open to half-open.
    pub(crate) fn entered_half_open(&self) -> bool {
        self.0 & TOKEN_ENTERED != 0
    }

    /// The transition that admitting this call caused (open → half-open), if any.
    pub fn transition(&self) -> Option<Transition> {
        self.entered_half_open().then_some(Transition {
            from: CircuitState::Open,
            to: CircuitState::HalfOpen,
        })
    }

    pub(crate) fn with_entered(self) -> Self {
        Self(self.0 | TOKEN_ENTERED)
    }

    /// The token as 64 bits (for C and other FFI callers).
    pub fn to_raw(&self) -> u64 {
        self.0
    }

    /// A token from [`PermitToken::to_raw`]. Any value is safe to pass
    /// back: one the breaker did not issue is refused with
    /// [`PermitMisuse`].
    pub fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The token without its breaker tag: 44 bits, exact in a JavaScript
    /// number. Only meaningful with the breaker that issued it
    /// ([`super::CircuitBreaker::token_from_local`]).
    pub fn to_local(&self) -> u64 {
        self.0 & ((1 << TOKEN_TAG_SHIFT) - 1)
    }

    fn tag(&self) -> u64 {
        self.0 >> TOKEN_TAG_SHIFT
    }

    fn slot(&self) -> usize {
        ((self.0 >> TOKEN_SLOT_SHIFT) & 0xFFFF) as usize
    }

    fn generation(&self) -> u64 {
        (self.0 >> TOKEN_GEN_SHIFT) & ((1 << TOKEN_GEN_BITS) - 1)
    }
}

/// A permit came back that the breaker cannot accept. Nothing changed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermitMisuse {
    /// The permit was issued by another breaker.
    OtherBreaker,
    /// The permit was already reported, or was never issued.
    NotOutstanding,
}

impl fmt::Display for PermitMisuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OtherBreaker => "the permit was issued by another circuit breaker",
            Self::NotOutstanding => "the permit was already reported, or was never issued",
        })
    }
}

impl std::error::Error for PermitMisuse {}

/// How a valid permit came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Issued since the last reset: its outcome counts. `started_ns` is the
    /// clock reading given when it was issued (for slow calls).
    Current { started_ns: u64 },
    /// Issued before a reset: harmless, its outcome is ignored.
    Stale,
}

/// One permit's place: its state word and when it was issued.
#[derive(Debug)]
struct Slot {
    state: AtomicU64,
    started_ns: AtomicU64,
}

pub(crate) struct Ledger {
    tag: u64,
    segments: [OnceLock<Box<[Slot]>>; SEGMENTS],
}

impl Ledger {
    pub(crate) fn new() -> Self {
        Self {
            tag: crate::handle_tag::next_tag(),
            segments: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    #[cfg(test)]
    fn tag(&self) -> u64 {
        self.tag
    }

    /// A token of this ledger from [`PermitToken::to_local`].
    pub(crate) fn token_from_local(&self, local: u64) -> PermitToken {
        PermitToken((self.tag << TOKEN_TAG_SHIFT) | (local & ((1 << TOKEN_TAG_SHIFT) - 1)))
    }

    fn segment(&self, index: usize) -> Option<&[Slot]> {
        let cell = self.segments.get(index)?;
        Some(cell.get_or_init(|| {
            (0..SEGMENT_LEN)
                .map(|_| Slot {
                    state: AtomicU64::new(0),
                    started_ns: AtomicU64::new(0),
                })
                .collect()
        }))
    }

    fn existing_slot(&self, slot: usize) -> Option<&Slot> {
        self.segments
            .get(slot >> SEGMENT_BITS)?
            .get()?
            .get(slot & (SEGMENT_LEN - 1))
    }

    /// Claims a free slot, remembering `started_ns`; `None` when all 65 536
    /// are out.
    pub(crate) fn issue(&self, trial: bool, started_ns: u64) -> Option<PermitToken> {
        let start = thread_hint();
        for i in 0..CAPACITY {
            let slot = start.wrapping_add(i) % CAPACITY;
            let place = self.segment(slot >> SEGMENT_BITS)?.get(slot & (SEGMENT_LEN - 1))?;
            let cell = &place.state;
            let current = cell.load(Ordering::Acquire);
            if current & BUSY != 0 {
                continue;
            }
            let generation = (current >> GEN_SHIFT).wrapping_add(1);
            let trial_bit = if trial { SLOT_TRIAL } else { 0 };
            let claimed = (generation << GEN_SHIFT) | trial_bit | BUSY;
            if cell
                .compare_exchange(current, claimed, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // Written after the claim, read after the matching settle's CAS:
                // only the holder of the slot touches it in between.
                place.started_ns.store(started_ns, Ordering::Release);
                remember_hint(slot);
                let token_gen = generation & ((1 << TOKEN_GEN_BITS) - 1);
                let raw = (self.tag << TOKEN_TAG_SHIFT)
                    | ((slot as u64) << TOKEN_SLOT_SHIFT)
                    | (token_gen << TOKEN_GEN_SHIFT)
                    | if trial { TOKEN_TRIAL } else { 0 };
                return Some(PermitToken(raw));
            } // coverage: race — another thread claimed this place first
        }
        None
    }

    /// Takes a permit back: exactly once, and only from this ledger.
    pub(crate) fn settle(&self, token: PermitToken) -> Result<Settled, PermitMisuse> {
        if token.tag() != self.tag {
            return Err(PermitMisuse::OtherBreaker);
        }
        let place = self.existing_slot(token.slot()).ok_or(PermitMisuse::NotOutstanding)?;
        let cell = &place.state;
        let started_ns = place.started_ns.load(Ordering::Acquire);
        let mut current = cell.load(Ordering::Acquire);
        loop {
            let generation = (current >> GEN_SHIFT) & ((1 << TOKEN_GEN_BITS) - 1);
            let trial = current & SLOT_TRIAL != 0;
            if current & BUSY == 0 || generation != token.generation() || trial != token.is_trial() {
                return Err(PermitMisuse::NotOutstanding);
            }
            // Free the slot, keeping its generation for the next claim.
            let freed = current & !(BUSY | SLOT_TRIAL | STALE);
            match cell.compare_exchange(current, freed, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) if current & STALE != 0 => return Ok(Settled::Stale),
                Ok(_) => return Ok(Settled::Current { started_ns }),
                // A concurrent reset marked it stale; try again.
                Err(now) => current = now, // coverage: race — a reset or a second report came first
            }
        }
    }

    /// Every permit out now becomes stale: when it comes back, it is
    /// accepted and ignored (a reset's promise).
    pub(crate) fn mark_outstanding_stale(&self) {
        for segment in self.segments.iter().filter_map(OnceLock::get) {
            for place in segment.iter() {
                // Only busy slots; fetch_update fails (harmlessly) on free ones.
                let _ = place.state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                    (v & BUSY != 0).then_some(v | STALE)
                });
            }
        }
    }

    /// Permits out now (for tests and metrics).
    pub(crate) fn outstanding(&self) -> usize {
        self.segments
            .iter()
            .filter_map(OnceLock::get)
            .map(|s| s.iter().filter(|p| p.state.load(Ordering::Acquire) & BUSY != 0).count())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_settles_once() {
        let ledger = Ledger::new();
        let t = ledger.issue(false, 0).unwrap();
        assert_eq!(ledger.outstanding(), 1);
        assert_eq!(ledger.settle(t), Ok(Settled::Current { started_ns: 0 }));
        assert_eq!(ledger.settle(t), Err(PermitMisuse::NotOutstanding));
        assert_eq!(ledger.outstanding(), 0);
    }

    #[test]
    fn a_reused_slot_gets_a_new_generation() {
        let ledger = Ledger::new();
        let first = ledger.issue(false, 0).unwrap();
        ledger.settle(first).unwrap();
        let second = ledger.issue(false, 0).unwrap();
        assert_ne!(first, second);
        assert_eq!(ledger.settle(first), Err(PermitMisuse::NotOutstanding));
        assert_eq!(ledger.settle(second), Ok(Settled::Current { started_ns: 0 }));
    }

    #[test]
    fn foreign_forged_and_mismatched_tokens_are_refused() {
        let (a, b) = (Ledger::new(), Ledger::new());
        let t = a.issue(true, 0).unwrap();
        assert_eq!(b.settle(t), Err(PermitMisuse::OtherBreaker));
        assert_eq!(a.settle(PermitToken::from_raw(0)), Err(PermitMisuse::OtherBreaker));
        let flipped = PermitToken::from_raw(t.to_raw() ^ TOKEN_TRIAL);
        assert_eq!(a.settle(flipped), Err(PermitMisuse::NotOutstanding));
        let far_slot = PermitToken::from_raw((a.tag() << TOKEN_TAG_SHIFT) | (60_000 << TOKEN_SLOT_SHIFT));
        assert_eq!(a.settle(far_slot), Err(PermitMisuse::NotOutstanding));
        assert_eq!(a.settle(t), Ok(Settled::Current { started_ns: 0 }));
    }

    #[test]
    fn outstanding_tokens_go_stale() {
        let ledger = Ledger::new();
        let t = ledger.issue(true, 0).unwrap();
        ledger.mark_outstanding_stale();
        let after = ledger.issue(false, 0).unwrap();
        assert_eq!(ledger.settle(t), Ok(Settled::Stale));
        assert_eq!(ledger.settle(after), Ok(Settled::Current { started_ns: 0 }));
    }

    #[test]
    fn more_than_a_segment_can_be_out() {
        let ledger = Ledger::new();
        let tokens: Vec<_> = (0..SEGMENT_LEN + 10).map(|_| ledger.issue(false, 0).unwrap()).collect();
        assert_eq!(ledger.outstanding(), SEGMENT_LEN + 10);
        for t in tokens {
            assert_eq!(ledger.settle(t), Ok(Settled::Current { started_ns: 0 }));
        }
    }

    #[test]
    fn claiming_many_stays_linear() {
        // Each claim starts where the last one ended, so holding n permits
        // costs O(n) probes in all, not O(n^2) (a quadratic scan would take
        // minutes here).
        let ledger = Ledger::new();
        let tokens: Vec<_> = (0..CAPACITY).map(|_| ledger.issue(false, 0).unwrap()).collect();
        assert!(ledger.issue(false, 0).is_none(), "every slot is out");
        for t in &tokens {
            assert!(ledger.settle(*t).is_ok());
        }
        assert_eq!(ledger.outstanding(), 0);
    }

    #[test]
    fn local_tokens_fit_a_javascript_number() {
        let ledger = Ledger::new();
        let t = ledger.issue(false, 0).unwrap();
        assert!(t.to_local() < (1 << 53));
        assert_eq!(ledger.token_from_local(t.to_local()), t);
    }
}
