//! The retry policy: configuration plus the pure decisions derived from it.

use std::time::Duration;

use crate::backoff::{apply_jitter, raw_delay, BackoffStrategy, Jitter};
use crate::error::ConfigError;
use crate::retry_state::RetryState;
use crate::rng::{JitterRng, JitterSource};
use crate::rules;
use crate::value::Value;

/// Default `max_attempts` (the original's).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default `base_delay`: 1 s.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_secs(1);
/// Default `max_delay`: 60 s.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(60);

/// The HTTP status codes a retrying HTTP client retries by default: the
/// original middleware's `{500, 502, 503, 504}`. Every binding's HTTP helper
/// uses these, so the same response is retried in every language.
pub const DEFAULT_RETRYABLE_STATUS_CODES: [u16; 4] = [500, 502, 503, 504];

/// How many times to try, and how long to wait in between.
///
/// Immutable once built; jitter draws from an internal lock-free generator
/// (or from any `rand_core::Rng` given to [`RetryPolicyBuilder::rng`]), so a
/// policy can be shared across threads.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{BackoffStrategy, Jitter, RetryPolicy};
/// let policy = RetryPolicy::builder()
///     .max_attempts(4)
///     .backoff(BackoffStrategy::Exponential)
///     .base_delay(Duration::from_millis(100))
///     .jitter(Jitter::None)
///     .build()?;
/// assert_eq!(policy.calculate_delay(3), Duration::from_millis(400));
/// assert!(policy.should_retry(3, true));
/// assert!(!policy.should_retry(4, true)); // the fourth attempt was the last
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    backoff: BackoffStrategy,
    base_delay: Duration,
    max_delay: Duration,
    jitter: Jitter,
    retryable_status_codes: Option<Vec<u16>>,
    seed: Option<u64>,
    rng: JitterSource,
}

impl Default for RetryPolicy {
    /// The original's defaults: 3 attempts, exponential from 1 s capped at
    /// 60 s, proportional jitter, every error retryable, no status codes.
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: BackoffStrategy::Exponential,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            jitter: Jitter::Proportional,
            retryable_status_codes: None,
            seed: None,
            rng: JitterSource::BuiltIn(JitterRng::from_entropy()),
        }
    }
}

impl PartialEq for RetryPolicy {
    /// Policies are equal when their configuration is; the generator's
    /// position is not part of the value.
    fn eq(&self, other: &Self) -> bool {
        self.max_attempts == other.max_attempts
            && self.backoff == other.backoff
            && self.base_delay == other.base_delay
            && self.max_delay == other.max_delay
            && self.jitter == other.jitter
            && self.retryable_status_codes == other.retryable_status_codes
            && self.seed == other.seed
    }
}

impl RetryPolicy {
    /// A builder starting from the defaults.
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder::default()
    }

    /// Total attempts allowed, the first included (>= 1).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// The backoff strategy.
    pub fn backoff(&self) -> BackoffStrategy {
        self.backoff
    }
    /// The base delay.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }
    /// The cap on the un-jittered delay.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }
    /// The jitter mode.
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }
    /// The HTTP status codes worth retrying (`None`: never retry a response).
    pub fn retryable_status_codes(&self) -> Option<&[u16]> {
        self.retryable_status_codes.as_deref()
    }
    /// The jitter seed, if one was given (`None` also when a user generator
    /// was given instead).
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// The delay before retrying after failed attempt `attempt`, with jitter
    /// (decorrelated jitter treats each call as the start of a sequence; use
    /// [`RetryState`] for a whole sequence). Attempts `<= 0` give zero.
    pub fn calculate_delay(&self, attempt: i64) -> Duration {
        self.delay_after(attempt, None)
    }

    /// The delay before retrying after failed attempt `attempt`, capped at
    /// `max_delay`, without jitter.
    pub fn raw_delay(&self, attempt: i64) -> Duration {
        raw_delay(self.backoff, self.base_delay, self.max_delay, attempt)
    }

    /// The jittered delay given the previous delay of the same sequence.
    pub(crate) fn delay_after(&self, attempt: i64, previous: Option<Duration>) -> Duration {
        if attempt <= 0 {
            return Duration::ZERO;
        }
        let capped = self.raw_delay(attempt);
        apply_jitter(
            self.jitter,
            capped,
            self.base_delay,
            self.max_delay,
            previous,
            &self.rng,
        )
    }

    /// Whether to retry after failed attempt `attempt`: false once
    /// `attempt >= max_attempts`, else whether the error was `retryable`.
    pub fn should_retry(&self, attempt: i64, retryable: bool) -> bool {
        attempt < i64::from(self.max_attempts) && retryable
    }

    /// Whether to retry a response with `status` after attempt `attempt`:
    /// false once `attempt >= max_attempts`; true iff the status is in
    /// `retryable_status_codes` (never when that is `None`).
    pub fn should_retry_status(&self, status: i64, attempt: i64) -> bool {
        attempt < i64::from(self.max_attempts)
            && self
                .retryable_status_codes
                .as_deref()
                .is_some_and(|codes| codes.iter().any(|&c| i64::from(c) == status))
    }

    /// The delay to honour for a server's `Retry-After` hint: the hint capped
    /// at `max_delay`.
    pub fn cap_retry_after(&self, hint: Duration) -> Duration {
        hint.min(self.max_delay)
    }

    /// A fresh retry sequence (attempt 1 about to run).
    pub fn start(&self) -> RetryState {
        RetryState::new()
    }
}

