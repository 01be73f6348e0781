//! A rate limiter: the generic cell rate algorithm (GCRA), as governor and
//! redis-cell implement it.
//!
//! The whole state is one atomic word, the *theoretical arrival time*
//! (TAT): when the limiter would next be idle if every admitted cell had
//! arrived at the exact rate. Taking `n` cells at `now` is allowed when
//! `max(TAT, now) + n·T <= now + burst·T` (`T` is the emission interval);
//! it then moves the TAT forward by `n·T` with one compare-and-swap. A
//! refusal changes nothing and says exactly how long until the `n` cells
//! conform.

mod config;
mod lease;
mod wait;

pub use config::{RateLimiterConfig, RateLimiterConfigBuilder, DEFAULT_BURST, DEFAULT_PER, DEFAULT_RATE};

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::lease::Lease;
use crate::time::{nanos_u64, Clock};

/// Not yet: the cells conform after `retry_after`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimited {
    /// Exactly how long until the requested cells conform (if nobody else
    /// takes them first).
    pub retry_after: Duration,
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited (retry after {:?})", self.retry_after)
    }
}

impl std::error::Error for RateLimited {}

/// More cells were asked for at once than `burst` allows: they never conform.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExceedsBurst {
    /// The cells asked for.
    pub requested: u32,
    /// The limiter's burst.
    pub burst: u32,
}

impl fmt::Display for ExceedsBurst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cells requested at once, but the burst is {}: they can never be granted",
            self.requested, self.burst
        )
    }
}

impl std::error::Error for ExceedsBurst {}

/// Why [`RateLimiter::try_acquire_n`] refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLimitError {
    /// Not yet; wait and ask again.
    Limited(RateLimited),
    /// Never: `n` is above the burst.
    ExceedsBurst(ExceedsBurst),
}

impl fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Limited(e) => e.fmt(f),
            Self::ExceedsBurst(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RateLimitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Limited(e) => Some(e),
            Self::ExceedsBurst(e) => Some(e),
        }
    }
}

/// A GCRA rate limiter over an injected [`Clock`]; `Send + Sync`, lock-free.
///
/// Shared across processes ([`in_fleet`](Self::in_fleet)), it takes its
/// cells from tokens leased from the fleet's limiter in a store (see the
/// [`Leased`](crate::Leased) hooks); the call path stays lock-free.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{ManualClock, RateLimitError, RateLimiter, RateLimiterConfig};
/// let clock = ManualClock::new();
/// let config = RateLimiterConfig::builder().rate(10).per(Duration::from_secs(1)).burst(2).build()?;
/// let limiter = RateLimiter::new(config, clock.clone());
/// assert!(limiter.try_acquire().is_ok() && limiter.try_acquire().is_ok()); // the burst
/// match limiter.try_acquire() {
///     Err(RateLimitError::Limited(limited)) => assert_eq!(limited.retry_after, Duration::from_millis(100)),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(limiter.try_acquire_n(3), Err(RateLimitError::ExceedsBurst(_))));
/// limiter.acquire(1, &clock)?; // sleeps 100 ms of virtual time
/// assert_eq!(clock.sleeps(), vec![Duration::from_millis(100)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RateLimiter<C> {
    config: RateLimiterConfig,
    clock: C,
    /// The theoretical arrival time, in clock nanoseconds.
    tat: AtomicU64,
    /// Shared mode: the leased pool.
    lease: Option<Box<Lease>>,
}

impl<C: fmt::Debug> fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("tat", &Duration::from_nanos(self.tat.load(Ordering::Relaxed)))
            .finish()
    }
}

impl<C: Clock> RateLimiter<C> {
    /// A limiter with its whole burst available.
    pub fn new(config: RateLimiterConfig, clock: C) -> Self {
        Self {
            config,
            clock,
            tat: AtomicU64::new(0),
            lease: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RateLimiterConfig {
        &self.config
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Takes one cell if it conforms now.
    ///
    /// # Errors
    /// [`RateLimitError::Limited`] with the exact wait.
    #[inline]
    pub fn try_acquire(&self) -> Result<(), RateLimitError> {
        self.try_acquire_one().map_err(RateLimitError::Limited)
    }

    /// One cell: conforms when `TAT <= now + T·(burst − 1)` — the general
    /// rule for `n = 1`, in 64-bit arithmetic (saturating at 584 years).
    /// One cell never exceeds a burst (at least 1), so the only refusal is
    /// a wait.
    #[inline]
    pub(crate) fn try_acquire_one(&self) -> Result<(), RateLimited> {
        if let Some(lease) = &self.lease {
            return self.shared_cells(lease, 1);
        }
        let now = nanos_u64(self.clock.now());
        let latest = now.saturating_add(self.config.tolerance_ns());
        let t = self.config.interval_ns();
        let mut tat = self.tat.load(Ordering::Acquire);
        loop {
            if tat > latest {
                return Err(RateLimited {
                    retry_after: Duration::from_nanos(tat.saturating_sub(latest)),
                });
            }
            let next = tat.max(now).saturating_add(t);
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(seen) => tat = seen, // coverage: race — another caller moved the TAT first
            }
        }
    }

    /// Takes `n` cells at once if they all conform now (bindings read `n`
    /// with [`rules::cells`](crate::rules::cells); zero cells always
    /// conform and change nothing).
    ///
    /// # Errors
    /// [`RateLimitError::Limited`] with the exact wait until all `n`
    /// conform; [`RateLimitError::ExceedsBurst`] when `n` is above the
    /// burst (never, so no wait).
    pub fn try_acquire_n(&self, n: u32) -> Result<(), RateLimitError> {
        if n == 0 {
            return Ok(());
        }
        if n == 1 {
            return self.try_acquire_one().map_err(RateLimitError::Limited);
        }
        let burst = self.config.burst();
        if n > burst {
            return Err(RateLimitError::ExceedsBurst(ExceedsBurst { requested: n, burst }));
        }
        if let Some(lease) = &self.lease {
            return self.shared_cells(lease, n).map_err(RateLimitError::Limited);
        }
        let now = nanos_u64(self.clock.now());
        self.gcra_n(now, n, self.config.interval_ns(), burst)
            .map_err(RateLimitError::Limited)
    }

    /// `n` cells at `now` under emission interval `t` and `burst` (the
    /// configured ones, or a shared limiter's fallback share).
    fn gcra_n(&self, now: u64, n: u32, t: u64, burst: u32) -> Result<(), RateLimited> {
        // burst·T fits u64 (rule `burst_refill`), so n·T does too; a
        // fallback share saturates (and then never conforms sooner).
        let weight = t.saturating_mul(u64::from(n));
        let capacity = t.saturating_mul(u64::from(burst));
        let mut tat = self.tat.load(Ordering::Acquire);
        loop {
            // u128: a TAT or a clock near 584 years plus a burst of up to 584 years.
            let next = u128::from(tat.max(now)).saturating_add(u128::from(weight));
            let limit = u128::from(now).saturating_add(u128::from(capacity));
            if next > limit {
                let wait = u64::try_from(next.saturating_sub(limit)).unwrap_or(u64::MAX);
                return Err(RateLimited {
                    retry_after: Duration::from_nanos(wait),
                });
            }
            // Beyond 584 years the TAT saturates (the clock cannot read further).
            let stored = u64::try_from(next).unwrap_or(u64::MAX);
            match self
                .tat
                .compare_exchange_weak(tat, stored, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(seen) => tat = seen, // coverage: race — another caller moved the TAT first
            }
        }
    }
}

#[cfg(test)]
mod tests;
