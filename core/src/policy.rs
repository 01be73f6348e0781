//! The retry policy: configuration plus the pure decisions derived from it.

use std::sync::Arc;
use std::time::Duration;

use crate::backoff::{apply_jitter, nanos, raw_delay, raw_delay_ns, BackoffStrategy, Jitter};
use crate::budget::RetryBudget;
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
    /// `base_delay` and `max_delay` in nanoseconds, computed once: every
    /// retry decision works on them.
    base_ns: u64,
    max_ns: u64,
    jitter: Jitter,
    retryable_status_codes: Option<Vec<u16>>,
    seed: Option<u64>,
    max_elapsed: Option<Duration>,
    attempt_timeout: Option<Duration>,
    rng: JitterSource,
    budget: Option<Arc<RetryBudget>>,
    /// Without jitter, the first delays (they depend on the attempt alone).
    plain: PlainDelays,
    /// No budget to deposit in and no attempt timeout: an async first
    /// attempt is a bare await (one flag, computed once, for its hot path).
    bare_first_attempt: bool,
}

/// How many un-jittered delays a policy computes when it is built.
const PLAIN_DELAYS: usize = 8;

/// The delays after attempts `1..=len` of a policy without jitter, in
/// nanoseconds and as a `Duration`, computed once when the policy is
/// built: a retry decision reads its delay instead of computing it (the
/// same rule, `backoff`, evaluated early; `len` is 0 with jitter).
#[derive(Debug, Clone, Copy)]
struct PlainDelays {
    len: usize,
    delays: [(u64, Duration); PLAIN_DELAYS],
}

impl PlainDelays {
    fn new(jitter: Jitter, backoff: BackoffStrategy, base_ns: u64, max_ns: u64, max_attempts: u32) -> Self {
        let mut plain = Self {
            len: 0,
            delays: [(0, Duration::ZERO); PLAIN_DELAYS],
        };
        if jitter != Jitter::None {
            return plain;
        }
        // Delays after attempts 1..max_attempts (the last attempt has none).
        plain.len = usize::try_from(max_attempts.saturating_sub(1))
            .unwrap_or(PLAIN_DELAYS)
            .min(PLAIN_DELAYS);
        for (attempt, slot) in (1..).zip(plain.delays.iter_mut().take(plain.len)) {
            let ns = raw_delay_ns(backoff, base_ns, max_ns, attempt);
            *slot = (ns, Duration::from_nanos(ns));
        }
        plain
    }
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
            base_ns: nanos(DEFAULT_BASE_DELAY),
            max_ns: nanos(DEFAULT_MAX_DELAY),
            jitter: Jitter::Proportional,
            retryable_status_codes: None,
            seed: None,
            max_elapsed: None,
            attempt_timeout: None,
            rng: JitterSource::PerThread,
            budget: None,
            plain: PlainDelays::new(
                Jitter::Proportional,
                BackoffStrategy::Exponential,
                0,
                0,
                DEFAULT_MAX_ATTEMPTS,
            ),
            bare_first_attempt: true,
        }
    }
}

