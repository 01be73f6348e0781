//! The small traits executors are generic over: how errors and returned
//! values are judged, and whether a clock is at hand. Their defaults cost
//! nothing on the success path.

use std::time::Duration;

use crate::time::Clock;

/// Decides whether an error is retryable.
pub trait RetryPredicate<E> {
    /// `true` if `error` may be retried.
    fn is_retryable(&mut self, error: &E) -> bool;

    /// A server's hint for the wait after `error` (an HTTP `Retry-After`,
    /// a breaker's remaining open time); the wait is at least the hint
    /// capped at `max_delay`. Asked only when an attempt is left.
    fn retry_after(&mut self, _error: &E) -> Option<Duration> {
        None
    }
}

/// The default predicate: every error is retryable.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysRetry;

impl<E> RetryPredicate<E> for AlwaysRetry {
    #[inline(always)]
    fn is_retryable(&mut self, _: &E) -> bool {
        true
    }
}

impl<E, F: FnMut(&E) -> bool> RetryPredicate<E> for F {
    fn is_retryable(&mut self, error: &E) -> bool {
        self(error)
    }
}

/// Decides whether a returned value is a failure (rule `result_predicate`).
pub trait ResultPredicate<T> {
    /// `false` when every value is accepted without asking (the default
    /// [`AcceptAll`]): the executor then skips the judgement entirely.
    const CHECKS: bool = true;

    /// `true` if `value` is a failure worth retrying (an HTTP 503).
    fn is_failure(&mut self, value: &T) -> bool;

    /// The hint a failed value carries (an HTTP `Retry-After`).
    fn retry_after(&mut self, _value: &T) -> Option<Duration> {
        None
    }
}

/// The default result predicate: every returned value is a success.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl<T> ResultPredicate<T> for AcceptAll {
    const CHECKS: bool = false;

    #[inline(always)]
    fn is_failure(&mut self, _: &T) -> bool {
        false
    }
}

impl<T, F: FnMut(&T) -> bool> ResultPredicate<T> for F {
    fn is_failure(&mut self, value: &T) -> bool {
        self(value)
    }
}

/// No clock: a deadline counts the waits only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoClock;

/// A clock, or [`NoClock`].
pub trait MaybeClock {
    /// The current reading, if there is a clock.
    fn reading(&self) -> Option<Duration>;
}

impl MaybeClock for NoClock {
    #[inline(always)]
    fn reading(&self) -> Option<Duration> {
        None
    }
}

impl<C: Clock> MaybeClock for C {
    #[inline]
    fn reading(&self) -> Option<Duration> {
        Some(self.now())
    }
}

/// A shared judgement about an error (a pipeline strategy's filter, called
/// through `&self` because a pipeline is shared).
pub trait ErrorFilter<E> {
    /// Whether `error` matches (is retryable, counts, falls back).
    fn matches(&self, error: &E) -> bool;
}

/// The default error filter: every error matches.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyError;

impl<E> ErrorFilter<E> for AnyError {
    #[inline(always)]
    fn matches(&self, _: &E) -> bool {
        true
    }
}

impl<E, F: Fn(&E) -> bool> ErrorFilter<E> for F {
    fn matches(&self, error: &E) -> bool {
        self(error)
    }
}

/// A shared judgement about a returned value: is it a failure?
pub trait ValueFilter<T> {
    /// `false` when no value is ever a failure (the default [`NoValue`]):
    /// the judgement is skipped entirely.
    const CHECKS: bool = true;

    /// Whether `value` is a failure.
    fn matches(&self, value: &T) -> bool;

    /// The hint a failed value carries (an HTTP `Retry-After`).
    fn retry_after(&self, _value: &T) -> Option<Duration> {
        None
    }
}

/// The default value filter: no value is a failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoValue;

impl<T> ValueFilter<T> for NoValue {
    const CHECKS: bool = false;

    #[inline(always)]
    fn matches(&self, _: &T) -> bool {
        false
    }
}

impl<T, F: Fn(&T) -> bool> ValueFilter<T> for F {
    fn matches(&self, value: &T) -> bool {
        self(value)
    }
}
