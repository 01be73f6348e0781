//! The one error type of a pipeline, and the rules for the errors the
//! library itself creates.

use std::fmt;
use std::time::Duration;

use crate::breaker::Rejected;
use crate::limiter::RateLimited;
use crate::throttle::Throttled;
use crate::timeout::TimedOut;

/// Why a pipeline call failed: the operation's own error, unchanged, or an
/// error a strategy created.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineError<E> {
    /// The operation's own error (or a fallback's), unchanged.
    Inner(E),
    /// The breaker did not admit the call.
    BreakerOpen(Rejected),
    /// A timeout expired (the total one or an attempt's) and its call was
    /// cancelled.
    TimedOut(TimedOut),
    /// The bulkhead had no free slot.
    BulkheadFull,
    /// The rate limiter had no cell to give now.
    RateLimited(RateLimited),
    /// The adaptive throttle shed the request locally.
    Throttled(Throttled),
}

impl<E> PipelineError<E> {
    /// The operation's own error, if that is what this is.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(e) => Some(e),
            _ => None,
        }
    }

    /// Which library error this is (`None` for the operation's own).
    pub fn library(&self) -> Option<LibraryError> {
        match self {
            Self::Inner(_) => None,
            Self::BreakerOpen(_) => Some(LibraryError::BreakerOpen),
            Self::TimedOut(_) => Some(LibraryError::TimedOut),
            Self::BulkheadFull => Some(LibraryError::BulkheadFull),
            Self::RateLimited(_) => Some(LibraryError::RateLimited),
            Self::Throttled(_) => Some(LibraryError::Throttled),
        }
    }

    /// The wait a retry honours after this error (rule `rejection_hint`):
    /// a breaker's remaining open time, or the time until the rate
    /// limiter's cell conforms. (A throttle's suggestion is not one: the
    /// next draw may admit the request, so the retry's own backoff paces it.)
    pub fn retry_after(&self) -> Option<Duration> {
        let (kind, wait) = match self {
            Self::BreakerOpen(r) => (LibraryError::BreakerOpen, r.retry_after),
            Self::RateLimited(r) => (LibraryError::RateLimited, r.retry_after),
            Self::Throttled(t) => (LibraryError::Throttled, t.retry_after),
            _ => return None,
        };
        kind.retry_hint(wait)
    }
}

impl<E: fmt::Display> fmt::Display for PipelineError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inner(e) => e.fmt(f),
            Self::BreakerOpen(r) => r.fmt(f),
            Self::TimedOut(t) => t.fmt(f),
            Self::BulkheadFull => f.write_str("bulkhead full"),
            Self::RateLimited(r) => r.fmt(f),
            Self::Throttled(t) => t.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for PipelineError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Inner(e) => Some(e),
            Self::BreakerOpen(r) => Some(r),
            Self::TimedOut(t) => Some(t),
            Self::BulkheadFull => None,
            Self::RateLimited(r) => Some(r),
            Self::Throttled(t) => Some(t),
        }
    }
}

/// The errors the library creates, and rule `library_errors`: how every
/// strategy of a pipeline treats them. The user's filters judge the
/// user's own errors only; these are decided here, for every language.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LibraryError {
    /// A breaker rejected the call.
    BreakerOpen,
    /// A timeout expired.
    TimedOut,
    /// A bulkhead had no free slot.
    BulkheadFull,
    /// A rate limiter had no cell to give now.
    RateLimited,
    /// An adaptive throttle shed the request.
    Throttled,
}

impl LibraryError {
    /// Every library error, in declaration order.
    pub const ALL: [LibraryError; 5] = [
        Self::BreakerOpen,
        Self::TimedOut,
        Self::BulkheadFull,
        Self::RateLimited,
        Self::Throttled,
    ];

    /// `"breaker_open"`, `"timed_out"`, `"bulkhead_full"`, `"rate_limited"`
    /// or `"throttled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BreakerOpen => "breaker_open",
            Self::TimedOut => "timed_out",
            Self::BulkheadFull => "bulkhead_full",
            Self::RateLimited => "rate_limited",
            Self::Throttled => "throttled",
        }
    }

    /// A retry retries each of them (Polly's default predicate does too):
    /// an open breaker and a rate limiter with their wait as the hint
    /// ([`PipelineError::retry_after`]), so a retry waits them out or, past
    /// its deadline, gives up at once.
    pub fn retryable(self) -> bool {
        true
    }

    /// A breaker counts a timed-out attempt as a failure of the
    /// dependency; a bulkhead, rate limiter or throttle rejection is local
    /// load, not the dependency's failure, and counts as neither.
    pub fn counts_as_breaker_failure(self) -> bool {
        matches!(self, Self::TimedOut)
    }

    /// Rule `rejection_hint` for a binding that carries the library's
    /// error as its own type (an exception with a `retry_after`): the wait a
    /// retry honours after this error when the strategy suggested `wait`.
    /// An open breaker's remaining open time and a rate limiter's exact wait
    /// are hints; a throttle's suggestion is not (the next draw may admit
    /// the request, so the retry's own backoff paces it); a zero wait is no
    /// hint. [`PipelineError::retry_after`] is this rule on core's own
    /// errors.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience_core::LibraryError;
    ///
    /// let wait = Duration::from_millis(100);
    /// assert_eq!(LibraryError::RateLimited.retry_hint(wait), Some(wait));
    /// assert_eq!(LibraryError::Throttled.retry_hint(wait), None);
    /// assert_eq!(LibraryError::BreakerOpen.retry_hint(Duration::ZERO), None);
    /// ```
    pub fn retry_hint(self, wait: Duration) -> Option<Duration> {
        match self {
            Self::BreakerOpen | Self::RateLimited if !wait.is_zero() => Some(wait),
            _ => None,
        }
    }

    /// A fallback answers for each of them (Polly's default too).
    pub fn falls_back(self) -> bool {
        true
    }

    /// A hedged copy that ended with one of them failed: the next copy
    /// starts at once.
    pub fn hedge_failed(self) -> bool {
        true
    }
}

impl fmt::Display for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
