//! The strategies a pipeline can hold, and the one order they run in.

use std::fmt;
use std::str::FromStr;

use crate::error::{Allowed, ConfigError, ConfigErrorKind};
use crate::value::Value;

/// A strategy of a pipeline.
///
/// [`StrategyKind::ORDER`] is the order every pipeline runs its strategies
/// in, outer to inner, in every language: a fallback answers for
/// everything inside it; the total timeout bounds the whole retry
/// sequence; each retry attempt goes through the breaker (so an open
/// breaker fails fast and its remaining open time paces the retry); the
/// attempt timeout bounds one attempt, hedged copies included; each
/// hedged copy asks the rate limiter for its own cell (a limited call takes
/// no bulkhead slot) and takes its own bulkhead slot; the adaptive throttle
/// sits right around the operation, so it counts exactly the requests the
/// backend sees. (A retry budget is not a layer: it belongs to the retry's
/// policy.)
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StrategyKind {
    /// `fallback`: answers when everything inside failed.
    Fallback,
    /// `total_timeout`: bounds the whole call, retries included.
    TotalTimeout,
    /// `retry`: runs the inside again after a failure.
    Retry,
    /// `breaker`: stops calling a failing dependency.
    Breaker,
    /// `attempt_timeout`: bounds one attempt.
    AttemptTimeout,
    /// `hedging`: starts extra copies of a slow attempt.
    Hedging,
    /// `rate_limiter`: bounds the rate of calls (fails fast when limited).
    RateLimiter,
    /// `bulkhead`: bounds concurrent calls.
    Bulkhead,
    /// `throttle`: sheds requests locally while the backend rejects many.
    Throttle,
}

impl StrategyKind {
    /// Every strategy, outer to inner: the only order a pipeline accepts.
    pub const ORDER: [StrategyKind; 9] = [
        Self::Fallback,
        Self::TotalTimeout,
        Self::Retry,
        Self::Breaker,
        Self::AttemptTimeout,
        Self::Hedging,
        Self::RateLimiter,
        Self::Bulkhead,
        Self::Throttle,
    ];

    /// The names of [`ORDER`](Self::ORDER), as vectors and bindings spell them.
    pub const NAMES: [&'static str; 9] = [
        "fallback",
        "total_timeout",
        "retry",
        "breaker",
        "attempt_timeout",
        "hedging",
        "rate_limiter",
        "bulkhead",
        "throttle",
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fallback => "fallback",
            Self::TotalTimeout => "total_timeout",
            Self::Retry => "retry",
            Self::Breaker => "breaker",
            Self::AttemptTimeout => "attempt_timeout",
            Self::Hedging => "hedging",
            Self::RateLimiter => "rate_limiter",
            Self::Bulkhead => "bulkhead",
            Self::Throttle => "throttle",
        }
    }

    /// Whether the strategy needs a runtime that can abandon a running
    /// call (timeouts and hedging): blocking pipelines cannot hold it.
    pub fn needs_cancellation(self) -> bool {
        matches!(self, Self::TotalTimeout | Self::AttemptTimeout | Self::Hedging)
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StrategyKind {
    type Err = ConfigError;

    /// One of [`StrategyKind::NAMES`]; anything else is `unknown_name`
    /// (parameter `strategy`).
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        Self::ORDER.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::UnknownName,
                "strategy",
                Allowed::OneOf(&Self::NAMES),
                Value::text(s),
            )
        })
    }
}
