//! Adaptive throttle configuration and its validation.

use std::time::Duration;

use crate::error::ConfigError;
use crate::rules::{self, Unit, MAX_DURATION};
use crate::value::Value;

/// Default `k`: the SRE book's multiplier (the backend may reject up to
/// half of what it is sent before the client starts shedding).
pub const DEFAULT_THROTTLE_K: f64 = 2.0;
/// Default `window`: the SRE book's two minutes of history.
pub const DEFAULT_THROTTLE_WINDOW: Duration = Duration::from_secs(120);
/// The shortest and longest `window` (ten buckets of at least 100 ms).
pub const THROTTLE_WINDOW_RANGE: (Duration, Duration) = (Duration::from_secs(1), MAX_DURATION);

/// A validated adaptive throttle configuration.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::AdaptiveThrottleConfig;
/// let config = AdaptiveThrottleConfig::builder().k(1.5).window(Duration::from_secs(60)).seed(7).build()?;
/// assert_eq!(config.k(), 1.5);
/// assert!(AdaptiveThrottleConfig::builder().k(0.0).build().is_err());
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveThrottleConfig {
    k: f64,
    window: Duration,
    seed: Option<u64>,
}

impl Default for AdaptiveThrottleConfig {
    fn default() -> Self {
        Self {
            k: DEFAULT_THROTTLE_K,
            window: DEFAULT_THROTTLE_WINDOW,
            seed: None,
        }
    }
}

impl AdaptiveThrottleConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> AdaptiveThrottleConfigBuilder {
        AdaptiveThrottleConfigBuilder(Self::default())
    }

    /// Builds from a binding's values, each through its rule (`k`: rule
    /// `positive_number`; `window`: `duration_range` in `unit`; `seed`:
    /// `seed`). `None` takes the default. Parameters are checked in that
    /// order; the first error is returned.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first invalid parameter.
    pub fn from_values(
        k: Option<Value>,
        window: Option<Value>,
        seed: Option<Value>,
        unit: Unit,
    ) -> Result<Self, ConfigError> {
        let mut b = Self::builder();
        if let Some(v) = k {
            b = b.k(rules::positive_number("k", v)?);
        }
        if let Some(v) = window {
            b = b.window(window_rule(v, unit)?);
        }
        if let Some(v) = seed {
            b.0.seed = rules::seed(v)?;
        }
        b.build()
    }

    /// The multiplier K: requests beyond K × accepts are shed.
    pub fn k(&self) -> f64 {
        self.k
    }
    /// How much history counts.
    pub fn window(&self) -> Duration {
        self.window
    }
    /// The seed of the rejection draws (`None`: from the OS).
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }
}

fn window_rule(v: Value, unit: Unit) -> Result<Duration, ConfigError> {
    let (min, max) = THROTTLE_WINDOW_RANGE;
    rules::duration_between("window", v, unit, min, max)
}

/// Builds an [`AdaptiveThrottleConfig`]; [`build`](AdaptiveThrottleConfigBuilder::build) validates.
#[derive(Debug, Clone, Copy)]
pub struct AdaptiveThrottleConfigBuilder(AdaptiveThrottleConfig);

impl AdaptiveThrottleConfigBuilder {
    /// A finite number above zero.
    pub fn k(mut self, k: f64) -> Self {
        self.0.k = k;
        self
    }
    /// At least 1 s (it is split into ten buckets).
    pub fn window(mut self, d: Duration) -> Self {
        self.0.window = d;
        self
    }
    /// Seeds the rejection draws for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = Some(seed);
        self
    }
    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] for a `k` that is not a finite number above zero or a
    /// `window` below 1 s.
    pub fn build(self) -> Result<AdaptiveThrottleConfig, ConfigError> {
        Ok(AdaptiveThrottleConfig {
            k: rules::positive_number("k", Value::Float(self.0.k))?,
            window: window_rule(Value::Duration(self.0.window), Unit::Nanoseconds)?,
            seed: self.0.seed,
        })
    }
}
