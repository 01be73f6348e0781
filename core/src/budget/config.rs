//! Retry budget configuration and its validation.

use std::time::Duration;

use crate::error::ConfigError;
use crate::rules::{self, Unit};
use crate::value::Value;

/// Default `ttl`: how long a first attempt or a retry counts (Finagle's and
/// tower's 10 s).
pub const DEFAULT_BUDGET_TTL: Duration = Duration::from_secs(10);
/// Default `min_retries_per_sec`: the floor that lets a quiet client retry.
pub const DEFAULT_MIN_RETRIES_PER_SEC: u32 = 10;
/// Default `retry_ratio`: retries may be a fifth of first attempts.
pub const DEFAULT_RETRY_RATIO: f64 = 0.2;
/// The shortest and longest `ttl` (Finagle's and tower's bounds).
pub const BUDGET_TTL_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

/// A validated retry budget configuration.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::RetryBudgetConfig;
/// let config = RetryBudgetConfig::builder().ttl(Duration::from_secs(5)).retry_ratio(0.1).build()?;
/// assert_eq!(config.min_retries_per_sec(), 10);
/// assert!(RetryBudgetConfig::builder().retry_ratio(0.0).build().is_err());
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudgetConfig {
    ttl: Duration,
    min_retries_per_sec: u32,
    retry_ratio: f64,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_BUDGET_TTL,
            min_retries_per_sec: DEFAULT_MIN_RETRIES_PER_SEC,
            retry_ratio: DEFAULT_RETRY_RATIO,
        }
    }
}

impl RetryBudgetConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> RetryBudgetConfigBuilder {
        RetryBudgetConfigBuilder(Self::default())
    }

    /// Builds from a binding's values, each through its rule (`ttl`: rule
    /// `duration_range` in `unit`; `min_retries_per_sec`: `count` from 0;
    /// `retry_ratio`: `ratio`). `None` takes the default. Parameters are
    /// checked in that order; the first error is returned.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first invalid parameter.
    pub fn from_values(
        ttl: Option<Value>,
        min_retries_per_sec: Option<Value>,
        retry_ratio: Option<Value>,
        unit: Unit,
    ) -> Result<Self, ConfigError> {
        let mut b = Self::builder();
        if let Some(v) = ttl {
            b = b.ttl(ttl_rule(v, unit)?);
        }
        if let Some(v) = min_retries_per_sec {
            b = b.min_retries_per_sec(rules::count("min_retries_per_sec", v, 0)?);
        }
        if let Some(v) = retry_ratio {
            b = b.retry_ratio(rules::ratio("retry_ratio", v)?);
        }
        b.build()
    }

    /// How long a first attempt or a retry counts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
    /// Retries allowed per second of `ttl` whatever the traffic.
    pub fn min_retries_per_sec(&self) -> u32 {
        self.min_retries_per_sec
    }
    /// Retries allowed per first attempt, on top of the floor.
    pub fn retry_ratio(&self) -> f64 {
        self.retry_ratio
    }
    /// The lease size of a shared budget when none is given: a quarter of
    /// `min_retries_per_sec`, rounded up, at least 1 (the default floor
    /// of 10: 3), so four processes with full pools hold one second's floor.
    pub fn default_lease_size(&self) -> u32 {
        crate::lease::quarter(self.min_retries_per_sec)
    }
    /// Rule `lease_size` for this budget: an integer in `1..=4294967295`;
    /// `None` is [`default_lease_size`](Self::default_lease_size).
    ///
    /// # Errors
    /// [`ConfigError`] naming `lease_size`.
    pub fn lease_size(&self, value: Option<Value>) -> Result<u32, ConfigError> {
        value.map_or(Ok(self.default_lease_size()), |v| rules::lease_size(v, u32::MAX))
    }
}

fn ttl_rule(v: Value, unit: Unit) -> Result<Duration, ConfigError> {
    let (min, max) = BUDGET_TTL_RANGE;
    rules::duration_between("ttl", v, unit, min, max)
}

/// Builds a [`RetryBudgetConfig`]; [`build`](RetryBudgetConfigBuilder::build) validates.
#[derive(Debug, Clone, Copy)]
pub struct RetryBudgetConfigBuilder(RetryBudgetConfig);

impl RetryBudgetConfigBuilder {
    /// In [`BUDGET_TTL_RANGE`] (1 s to 60 s).
    pub fn ttl(mut self, d: Duration) -> Self {
        self.0.ttl = d;
        self
    }
    /// Any count, 0 included (0: retries only from the ratio).
    pub fn min_retries_per_sec(mut self, n: u32) -> Self {
        self.0.min_retries_per_sec = n;
        self
    }
    /// In `(0, 1]`; resolved to the nearest millionth.
    pub fn retry_ratio(mut self, ratio: f64) -> Self {
        self.0.retry_ratio = ratio;
        self
    }
    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] for a `ttl` outside 1 s..=60 s or a `retry_ratio`
    /// outside `(0, 1]` (NaN included).
    pub fn build(self) -> Result<RetryBudgetConfig, ConfigError> {
        Ok(RetryBudgetConfig {
            ttl: ttl_rule(Value::Duration(self.0.ttl), Unit::Nanoseconds)?,
            min_retries_per_sec: rules::count("min_retries_per_sec", Value::from(self.0.min_retries_per_sec), 0)?,
            retry_ratio: rules::ratio("retry_ratio", Value::Float(self.0.retry_ratio))?,
        })
    }
}
