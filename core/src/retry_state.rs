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
    /// The retry deadline (`max_elapsed`) was reached during the attempt,
    /// or the wait before the next attempt would reach it.
    Deadline,
    /// The policy's [`RetryBudget`](crate::RetryBudget) denied the retry.
    Budget,
}

impl GiveUpReason {
    /// `"exhausted"`, `"not_retryable"`, `"deadline"` or `"budget"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exhausted => "exhausted",
            Self::NotRetryable => "not_retryable",
            Self::Deadline => "deadline",
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
/// waiting, the previous delay (for decorrelated jitter), and the clock
/// reading at the start (for the deadline, `max_elapsed`).
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
    /// The sum of the delays decided, in nanoseconds (saturating).
    total_delay_ns: u64,
    /// The last delay decided, in nanoseconds (decorrelated jitter's input).
    previous_delay_ns: Option<u64>,
    started: Option<Duration>,
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
            total_delay_ns: 0,
            previous_delay_ns: None,
            started: None,
        }
    }

    /// Attempt 1 is about to run and the clock reads `now`: the deadline
    /// (`max_elapsed`) counts from here. Drivers with a clock start with
    /// this and report failures with the `*_at` methods.
    pub fn started_at(now: Duration) -> Self {
        Self {
            started: Some(now),
            ..Self::new()
        }
    }

    /// The attempt in progress (1-based).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The sum of every delay decided so far.
    pub fn total_delay(&self) -> Duration {
        Duration::from_nanos(self.total_delay_ns)
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
    // Inlined into the loops that call it: the call's register saves and
    // restores cost a third of a retry decision (`bench/README.md`, issue 13).
    #[inline]
    pub fn on_failure_with_hint(
        &mut self,
        policy: &RetryPolicy,
        retryable: bool,
        retry_after: Option<Duration>,
    ) -> RetryDecision {
        self.decide(policy, retryable, retry_after, None)
    }

    /// The current attempt failed at clock reading `now`; otherwise as
    /// [`on_failure_with_hint`](Self::on_failure_with_hint), and the
    /// deadline (`max_elapsed`) applies in real time (see
    /// [`deadline`](Self::deadline)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience_core::{GiveUpReason, Jitter, RetryDecision, RetryPolicy, RetryState};
    /// let policy = RetryPolicy::builder().max_attempts(10).jitter(Jitter::None)
    ///     .max_elapsed(Duration::from_secs(5)).build()?;
    /// let mut state = RetryState::started_at(Duration::ZERO);
    /// // Failed after 3.5 s: the 1 s wait ends before the deadline.
    /// assert!(matches!(state.on_failure_at(&policy, true, None, Duration::from_millis(3500)),
    ///                  RetryDecision::Retry { .. }));
    /// // Failed after 4.5 s: a 2 s wait would cross the deadline.
    /// assert_eq!(state.on_failure_at(&policy, true, None, Duration::from_millis(4500)),
    ///            RetryDecision::GiveUp { attempts: 2, reason: GiveUpReason::Deadline });
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    pub fn on_failure_at(
        &mut self,
        policy: &RetryPolicy,
        retryable: bool,
        retry_after: Option<Duration>,
        now: Duration,
    ) -> RetryDecision {
        self.decide(policy, retryable, retry_after, Some(now))
    }

    /// [`on_failure_classified`](Self::on_failure_classified) at clock
    /// reading `now` (the deadline applies in real time).
    pub fn on_failure_classified_at(
        &mut self,
        policy: &RetryPolicy,
        classify: impl FnOnce() -> PredicateOutcome,
        retry_after: Option<Duration>,
        now: Duration,
    ) -> RetryDecision {
        let retryable = self.needs_classification(policy) && classify().retryable();
        self.decide(policy, retryable, retry_after, Some(now))
    }

    /// Rule `attempt_timeout_retryable`: the current attempt timed out (its
    /// `attempt_timeout` expired, and the driver cancelled it). A timeout is
    /// always a retryable failure: the error filter judges the user's own
    /// errors and is not asked. Polly's default `ShouldHandle` retries its
    /// `TimeoutRejectedException` too; a Polly user who narrows the
    /// predicate must remember to list it — here nothing can forget it.
    pub fn on_timeout(&mut self, policy: &RetryPolicy, now: Option<Duration>) -> RetryDecision {
        self.decide(policy, true, None, now)
    }

    /// Rule `result_predicate`: the current attempt *returned* a value, and
    /// `classify` says whether the value is a failure worth retrying (an
    /// HTTP 503, an empty read). `None`: accept the value and return it.
    /// `Some(decision)`: the value failed — retry after the wait, or give up
    /// and return **the value** (not an error) to the caller.
    ///
    /// Unlike the error filter, `classify` is asked about every value, the
    /// last attempt's included: the value is returned either way, and the
    /// answer tells the listener whether the sequence gave up. A predicate
    /// that failed ([`PredicateOutcome::Failed`]) accepts the value — the
    /// user's own value surfaces unchanged, as with errors. `retry_after`
    /// is the server's hint carried by the value (HTTP `Retry-After`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience_core::{GiveUpReason, Jitter, RetryDecision, RetryPolicy, rules::PredicateOutcome};
    /// let policy = RetryPolicy::builder().max_attempts(2).jitter(Jitter::None).build()?;
    /// let mut state = policy.start();
    /// let status = |s: u16| move || PredicateOutcome::from_bool(s == 503);
    /// assert_eq!(state.on_result(&policy, status(503), Some(Duration::from_secs(3)), None),
    ///            Some(RetryDecision::Retry { attempt: 1, delay: Duration::from_secs(3) }));
    /// // The last attempt's 503 is returned; the sequence gave up.
    /// assert_eq!(state.on_result(&policy, status(503), None, None),
    ///            Some(RetryDecision::GiveUp { attempts: 2, reason: GiveUpReason::Exhausted }));
    /// assert_eq!(policy.start().on_result(&policy, status(200), None, None), None);
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    pub fn on_result(
        &mut self,
        policy: &RetryPolicy,
        classify: impl FnOnce() -> PredicateOutcome,
        retry_after: Option<Duration>,
        now: Option<Duration>,
    ) -> Option<RetryDecision> {
        if !classify().retryable() {
            return None;
        }
        Some(self.decide(policy, true, retry_after, now))
    }

    /// The one decision every `on_*` method makes: the attempt count first,
    /// then whether the failure may be retried, then the wait, then the
    /// deadline. Inlined into each caller: the call itself (saving and
    /// restoring registers) cost as much as the decision.
    #[inline(always)]
    fn decide(
        &mut self,
        policy: &RetryPolicy,
        retryable: bool,
        retry_after: Option<Duration>,
        now: Option<Duration>,
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
        // Read when the policy computed it, else in nanoseconds until the
        // answer: the hot path of every retry.
        let (mut delay_ns, mut delay) = match policy.plain_delay(attempt) {
            Some(plain) => plain,
            None => {
                let ns = policy.delay_after_ns(i64::from(attempt), self.previous_delay_ns);
                (ns, Duration::from_nanos(ns))
            }
        };
        if let Some(hint) = retry_after {
            let hint_ns = crate::backoff::nanos(policy.cap_retry_after(hint));
            if hint_ns > delay_ns {
                delay_ns = hint_ns;
                delay = Duration::from_nanos(hint_ns);
            }
        }
        if policy
            .max_elapsed()
            .is_some_and(|limit| self.crosses_deadline(limit, delay, now))
        {
            return RetryDecision::GiveUp {
                attempts: attempt,
                reason: GiveUpReason::Deadline,
            };
        }
        // Last: a retry refused for any other reason spends no budget.
        if policy.budget().is_some_and(|budget| !budget.try_withdraw()) {
            return RetryDecision::GiveUp {
                attempts: attempt,
                reason: GiveUpReason::Budget,
            };
        }
        self.previous_delay_ns = Some(delay_ns);
        self.total_delay_ns = self.total_delay_ns.saturating_add(delay_ns);
        // attempt < max_attempts <= u32::MAX, so this cannot overflow.
        self.attempt = attempt.saturating_add(1);
        RetryDecision::Retry { attempt, delay }
    }
}