/// Builds a [`RetryPolicy`]; [`RetryPolicyBuilder::build`] validates.
#[derive(Debug, Clone)]
pub struct RetryPolicyBuilder {
    max_attempts: u32,
    backoff: BackoffStrategy,
    base_delay: Duration,
    max_delay: Duration,
    jitter: Jitter,
    retryable_status_codes: Option<Vec<u16>>,
    seed: Option<u64>,
    user_rng: Option<JitterSource>,
}

impl Default for RetryPolicyBuilder {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: BackoffStrategy::Exponential,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            jitter: Jitter::Proportional,
            retryable_status_codes: None,
            seed: None,
            user_rng: None,
        }
    }
}

impl RetryPolicyBuilder {
    /// Total attempts, the first included; must be >= 1.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }
    /// The backoff strategy.
    pub fn backoff(mut self, strategy: BackoffStrategy) -> Self {
        self.backoff = strategy;
        self
    }
    /// The base delay.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }
    /// The cap on the un-jittered delay; must be >= `base_delay`.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }
    /// The jitter mode.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }
    /// HTTP status codes worth retrying (each in 100..=599, checked by `build`).
    pub fn retryable_status_codes(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.retryable_status_codes = Some(codes.into_iter().collect());
        self
    }
    /// Seeds the jitter generator for reproducible delays.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Seeds the jitter generator, or from the OS when `None`.
    pub fn maybe_seed(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }
    /// Draws jitter from any `rand` generator (a test's, a simulation's)
    /// instead of the built-in one; draws then take a lock. The built-in
    /// generator stays the default because the same seed gives it the same
    /// delays in every language.
    ///
    /// ```
    /// use resilience_core::{JitterRng, RetryPolicy};
    /// let a = RetryPolicy::builder().rng(JitterRng::from_seed(7)).build()?;
    /// let b = RetryPolicy::builder().seed(7).build()?;
    /// assert_eq!(a.calculate_delay(2), b.calculate_delay(2));
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    pub fn rng(mut self, rng: impl rand_core::Rng + Send + 'static) -> Self {
        self.user_rng = Some(JitterSource::user(rng));
        self.seed = None;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`ConfigError`] for `max_attempts` < 1, a delay above
    /// [`rules::MAX_DURATION`], `max_delay` < `base_delay`, or a status code
    /// outside 100..=599.
    pub fn build(self) -> Result<RetryPolicy, ConfigError> {
        let max_attempts = rules::count_of("max_attempts", Value::from(self.max_attempts))?;
        let base_delay = rules::bounded_duration("base_delay", self.base_delay)?;
        let max_delay = rules::bounded_duration("max_delay", self.max_delay)?;
        let max_delay = rules::at_least_duration("max_delay", max_delay, "base_delay", base_delay)?;
        let retryable_status_codes = self
            .retryable_status_codes
            .map(|codes| rules::status_codes(codes.into_iter().map(Value::from)))
            .transpose()?;
        let rng = match (self.user_rng, self.seed) {
            (Some(user), _) => user,
            (None, Some(seed)) => JitterSource::BuiltIn(JitterRng::from_seed(seed)),
            (None, None) => JitterSource::BuiltIn(JitterRng::from_entropy()),
        };
        Ok(RetryPolicy {
            max_attempts,
            backoff: self.backoff,
            base_delay,
            max_delay,
            jitter: self.jitter,
            retryable_status_codes,
            seed: self.seed,
            rng,
        })
    }
}
