//! Breaker configuration and its validation.

use std::time::Duration;

use crate::error::ConfigError;
use crate::rules;
use crate::value::Value;

/// Default failure threshold (the original's).
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;
/// Default recovery timeout: 30 s (the original's class default).
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of concurrent half-open trials.
pub const DEFAULT_HALF_OPEN_MAX_CALLS: u32 = 1;

/// A validated breaker configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BreakerConfig {
    pub(super) failure_threshold: u32,
    pub(super) recovery_timeout: Duration,
    pub(super) half_open_max_calls: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
            half_open_max_calls: DEFAULT_HALF_OPEN_MAX_CALLS,
        }
    }
}

impl BreakerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> BreakerConfigBuilder {
        BreakerConfigBuilder(Self::default())
    }
    /// Consecutive counted failures that open the breaker.
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }
    /// How long the breaker stays open before admitting a trial.
    pub fn recovery_timeout(&self) -> Duration {
        self.recovery_timeout
    }
    /// Concurrent trials admitted while half-open.
    pub fn half_open_max_calls(&self) -> u32 {
        self.half_open_max_calls
    }
}

/// Builds a [`BreakerConfig`]; [`build`](BreakerConfigBuilder::build) validates.
#[derive(Debug, Clone, Copy)]
pub struct BreakerConfigBuilder(BreakerConfig);

impl BreakerConfigBuilder {
    /// Must be >= 1.
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.0.failure_threshold = n;
        self
    }
    /// At most [`rules::MAX_DURATION`].
    pub fn recovery_timeout(mut self, d: Duration) -> Self {
        self.0.recovery_timeout = d;
        self
    }
    /// Must be >= 1.
    pub fn half_open_max_calls(mut self, n: u32) -> Self {
        self.0.half_open_max_calls = n;
        self
    }
    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] for a zero `failure_threshold` or
    /// `half_open_max_calls`, or a `recovery_timeout` beyond
    /// [`rules::MAX_DURATION`].
    pub fn build(self) -> Result<BreakerConfig, ConfigError> {
        Ok(BreakerConfig {
            failure_threshold: rules::count("failure_threshold", Value::from(self.0.failure_threshold), 1)?,
            recovery_timeout: rules::bounded_duration("recovery_timeout", self.0.recovery_timeout)?,
            half_open_max_calls: rules::count("half_open_max_calls", Value::from(self.0.half_open_max_calls), 1)?,
        })
    }
}