// ---- The deadline (`max_elapsed`) -----------------------------------------

impl RetryState {
    /// Time spent so far at clock reading `now`, as rule `deadline` counts
    /// it: the clock's time since [`started_at`](Self::started_at), but
    /// never less than the waits already decided (a clock that jumps back
    /// cannot buy time); without a start reading or a `now`, the waits
    /// alone (backon's "total delay").
    pub fn elapsed(&self, now: Option<Duration>) -> Duration {
        match (self.started, now) {
            (Some(start), Some(now)) => now.saturating_sub(start).max(self.total_delay()),
            _ => self.total_delay(),
        }
    }

    /// The clock reading at which the deadline passes, for drivers that
    /// want to show it or cut a call there (`None` without `max_elapsed` or
    /// a start reading).
    pub fn deadline(&self, policy: &RetryPolicy) -> Option<Duration> {
        let limit = policy.max_elapsed()?;
        self.started.map(|start| start.saturating_add(limit))
    }

    /// Rule `deadline`: with `max_elapsed` set, a failure gives up with
    /// [`GiveUpReason::Deadline`] when the deadline was reached during the
    /// attempt (elapsed >= `max_elapsed`), or when the next attempt would
    /// not start before it (elapsed + wait >= `max_elapsed`) — a wait is
    /// never slept past the deadline, and a `Retry-After` hint beyond it
    /// gives up at once. tenacity's `stop_after_delay` is the first half,
    /// its `stop_before_delay` the second.
    fn crosses_deadline(&self, limit: Duration, delay: Duration, now: Option<Duration>) -> bool {
        let elapsed = self.elapsed(now);
        elapsed >= limit || elapsed.saturating_add(delay) >= limit
    }
}
