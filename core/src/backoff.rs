//! Backoff strategies and jitter modes: how long to wait after failed attempt n.
//!
//! All arithmetic is on `u128` nanoseconds and saturates at `max_delay`:
//! attempt 10 000 of an exponential backoff is `max_delay`, never an overflow.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Allowed, ConfigError, ConfigErrorKind};
use crate::rng::JitterSource;
use crate::value::Value;

/// How the un-jittered delay grows with the attempt number n (n >= 1).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BackoffStrategy {
    /// `base`.
    Fixed,
    /// `base * n`.
    Linear,
    /// `base * 2^(n-1)` (the default).
    #[default]
    Exponential,
    /// `base * fib(n)` with fib(1) = fib(2) = 1.
    Fibonacci,
}

impl BackoffStrategy {
    /// Every strategy, in declaration order.
    pub const ALL: [BackoffStrategy; 4] = [Self::Fixed, Self::Linear, Self::Exponential, Self::Fibonacci];

    /// Every strategy's name, in declaration order.
    pub const NAMES: [&'static str; 4] = ["fixed", "linear", "exponential", "fibonacci"];

    /// The lowercase name used by every binding (`"exponential"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Linear => "linear",
            Self::Exponential => "exponential",
            Self::Fibonacci => "fibonacci",
        }
    }
}

impl fmt::Display for BackoffStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackoffStrategy {
    type Err = ConfigError;
    /// Parses a lowercase name; anything else is a [`ConfigError`] for `backoff`.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        Self::ALL.into_iter().find(|b| b.as_str() == s).ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::UnknownName,
                "backoff",
                Allowed::OneOf(&Self::NAMES),
                Value::text(s),
            )
        })
    }
}

/// How randomness is applied to the capped delay.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// No randomness.
    None,
    /// The original's: the capped delay times a factor uniform in
    /// `[0.75, 1.25)`, so it may reach 1.25 × `max_delay` (the default).
    #[default]
    Proportional,
    /// AWS "full jitter": uniform in `[0, capped)`.
    Full,
    /// AWS "equal jitter": `capped/2 + uniform[0, capped/2)`.
    Equal,
    /// AWS "decorrelated jitter": uniform in `[base, 3 × previous)`, capped at
    /// `max_delay`; the previous delay starts at `base`. Ignores the strategy.
    Decorrelated,
}

impl Jitter {
    /// Every mode, in declaration order.
    pub const ALL: [Jitter; 5] = [
        Self::None,
        Self::Proportional,
        Self::Full,
        Self::Equal,
        Self::Decorrelated,
    ];

    /// Every mode's name, in declaration order.
    pub const NAMES: [&'static str; 5] = ["none", "proportional", "full", "equal", "decorrelated"];

    /// The lowercase name used by every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Proportional => "proportional",
            Self::Full => "full",
            Self::Equal => "equal",
            Self::Decorrelated => "decorrelated",
        }
    }

    /// `true` → the original's proportional jitter, `false` → none.
    pub fn from_bool(on: bool) -> Self {
        if on {
            Self::Proportional
        } else {
            Self::None
        }
    }

    /// Whether any randomness is applied.
    pub fn is_enabled(self) -> bool {
        self != Self::None
    }
}

impl fmt::Display for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Jitter {
    type Err = ConfigError;
    /// Parses a lowercase name; anything else is a [`ConfigError`] for `jitter`.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        Self::ALL.into_iter().find(|j| j.as_str() == s).ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::UnknownName,
                "jitter",
                Allowed::OneOf(&Self::NAMES),
                Value::text(s),
            )
        })
    }
}

/// Nanoseconds of `d`, saturating at `u64::MAX` (584 years): every delay is
/// computed in `u64` nanoseconds; policies reject longer delays
/// ([`crate::rules::MAX_DURATION`]), so saturation only guards internal
/// arithmetic.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The un-jittered delay after failed attempt `attempt`, capped at `max`.
/// Attempts `<= 0` give zero.
pub(crate) fn raw_delay(strategy: BackoffStrategy, base: Duration, max: Duration, attempt: i64) -> Duration {
    Duration::from_nanos(raw_delay_ns(strategy, nanos(base), nanos(max), attempt))
}

/// [`raw_delay`] in nanoseconds: the hot path of every retry decision works
/// on plain `u64`s and builds a `Duration` once.
pub(crate) fn raw_delay_ns(strategy: BackoffStrategy, base_ns: u64, max_ns: u64, attempt: i64) -> u64 {
    if attempt <= 0 || base_ns == 0 {
        return 0;
    }
    // n >= 1 here; u64 holds every positive i64.
    let n = attempt.unsigned_abs();
    let raw_ns = match strategy {
        BackoffStrategy::Fixed => base_ns,
        BackoffStrategy::Linear => base_ns.saturating_mul(n),
        BackoffStrategy::Exponential => exponential_ns(base_ns, n),
        BackoffStrategy::Fibonacci => fibonacci_ns(base_ns, max_ns, n),
    };
    raw_ns.min(max_ns)
}

fn exponential_ns(base_ns: u64, n: u64) -> u64 {
    let shift = n.saturating_sub(1);
    match u32::try_from(shift) {
        Ok(s) => 1u64
            .checked_shl(s)
            .map_or(u64::MAX, |factor| base_ns.saturating_mul(factor)),
        Err(_) => u64::MAX,
    }
}

