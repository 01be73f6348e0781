//! Typed events; see [`Event`].

use std::fmt;
use std::time::Duration;

use crate::breaker::{Rejected, Transition};
use crate::limiter::RateLimited;
use crate::pipeline::StrategyKind;
use crate::retry_state::GiveUpReason;
use crate::throttle::Throttled;

/// What failed, as the strategy that reacted saw it: an error, or a
/// returned value a result predicate called a failure.
#[non_exhaustive]
#[derive(Debug, PartialEq)]
pub enum Cause<'a, T, E> {
    /// The attempt failed with this error.
    Error(&'a E),
    /// The attempt returned this value, judged a failure.
    Result(&'a T),
}

impl<T, E> Clone for Cause<'_, T, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, E> Copy for Cause<'_, T, E> {}

/// One thing a strategy did.
///
/// Typed events: what a strategy or a pipeline did, told to one listener.
///
/// Every event comes from a core decision (a [`RetryDecision`], a breaker
/// [`Transition`] or [`Rejected`], a timeout, a hedging step, a fallback
/// step, a bulkhead, rate limiter or throttle rejection), so every binding reports the same sequence
/// for the same run: the conformance kind `events` pins it. Bindings build
/// their own event objects (Python dataclasses, JavaScript objects with a
/// `type`, a C tagged struct) from the same decisions and take the names
/// from [`EventKind::as_str`].
///
/// No listener, no cost: the default [`NoEvents`] does nothing and is
/// compiled away, so the success path is unchanged.
///
/// [`RetryDecision`]: crate::RetryDecision
#[non_exhaustive]
#[derive(Debug, PartialEq)]
pub enum Event<'a, T, E> {
    /// Attempt `attempt` failed; the next runs after `delay`.
    RetryScheduled {
        /// The attempt that failed (1-based).
        attempt: u32,
        /// The wait before the next attempt.
        delay: Duration,
        /// Why it failed.
        cause: Cause<'a, T, E>,
    },
    /// The retry sequence ended without success (on a returned value, the
    /// value is still returned).
    GaveUp {
        /// How many attempts ran.
        attempts: u32,
        /// Why it stopped.
        reason: GiveUpReason,
    },
    /// A call through the breaker changed its state.
    BreakerTransition(Transition),
    /// The breaker did not admit a call.
    BreakerRejected(Rejected),
    /// A timeout expired and its call was cancelled.
    Timeout {
        /// Which timeout: [`StrategyKind::TotalTimeout`] or
        /// [`StrategyKind::AttemptTimeout`].
        strategy: StrategyKind,
        /// The timeout.
        after: Duration,
    },
    /// Hedged attempt `attempt` (2 or more) started.
    HedgeStarted {
        /// The attempt started (the first, unhedged one is 1).
        attempt: u32,
    },
    /// Fallback number `index` (0-based) is being called.
    FallbackUsed {
        /// Which fallback.
        index: usize,
    },
    /// The bulkhead had no free slot.
    BulkheadRejected,
    /// The rate limiter had no cell to give now.
    RateLimited(RateLimited),
    /// The adaptive throttle shed the request.
    Throttled(Throttled),
}

impl<T, E> Clone for Event<'_, T, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, E> Copy for Event<'_, T, E> {}

/// The type of an [`Event`], with the stable name every binding uses (the
/// `type` of the conformance vectors' event records).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `retry_scheduled`
    RetryScheduled,
    /// `gave_up`
    GaveUp,
    /// `breaker_transition`
    BreakerTransition,
    /// `breaker_rejected`
    BreakerRejected,
    /// `timeout`
    Timeout,
    /// `hedge_started`
    HedgeStarted,
    /// `fallback_used`
    FallbackUsed,
    /// `bulkhead_rejected`
    BulkheadRejected,
    /// `rate_limited`
    RateLimited,
    /// `throttled`
    Throttled,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 10] = [
        Self::RetryScheduled,
        Self::GaveUp,
        Self::BreakerTransition,
        Self::BreakerRejected,
        Self::Timeout,
        Self::HedgeStarted,
        Self::FallbackUsed,
        Self::BulkheadRejected,
        Self::RateLimited,
        Self::Throttled,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetryScheduled => "retry_scheduled",
            Self::GaveUp => "gave_up",
            Self::BreakerTransition => "breaker_transition",
            Self::BreakerRejected => "breaker_rejected",
            Self::Timeout => "timeout",
            Self::HedgeStarted => "hedge_started",
            Self::FallbackUsed => "fallback_used",
            Self::BulkheadRejected => "bulkhead_rejected",
            Self::RateLimited => "rate_limited",
            Self::Throttled => "throttled",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<T, E> Event<'_, T, E> {
    /// The event's type.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::RetryScheduled { .. } => EventKind::RetryScheduled,
            Self::GaveUp { .. } => EventKind::GaveUp,
            Self::BreakerTransition(_) => EventKind::BreakerTransition,
            Self::BreakerRejected(_) => EventKind::BreakerRejected,
            Self::Timeout { .. } => EventKind::Timeout,
            Self::HedgeStarted { .. } => EventKind::HedgeStarted,
            Self::FallbackUsed { .. } => EventKind::FallbackUsed,
            Self::BulkheadRejected => EventKind::BulkheadRejected,
            Self::RateLimited(_) => EventKind::RateLimited,
            Self::Throttled(_) => EventKind::Throttled,
        }
    }
}

/// Receives events. Any `Fn(&Event<T, E>)` is a listener; a listener that
/// must count or collect uses interior mutability (it may be shared by the
/// concurrent attempts of a hedge).
///
/// ```
/// use std::cell::RefCell;
/// use resilience_core::{Event, Jitter, ManualClock, Retry, RetryPolicy};
/// let policy = RetryPolicy::builder().jitter(Jitter::None).build()?;
/// let seen = RefCell::new(Vec::new());
/// let _ = Retry::new(&policy, ManualClock::new())
///     .on_event(|e: &Event<'_, u32, &str>| seen.borrow_mut().push(e.kind().as_str()))
///     .call(|attempt| if attempt < 2 { Err("flaky") } else { Ok(attempt) });
/// assert_eq!(*seen.borrow(), ["retry_scheduled"]);
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
pub trait Listener<T, E> {
    /// Something happened.
    fn on_event(&self, event: &Event<'_, T, E>);
}

/// No listener: every event is dropped at compile time.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl<T, E> Listener<T, E> for NoEvents {
    #[inline(always)]
    fn on_event(&self, _: &Event<'_, T, E>) {}
}

impl<T, E, F: Fn(&Event<'_, T, E>)> Listener<T, E> for F {
    #[inline]
    fn on_event(&self, event: &Event<'_, T, E>) {
        self(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_distinct() {
        let names: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        let e: Event<'_, (), ()> = Event::FallbackUsed { index: 1 };
        assert_eq!(e.kind().to_string(), "fallback_used");
    }
}
