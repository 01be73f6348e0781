//! Adaptive client-side throttling (Google SRE book, "Handling Overload"):
//! over a window of history, reject locally with probability
//! `max(0, (requests − K·accepts) / (requests + 1))`.
//!
//! `requests` counts every request the application attempted — admitted or
//! rejected here; `accepts` counts the admitted ones the backend accepted
//! (what "accepted" means is the caller's predicate: core is told a bool).
//! While the backend accepts everything the probability is zero and no
//! random number is drawn; as it rejects more, the client sheds load before
//! it reaches the backend. Both counts live in ten tagged atomic buckets,
//! so counting and bucket rotation are one compare-and-swap each.

mod config;

pub use config::{
    AdaptiveThrottleConfig, AdaptiveThrottleConfigBuilder, DEFAULT_THROTTLE_K, DEFAULT_THROTTLE_WINDOW,
    THROTTLE_WINDOW_RANGE,
};

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::buckets::{Buckets, Epochs, Late};
use crate::rng::{JitterRng, JitterSource};
use crate::time::Clock;

/// Buckets in the window.
const BUCKETS: u32 = 10;

/// A request was shed locally.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttled {
    /// The rejection probability the request was drawn against.
    pub probability: f64,
    /// Time until the oldest bucket of history next leaves the window (the
    /// soonest the counts change other than by new traffic): a suggested wait.
    pub retry_after: Duration,
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "request throttled locally (rejection probability {:.3}, retry after {:?})",
            self.probability, self.retry_after
        )
    }
}

impl std::error::Error for Throttled {}

/// The error of [`AdaptiveThrottle::call`]: shed locally, or the
/// operation's own error.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum ThrottleError<E> {
    /// The throttle shed the request; the operation did not run.
    Throttled(Throttled),
    /// The operation ran and failed with this error, unchanged.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for ThrottleError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Throttled(t) => t.fmt(f),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ThrottleError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Throttled(t) => Some(t),
            Self::Inner(e) => Some(e),
        }
    }
}

/// The window's counts and the probability they give.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleStats {
    /// Requests attempted in the window (shed ones included).
    pub requests: u64,
    /// Requests the backend accepted in the window.
    pub accepts: u64,
    /// `max(0, (requests − K·accepts) / (requests + 1))`.
    pub probability: f64,
}

/// An adaptive throttle over an injected [`Clock`], drawing from a seedable
/// [`JitterRng`].
///
/// ```
/// use resilience_core::{AdaptiveThrottle, AdaptiveThrottleConfig, ManualClock};
/// let throttle = AdaptiveThrottle::new(AdaptiveThrottleConfig::builder().seed(1).build()?, ManualClock::new());
/// // The backend rejects everything: the client soon sheds most requests itself.
/// let mut shed = 0;
/// for _ in 0..1000 {
///     match throttle.try_admit() {
///         Ok(()) => throttle.record(false),
///         Err(_) => shed += 1,
///     }
/// }
/// assert!(shed > 900);
/// assert!(throttle.stats().probability > 0.99);
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
pub struct AdaptiveThrottle<C> {
    config: AdaptiveThrottleConfig,
    clock: C,
    epochs: Epochs,
    requests: Buckets,
    accepts: Buckets,
    rng: JitterSource,
}

impl<C: fmt::Debug> fmt::Debug for AdaptiveThrottle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveThrottle")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<C: Clock> AdaptiveThrottle<C> {
    /// A throttle with no history (it admits everything until the backend
    /// starts rejecting).
    pub fn new(config: AdaptiveThrottleConfig, clock: C) -> Self {
        // Seeded: one sequence, as a seeded retry policy; unseeded: each
        // thread's own generator.
        let rng = match config.seed() {
            Some(seed) => JitterSource::BuiltIn(JitterRng::from_seed(seed)),
            None => JitterSource::PerThread,
        };
        Self {
            config,
            clock,
            epochs: Epochs::new(config.window(), BUCKETS),
            requests: Buckets::new(BUCKETS),
            accepts: Buckets::new(BUCKETS),
            rng,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AdaptiveThrottleConfig {
        &self.config
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    fn stats_at(&self, epoch: u64) -> ThrottleStats {
        let oldest = epoch.saturating_sub(u64::from(BUCKETS - 1));
        let requests = self.requests.sum(oldest, epoch, None);
        let accepts = self.accepts.sum(oldest, epoch, None);
        let (r, a) = (requests as f64, accepts as f64);
        let probability = ((r - self.config.k() * a) / (r + 1.0)).max(0.0);
        ThrottleStats {
            requests,
            accepts,
            probability,
        }
    }

    /// The window's counts and the current rejection probability.
    pub fn stats(&self) -> ThrottleStats {
        self.stats_at(self.epochs.of(self.clock.now()))
    }

    /// A request is about to be sent: counts it and decides. The
    /// probability comes from the history before this request; a random
    /// number is drawn only when it is above zero.
    ///
    /// # Errors
    /// [`Throttled`] when the request is shed: do not send it. When it is
    /// admitted, report the backend's answer with [`record`](Self::record).
    pub fn try_admit(&self) -> Result<(), Throttled> {
        let now = self.clock.now();
        let epoch = self.epochs.of(now);
        let probability = self.stats_at(epoch).probability;
        self.requests.add(epoch, Late::CountInNewer);
        if probability > 0.0 && self.rng.next_unit() < probability {
            return Err(Throttled {
                probability,
                retry_after: self.epochs.until_next(now),
            });
        }
        Ok(())
    }

    /// The backend answered an admitted request; `accepted` is the caller's
    /// predicate on that answer.
    pub fn record(&self, accepted: bool) {
        if accepted {
            self.accepts.add(self.epochs.of(self.clock.now()), Late::CountInNewer);
        }
    }

    /// Runs `op` unless the request is shed; `accepted` tells whether the
    /// backend accepted its outcome (e.g. `Result::is_ok`, or "not a 503").
    ///
    /// # Errors
    /// [`ThrottleError::Throttled`] when shed (`op` did not run), or the
    /// operation's own error, unchanged.
    pub fn call<T, E>(
        &self,
        op: impl FnOnce() -> Result<T, E>,
        accepted: impl FnOnce(&Result<T, E>) -> bool,
    ) -> Result<T, ThrottleError<E>> {
        self.try_admit().map_err(ThrottleError::Throttled)?;
        let outcome = op();
        self.record(accepted(&outcome));
        outcome.map_err(ThrottleError::Inner)
    }

    /// The async twin of [`call`](Self::call).
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn call_async<T, E, Fut>(
        &self,
        op: impl FnOnce() -> Fut,
        accepted: impl FnOnce(&Result<T, E>) -> bool,
    ) -> Result<T, ThrottleError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        self.try_admit().map_err(ThrottleError::Throttled)?;
        let outcome = op().await;
        self.record(accepted(&outcome));
        outcome.map_err(ThrottleError::Inner)
    }
}

#[cfg(test)]
mod tests;