/// `base * fib(n)`, stopping as soon as the product passes `max`, so the
/// loop runs at most ~95 times whatever `n` is.
fn fibonacci_ns(base_ns: u64, max_ns: u64, n: u64) -> u64 {
    let (mut a, mut b) = (1u64, 1u64); // fib(1), fib(2)
    let mut i = 1u64;
    while i < n {
        if a.saturating_mul(base_ns) >= max_ns {
            return u64::MAX;
        }
        let next = a.saturating_add(b);
        a = b;
        b = next;
        i = i.saturating_add(1);
    }
    a.saturating_mul(base_ns)
}

/// `ns × factor` for a factor in `[0, 1.25]`, rounded half up to the
/// nanosecond and saturating at 584 years.
#[inline]
fn scale(ns: u64, factor: f64) -> u64 {
    // Below 2^53 ns (104 days) the same arithmetic runs through i64, whose
    // conversions x86-64 does in one instruction each (u64's take a dozen):
    // the integer is exact either way and the product stays far below
    // 2^63, so the result is bit-identical to the general form.
    const EXACT: u64 = 1 << 53;
    if ns < EXACT {
        return (ns as i64 as f64 * factor + 0.5) as i64 as u64;
    }
    // Finite and non-negative: adding one half and truncating rounds half
    // up; `as` saturates beyond u64.
    (ns as f64 * factor + 0.5) as u64
}

/// A uniform draw in `[low, high)` (`low` when the range is empty).
fn uniform_between(low: u64, high: u64, rng: &JitterSource) -> u64 {
    if high <= low {
        return low;
    }
    low.saturating_add(scale(high.saturating_sub(low), rng.next_unit()))
}

/// Applies `jitter` to the capped delay (all in nanoseconds).
///
/// `previous` is the last delay returned in this retry sequence (only
/// decorrelated jitter uses it; `None` means "start of the sequence").
pub(crate) fn apply_jitter(
    jitter: Jitter,
    capped: u64,
    base: u64,
    max: u64,
    previous: Option<u64>,
    rng: &JitterSource,
) -> u64 {
    match jitter {
        Jitter::None => capped,
        Jitter::Proportional => scale(capped, 0.75 + rng.next_unit() * 0.5),
        Jitter::Full => uniform_between(0, capped, rng),
        Jitter::Equal => {
            let half = capped / 2;
            half.saturating_add(uniform_between(0, capped.saturating_sub(half), rng))
        }
        Jitter::Decorrelated => {
            let prev = previous.unwrap_or(base).max(base);
            uniform_between(base, prev.saturating_mul(3), rng).min(max)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn strategies_follow_their_formulas() {
        let max = Duration::from_secs(1000);
        let exp: Vec<_> = (1..=5)
            .map(|n| raw_delay(BackoffStrategy::Exponential, S, max, n).as_secs())
            .collect();
        assert_eq!(exp, [1, 2, 4, 8, 16]);
        let fib: Vec<_> = (1..=7)
            .map(|n| raw_delay(BackoffStrategy::Fibonacci, S, max, n).as_secs())
            .collect();
        assert_eq!(fib, [1, 1, 2, 3, 5, 8, 13]);
        let lin: Vec<_> = (1..=3)
            .map(|n| raw_delay(BackoffStrategy::Linear, S, max, n).as_secs())
            .collect();
        assert_eq!(lin, [1, 2, 3]);
        assert_eq!(raw_delay(BackoffStrategy::Fixed, S, max, 9), S);
    }

    #[test]
    fn scaling_through_i64_is_bit_identical_to_the_general_form() {
        let rng = crate::rng::JitterRng::from_seed(9);
        let edges = [0, 1, 2, 999, (1 << 52) - 1, 1 << 52, (1 << 53) - 1, 1 << 53, u64::MAX];
        let draws = (0..20_000).map(|_| rng.next_u64() >> (rng.next_u64() % 64));
        for ns in edges.into_iter().chain(draws) {
            for factor in [0.0, 0.5, 0.75, 1.0, 1.25, rng.next_unit(), 0.75 + rng.next_unit() * 0.5] {
                assert_eq!(scale(ns, factor), (ns as f64 * factor + 0.5) as u64, "{ns} × {factor}");
            }
        }
    }

    #[test]
    fn huge_attempts_saturate_at_max() {
        let max = Duration::from_secs(60);
        for s in BackoffStrategy::ALL {
            for n in [64, 127, 128, 1024, 10_000, i64::MAX] {
                let d = raw_delay(s, S, max, n);
                assert!(d <= max, "{s} {n}");
            }
        }
        assert_eq!(raw_delay(BackoffStrategy::Exponential, S, max, 10_000), max);
        assert_eq!(raw_delay(BackoffStrategy::Fibonacci, S, max, i64::MAX), max);
    }

    #[test]
    fn zero_and_negative_attempts_give_zero() {
        for n in [0, -1, i64::MIN] {
            assert_eq!(raw_delay(BackoffStrategy::Fixed, S, S, n), Duration::ZERO);
        }
    }

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for s in BackoffStrategy::ALL {
            assert_eq!(s.as_str().parse::<BackoffStrategy>().unwrap(), s);
        }
        for j in Jitter::ALL {
            assert_eq!(j.as_str().parse::<Jitter>().unwrap(), j);
        }
        assert_eq!("cubic".parse::<BackoffStrategy>().unwrap_err().parameter(), "backoff");
        assert_eq!("lots".parse::<Jitter>().unwrap_err().parameter(), "jitter");
    }
}