impl PartialEq for RetryPolicy {
    /// Policies are equal when their configuration is; the generator's
    /// position is not part of the value. A retry budget is shared state:
    /// policies are equal when they share the same budget (or have none).
    fn eq(&self, other: &Self) -> bool {
        self.max_attempts == other.max_attempts
            && self.backoff == other.backoff
            && self.base_delay == other.base_delay
            && self.max_delay == other.max_delay
            && self.jitter == other.jitter
            && self.retryable_status_codes == other.retryable_status_codes
            && self.seed == other.seed
            && self.max_elapsed == other.max_elapsed
            && self.attempt_timeout == other.attempt_timeout
            && match (&self.budget, &other.budget) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
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
    /// The deadline of a whole sequence, counted from the start of the
    /// first attempt (`None`: none). See [`RetryState::deadline`].
    pub fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }
    /// How long one attempt may take where the runtime can cancel it
    /// (`None`: no limit). Blocking executors cannot pre-empt a call and
    /// ignore it; the deadline still applies between their attempts.
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
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
        Duration::from_nanos(self.delay_after_ns(attempt, previous.map(nanos)))
    }

    /// The delay after failed attempt `attempt` (1-based), in nanoseconds
    /// and as a `Duration`, when it was computed when the policy was built
    /// (no jitter, one of the first attempts).
    #[inline]
    pub(crate) fn plain_delay(&self, attempt: u32) -> Option<(u64, Duration)> {
        let i = usize::try_from(attempt).ok()?.checked_sub(1)?;
        self.plain.delays.get(..self.plain.len)?.get(i).copied()
    }

    /// [`delay_after`](Self::delay_after) in nanoseconds (the retry state's hot path).
    pub(crate) fn delay_after_ns(&self, attempt: i64, previous_ns: Option<u64>) -> u64 {
        if attempt <= 0 {
            return 0;
        }
        let capped = raw_delay_ns(self.backoff, self.base_ns, self.max_ns, attempt);
        apply_jitter(self.jitter, capped, self.base_ns, self.max_ns, previous_ns, &self.rng)
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

    /// The retry budget this policy draws on, if any.
    pub fn budget(&self) -> Option<&Arc<RetryBudget>> {
        self.budget.as_ref()
    }

    /// A fresh retry sequence (attempt 1 about to run). With a retry budget,
    /// this is the first attempt's deposit: every loop — the executors
    /// here, each binding's — starts its sequences here or at
    /// [`start_at`](Self::start_at). Without a clock reading the deadline
    /// counts the waits only; use `start_at` when a clock is at hand.
    pub fn start(&self) -> RetryState {
        self.deposit();
        RetryState::new()
    }

    /// A fresh retry sequence whose first attempt starts at clock reading
    /// `now` (the deadline counts from here); the budget deposit as
    /// [`start`](Self::start).
    pub fn start_at(&self, now: Duration) -> RetryState {
        self.deposit();
        RetryState::started_at(now)
    }

    /// No budget to deposit in and no attempt timeout: the async
    /// executor's first attempt is a bare await.
    #[inline(always)]
    pub(crate) fn bare_first_attempt(&self) -> bool {
        self.bare_first_attempt
    }

    /// Counts a first attempt into the retry budget, if any.
    pub(crate) fn deposit(&self) {
        if let Some(budget) = &self.budget {
            budget.deposit();
        }
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
    max_elapsed: Option<Duration>,
    attempt_timeout: Option<Duration>,
    user_rng: Option<JitterSource>,
    budget: Option<Arc<RetryBudget>>,
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
            max_elapsed: None,
            attempt_timeout: None,
            user_rng: None,
            budget: None,
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
    /// Seeds the jitter generator for reproducible delays: the policy then
    /// has one sequence, shared by every thread that uses it and the same
    /// in every language. Unseeded, each thread draws from its own
    /// generator, seeded from the OS (faster: no shared counter).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Seeds the jitter generator, or from the OS when `None`.
    pub fn maybe_seed(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }
    /// Gives up once `d` has passed since the first attempt started, and
    /// never waits past that deadline (rule `deadline`; reason
    /// [`GiveUpReason::Deadline`](crate::GiveUpReason::Deadline)).
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = Some(d);
        self
    }
    /// [`max_elapsed`](Self::max_elapsed), or no deadline when `None`.
    pub fn maybe_max_elapsed(mut self, d: Option<Duration>) -> Self {
        self.max_elapsed = d;
        self
    }
    /// Cancels an attempt after `d` where the runtime can (must be above
    /// zero, rule `timeout`); a timed-out attempt is a retryable failure.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }
    /// [`attempt_timeout`](Self::attempt_timeout), or none when `None`.
    pub fn maybe_attempt_timeout(mut self, d: Option<Duration>) -> Self {
        self.attempt_timeout = d;
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

    /// Bounds retries by a shared [`RetryBudget`]: each sequence deposits
    /// when it starts ([`RetryPolicy::start`]) and withdraws before each
    /// retry; a denied retry gives up with
    /// [`GiveUpReason::Budget`](crate::GiveUpReason::Budget).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use resilience_core::{GiveUpReason, ManualClock, Retry, RetryBudget, RetryBudgetConfig, RetryPolicy};
    /// let clock = ManualClock::new();
    /// let config = RetryBudgetConfig::builder().min_retries_per_sec(0).retry_ratio(0.5).build()?;
    /// let budget = Arc::new(RetryBudget::new(config, clock.clone()));
    /// let policy = RetryPolicy::builder().max_attempts(5).budget(budget.clone()).build()?;
    /// // Two sequences deposit two first attempts: one retry in all.
    /// let failing = |_| Err::<(), _>("down");
    /// let first = Retry::new(&policy, clock.clone()).call(failing).unwrap_err();
    /// let second = Retry::new(&policy, clock.clone()).call(failing).unwrap_err();
    /// assert_eq!((first.attempts, first.reason), (1, GiveUpReason::Budget));
    /// assert_eq!((second.attempts, second.reason), (2, GiveUpReason::Budget));
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    pub fn budget(mut self, budget: Arc<RetryBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`ConfigError`] for `max_attempts` < 1, a delay above
    /// [`rules::MAX_DURATION`], `max_delay` < `base_delay`, a status code
    /// outside 100..=599, or a zero `attempt_timeout`.
    pub fn build(self) -> Result<RetryPolicy, ConfigError> {
        let max_attempts = rules::count_of("max_attempts", Value::from(self.max_attempts))?;
        let base_delay = rules::bounded_duration("base_delay", self.base_delay)?;
        let max_delay = rules::bounded_duration("max_delay", self.max_delay)?;
        let max_delay = rules::at_least_duration("max_delay", max_delay, "base_delay", base_delay)?;
        let retryable_status_codes = self
            .retryable_status_codes
            .map(|codes| rules::status_codes(codes.into_iter().map(Value::from)))
            .transpose()?;
        let max_elapsed = self
            .max_elapsed
            .map(|d| rules::bounded_duration("max_elapsed", d))
            .transpose()?;
        let attempt_timeout = self
            .attempt_timeout
            .map(|d| rules::bounded_timeout("attempt_timeout", d))
            .transpose()?;
        let rng = match (self.user_rng, self.seed) {
            (Some(user), _) => user,
            (None, Some(seed)) => JitterSource::BuiltIn(JitterRng::from_seed(seed)),
            (None, None) => JitterSource::PerThread,
        };
        Ok(RetryPolicy {
            max_attempts,
            backoff: self.backoff,
            base_delay,
            max_delay,
            base_ns: nanos(base_delay),
            max_ns: nanos(max_delay),
            jitter: self.jitter,
            retryable_status_codes,
            seed: self.seed,
            max_elapsed,
            bare_first_attempt: self.budget.is_none() && attempt_timeout.is_none(),
            attempt_timeout,
            rng,
            budget: self.budget,
            plain: PlainDelays::new(
                self.jitter,
                self.backoff,
                nanos(base_delay),
                nanos(max_delay),
                max_attempts,
            ),
        })
    }
}
