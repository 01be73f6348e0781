//! The sans-IO retry state machine: the only retry-loop logic in the project.
//!
//! Every executor (Rust, Python, C, JavaScript) is a thin loop: run attempt,
//! and on failure ask [`RetryState::on_failure`] whether and when to retry.

use std::time::Duration;

use crate::policy::RetryPolicy;
use crate::rules::PredicateOutcome;

/// Why a retry sequence ended without success.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GiveUpReason {
    /// The failed attempt was the last one `max_attempts` allows.
    Exhausted,
    /// The error was not retryable.
    NotRetryable,
    /// The policy's [`RetryBudget`](crate::RetryBudget) denied the retry.
    Budget,
}

impl GiveUpReason {
    /// `"exhausted"`, `"not_retryable"` or `"budget"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exhausted => "exhausted",
            Self::NotRetryable => "not_retryable",
            Self::Budget => "budget",
        }
    }
}

/// What to do after a failed attempt.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait `delay`, then run attempt `attempt + 1`.
    Retry {
        /// The attempt that failed (1-based).
        attempt: u32,
        /// How long to wait before the next attempt.
        delay: Duration,
    },
    /// Stop and surface the last error.
    GiveUp {
        /// How many attempts ran.
        attempts: u32,
        /// Why.
        reason: GiveUpReason,
    },
}

/// Where a retry sequence stands: the attempt in progress, the time spent
/// waiting, and the previous delay (for decorrelated jitter).
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{Jitter, RetryDecision, RetryPolicy, GiveUpReason};
/// let policy = RetryPolicy::builder().max_attempts(2).jitter(Jitter::None).build()?;
/// let mut state = policy.start();
/// assert_eq!(state.on_failure(&policy, true),
///            RetryDecision::Retry { attempt: 1, delay: Duration::from_secs(1) });
/// assert_eq!(state.on_failure(&policy, true),
///            RetryDecision::GiveUp { attempts: 2, reason: GiveUpReason::Exhausted });
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryState {
    attempt: u32,
    total_delay: Duration,
    previous_delay: Option<Duration>,
}

impl Default for RetryState {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryState {
    /// Attempt 1 is about to run. This makes no deposit in a retry budget:
    /// loops start sequences with [`RetryPolicy::start`], which does.
    pub fn new() -> Self {
        Self {
            attempt: 1,
            total_delay: Duration::ZERO,
            previous_delay: None,
        }
    }

    /// The attempt in progress (1-based).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The sum of every delay decided so far.
    pub fn total_delay(&self) -> Duration {
        self.total_delay
    }

    /// Rule `predicate_on_last_attempt`: whether the error of the attempt in
    /// progress must be classified if it fails. The last attempt's error is
    /// never classified (the attempt count decides first, as in the
    /// original), so a retry filter runs once per failed attempt but the last.
    ///
    /// Loops that cannot pass a closure (across FFI, in an `async` driver)
    /// ask this before calling the user's filter.
    pub fn needs_classification(&self, policy: &RetryPolicy) -> bool {
        self.attempt < policy.max_attempts()
    }

    /// The current attempt failed; `classify` is asked whether its error may
    /// be retried — only when an attempt is left
    /// ([`needs_classification`](Self::needs_classification)). A filter that
    /// failed ([`PredicateOutcome::Failed`]) means "not retryable".
    ///
    /// ```
    /// use resilience_core::{GiveUpReason, Jitter, RetryDecision, RetryPolicy, rules::PredicateOutcome};
    /// let policy = RetryPolicy::builder().max_attempts(2).jitter(Jitter::None).build()?;
    /// let mut state = policy.start();
    /// let mut asked = 0;
    /// let mut classify = || { asked += 1; PredicateOutcome::Yes };
    /// assert!(matches!(state.on_failure_classified(&policy, &mut classify, None), RetryDecision::Retry { .. }));
    /// assert!(matches!(state.on_failure_classified(&policy, &mut classify, None),
    ///                  RetryDecision::GiveUp { reason: GiveUpReason::Exhausted, .. }));
    /// assert_eq!(asked, 1); // not asked about the last attempt's error
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    pub fn on_failure_classified(
        &mut self,
        policy: &RetryPolicy,
        classify: impl FnOnce() -> PredicateOutcome,
        retry_after: Option<Duration>,
    ) -> RetryDecision {
        let retryable = self.needs_classification(policy) && classify().retryable();
        self.on_failure_with_hint(policy, retryable, retry_after)
    }

    /// The current attempt failed; `retryable` says whether its error may be
    /// retried. The give-up check on the attempt count comes first, as in the
    /// original.
    pub fn on_failure(&mut self, policy: &RetryPolicy, retryable: bool) -> RetryDecision {
        self.on_failure_with_hint(policy, retryable, None)
    }

    /// As [`RetryState::on_failure`], honouring a server's `Retry-After`
    /// hint: the wait is at least the hint capped at `max_delay`; jitter
    /// never shortens it.
    ///
    /// With a [retry budget](crate::RetryPolicyBuilder::budget), a retry
    /// that the attempt count and the error allow is withdrawn from the
    /// budget first; a denied withdrawal gives up with
    /// [`GiveUpReason::Budget`].
    pub fn on_failure_with_hint(
        &mut self,
        policy: &RetryPolicy,
        retryable: bool,
        retry_after: Option<Duration>,
    ) -> RetryDecision {
        let attempt = self.attempt;
        if attempt >= policy.max_attempts() {
            return RetryDecision::GiveUp {
                attempts: attempt,
                reason: GiveUpReason::Exhausted,
            };
        }
        if !retryable {
            return RetryDecision::GiveUp {
                attempts: attempt,
                reason: GiveUpReason::NotRetryable,
            };
        }
        if policy.budget().is_some_and(|budget| !budget.try_withdraw()) {
            return RetryDecision::GiveUp {
                attempts: attempt,
                reason: GiveUpReason::Budget,
            };
        }
        let mut delay = policy.delay_after(i64::from(attempt), self.previous_delay);
        if let Some(hint) = retry_after {
            delay = delay.max(policy.cap_retry_after(hint));
        }
        self.previous_delay = Some(delay);
        self.total_delay = self.total_delay.saturating_add(delay);
        // attempt < max_attempts <= u32::MAX, so this cannot overflow.
        self.attempt = attempt.saturating_add(1);
        RetryDecision::Retry { attempt, delay }
    }
}
