//! Rate limiter configuration and its validation.

use std::time::Duration;

use crate::error::ConfigError;
use crate::rules::{self, Unit, MAX_DURATION};
use crate::value::Value;

/// Default `rate`: cells per `per`.
pub const DEFAULT_RATE: u32 = 100;
/// Default `per`: one second.
pub const DEFAULT_PER: Duration = Duration::from_secs(1);
/// Default `burst`: cells that may be taken at once after a quiet spell.
pub const DEFAULT_BURST: u32 = 10;

/// A validated GCRA configuration: `rate` cells per `per`, up to `burst`
/// at once.
///
/// The emission interval — the time one cell is worth — is `per / rate`
/// rounded *up* to the nanosecond, so the limiter never admits more than
/// `rate` per `per` (governor and redis-cell round down).
///
/// ```
/// use std::time::Duration;
/// use resilience_core::RateLimiterConfig;
/// let config = RateLimiterConfig::builder().rate(3).per(Duration::from_secs(1)).burst(2).build()?;
/// assert_eq!(config.emission_interval(), Duration::from_nanos(333_333_334));
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimiterConfig {
    rate: u32,
    per: Duration,
    burst: u32,
    interval_ns: u64,
}

impl Default for RateLimiterConfig {
    fn default() -> Self {
        Self {
            rate: DEFAULT_RATE,
            per: DEFAULT_PER,
            burst: DEFAULT_BURST,
            interval_ns: interval_ns(DEFAULT_RATE, DEFAULT_PER),
        }
    }
}

/// `per / rate` in nanoseconds, rounded up (at least 1).
fn interval_ns(rate: u32, per: Duration) -> u64 {
    let per_ns = u64::try_from(per.as_nanos()).unwrap_or(u64::MAX);
    per_ns.div_ceil(u64::from(rate.max(1))).max(1)
}

impl RateLimiterConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> RateLimiterConfigBuilder {
        RateLimiterConfigBuilder {
            rate: DEFAULT_RATE,
            per: DEFAULT_PER,
            burst: DEFAULT_BURST,
        }
    }

    /// Builds from a binding's values, each through its rule (`rate`: rule
    /// `count` from 1; `per`: `duration_range` above zero, in `unit`;
    /// `burst`: `burst`). `None` takes the default. Parameters are checked
    /// in that order; the first error is returned.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first invalid parameter.
    pub fn from_values(
        rate: Option<Value>,
        per: Option<Value>,
        burst: Option<Value>,
        unit: Unit,
    ) -> Result<Self, ConfigError> {
        let rate = rate.map_or(Ok(DEFAULT_RATE), |v| rules::count("rate", v, 1))?;
        let per = per.map_or(Ok(DEFAULT_PER), |v| per_rule(v, unit))?;
        let burst = burst.unwrap_or(Value::from(DEFAULT_BURST));
        Self::validated(rate, per, burst)
    }

    fn validated(rate: u32, per: Duration, burst: Value) -> Result<Self, ConfigError> {
        let interval_ns = interval_ns(rate, per);
        // Refilling the whole burst must fit the clock's 584 years.
        let max_burst = u32::try_from(u64::MAX.checked_div(interval_ns).unwrap_or(1)).unwrap_or(u32::MAX);
        Ok(Self {
            rate,
            per,
            burst: rules::count_in("burst", burst, 1, max_burst)?,
            interval_ns,
        })
    }

    /// Cells per `per`.
    pub fn rate(&self) -> u32 {
        self.rate
    }
    /// The period `rate` is counted over.
    pub fn per(&self) -> Duration {
        self.per
    }
    /// Cells that may be taken at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }
    /// The time one cell is worth: `per / rate`, rounded up to the nanosecond.
    pub fn emission_interval(&self) -> Duration {
        Duration::from_nanos(self.interval_ns)
    }
    /// The lease size of a shared limiter when none is given: a quarter of
    /// the burst, rounded up (burst 10: 3), so four processes with full
    /// pools hold one burst.
    pub fn default_lease_size(&self) -> u32 {
        crate::lease::quarter(self.burst)
    }
    /// Rule `lease_size` for this limiter: an integer in `1..=burst`;
    /// `None` is [`default_lease_size`](Self::default_lease_size).
    ///
    /// # Errors
    /// [`ConfigError`] naming `lease_size`.
    pub fn lease_size(&self, value: Option<Value>) -> Result<u32, ConfigError> {
        value.map_or(Ok(self.default_lease_size()), |v| rules::lease_size(v, self.burst))
    }
    pub(crate) fn interval_ns(&self) -> u64 {
        self.interval_ns
    }
    /// The burst tolerance `T · (burst − 1)`: how far ahead of now the TAT
    /// may be for one more cell to conform (fits u64: rule `burst_refill`).
    pub(crate) fn tolerance_ns(&self) -> u64 {
        self.interval_ns.saturating_mul(u64::from(self.burst.saturating_sub(1)))
    }
}

fn per_rule(v: Value, unit: Unit) -> Result<Duration, ConfigError> {
    rules::duration_between("per", v, unit, Duration::from_nanos(1), MAX_DURATION)
}

/// Builds a [`RateLimiterConfig`]; [`build`](RateLimiterConfigBuilder::build) validates.
#[derive(Debug, Clone, Copy)]
pub struct RateLimiterConfigBuilder {
    rate: u32,
    per: Duration,
    burst: u32,
}

impl RateLimiterConfigBuilder {
    /// Cells per `per`; at least 1.
    pub fn rate(mut self, n: u32) -> Self {
        self.rate = n;
        self
    }
    /// Above zero, at most [`rules::MAX_DURATION`].
    pub fn per(mut self, d: Duration) -> Self {
        self.per = d;
        self
    }
    /// At least 1; refilling it (`burst × per / rate`) must fit 584 years.
    pub fn burst(mut self, n: u32) -> Self {
        self.burst = n;
        self
    }
    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] for a zero `rate` or `burst`, a zero `per`, or a
    /// burst that would take more than 584 years to refill.
    pub fn build(self) -> Result<RateLimiterConfig, ConfigError> {
        let rate = rules::count("rate", Value::from(self.rate), 1)?;
        let per = per_rule(Value::Duration(self.per), Unit::Nanoseconds)?;
        RateLimiterConfig::validated(rate, per, Value::from(self.burst))
    }
}
