//! The jitter source: a portable, seedable, lock-free generator, or any
//! generator of the `rand` ecosystem a user brings.
//!
//! SplitMix64 over an atomic counter: every draw is one `fetch_add` plus a
//! few multiplications, so a shared policy can be used from many threads
//! without a lock, and the same seed yields the same sequence on every
//! platform and therefore in every binding. An unseeded policy has no
//! sequence to keep: it draws from its thread's own SplitMix64, seeded
//! from the OS once per thread, and skips the `lock xadd` (and the cache
//! line shared between threads) a seeded one pays.

use std::cell::Cell;
use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// A seedable random source for jitter. Cloning copies the current state.
#[derive(Debug)]
pub struct JitterRng {
    state: AtomicU64,
}

impl JitterRng {
    /// A generator whose sequence is fully determined by `seed`.
    pub fn from_seed(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    /// A generator seeded from the operating system (`getrandom`; in
    /// browsers and Node, `crypto.getRandomValues`). If the OS source fails,
    /// falls back to a fixed seed mixed with the address of a local: jitter
    /// quality degrades, nothing panics.
    pub fn from_entropy() -> Self {
        Self::from_seed(entropy_seed())
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let z = self
            .state
            .fetch_add(GOLDEN_GAMMA, Ordering::Relaxed)
            .wrapping_add(GOLDEN_GAMMA);
        mix(z)
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn next_unit(&self) -> f64 {
        unit_from_bits(self.next_u64())
    }
}

/// 64 bits from the OS (see [`JitterRng::from_entropy`]).
fn entropy_seed() -> u64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => {
            let local = 0u8; // coverage: unreachable — getrandom fails only on a system without an entropy source
            GOLDEN_GAMMA ^ (std::ptr::addr_of!(local) as usize as u64) // coverage: unreachable — as above
        }
    }
}

thread_local! {
    /// The state of this thread's generator for unseeded policies.
    static THREAD_STATE: Cell<u64> = Cell::new(entropy_seed());
}

/// The next 64 bits of this thread's generator (SplitMix64, as
/// [`JitterRng`], without the atomic).
fn thread_u64() -> u64 {
    let drawn = THREAD_STATE.try_with(|state| {
        let z = state.get().wrapping_add(GOLDEN_GAMMA);
        state.set(z);
        mix(z)
    });
    match drawn {
        Ok(bits) => bits,
        // A `Cell<u64>` has no destructor, so its slot is never torn down;
        // were it ever, a fresh OS seed still jitters.
        Err(_) => mix(entropy_seed()), // coverage: unreachable — a slot without a destructor is never torn down
    }
}

/// A uniform float in `[0, 1)` from the top 53 of 64 random bits.
fn unit_from_bits(bits: u64) -> f64 {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    (bits >> 11) as f64 * SCALE
}

/// The `rand` ecosystem's generator traits: `JitterRng` is a
/// `rand_core::Rng` (the `RngCore` of rand_core before 0.10), so it can
/// drive `rand`'s distributions, and simulations can share it.
impl rand_core::TryRng for JitterRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((JitterRng::next_u64(self) >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(JitterRng::next_u64(self))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = JitterRng::next_u64(self).to_le_bytes();
            let n = chunk.len();
            chunk.copy_from_slice(bytes.get(..n).unwrap_or_default());
        }
        Ok(())
    }
}

type UserDraw = Box<dyn FnMut() -> u64 + Send>;

/// Where a policy's jitter comes from: the portable built-in generator (the
/// default, so a seed gives the same delays in every language), or a
/// generator the user brought.
#[derive(Clone)]
pub(crate) enum JitterSource {
    /// A seeded policy's sequence, shared by every thread that uses it.
    BuiltIn(JitterRng),
    /// An unseeded policy: the calling thread's generator.
    PerThread,
    User(Arc<Mutex<UserDraw>>),
}

impl JitterSource {
    /// Wraps any `rand_core::Rng`; draws take a lock (the built-in
    /// generator needs none).
    pub(crate) fn user(mut rng: impl rand_core::Rng + Send + 'static) -> Self {
        Self::User(Arc::new(Mutex::new(Box::new(move || rng.next_u64()))))
    }

    /// A uniform float in `[0, 1)`.
    pub(crate) fn next_unit(&self) -> f64 {
        match self {
            Self::BuiltIn(rng) => rng.next_unit(),
            Self::PerThread => unit_from_bits(thread_u64()),
            Self::User(draw) => {
                let mut draw = draw.lock().unwrap_or_else(PoisonError::into_inner);
                unit_from_bits(draw())
            }
        }
    }
}

impl fmt::Debug for JitterSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BuiltIn(rng) => rng.fmt(f),
            Self::PerThread => f.write_str("JitterSource::PerThread"),
            Self::User(_) => f.write_str("JitterSource::User(..)"),
        }
    }
}

impl Clone for JitterRng {
    fn clone(&self) -> Self {
        Self::from_seed(self.state.load(Ordering::Relaxed))
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let a = JitterRng::from_seed(42);
        let b = JitterRng::from_seed(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn matches_reference_splitmix64() {
        // Reference values of SplitMix64 seeded with 1234567 (Vigna's C code).
        let rng = JitterRng::from_seed(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn is_a_rand_core_rng() {
        fn draw<R: rand_core::Rng>(rng: &mut R) -> (u32, u64, [u8; 11]) {
            let mut bytes = [0u8; 11];
            rng.fill_bytes(&mut bytes);
            (rng.next_u32(), rng.next_u64(), bytes)
        }
        let (mut a, b) = (JitterRng::from_seed(9), JitterRng::from_seed(9));
        let (high, next, bytes) = draw(&mut a);
        let first = b.next_u64();
        assert_eq!(bytes[..8], first.to_le_bytes());
        assert_eq!(bytes[8..], b.next_u64().to_le_bytes()[..3]);
        assert_eq!(high, (b.next_u64() >> 32) as u32);
        assert_eq!(next, b.next_u64());
    }

    #[test]
    fn a_user_generator_feeds_jitter() {
        let source = JitterSource::user(JitterRng::from_seed(5));
        let reference = JitterRng::from_seed(5);
        assert_eq!(source.next_unit(), reference.next_unit());
        let cloned = source.clone();
        assert_eq!(
            cloned.next_unit(),
            reference.next_unit(),
            "clones share the user's generator"
        );
        assert!(format!("{source:?}").contains("User"));
    }

    #[test]
    fn unit_is_in_range() {
        let rng = JitterRng::from_seed(7);
        for _ in 0..10_000 {
            let u = rng.next_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
