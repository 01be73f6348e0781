//! The strategies a pipeline is built from, each with its own filters.
//! How each runs is in `blocking.rs` and `asynchronous.rs`.

use std::ops::Deref;
use std::time::Duration;

use super::error::PipelineError;
use super::StrategyKind;
use crate::breaker::{CircuitBreaker, Judgement};
use crate::bulkhead::{Admission, Bulkhead, CancelOutcome, Slot};
use crate::hedging::HedgingConfig;
use crate::limiter::{RateLimited, RateLimiter};
use crate::policy::RetryPolicy;
use crate::predicates::{AnyError, ErrorFilter, NoValue, ValueFilter};
use crate::retry_state::{RetryDecision, RetryState};
use crate::rules::PredicateOutcome;
use crate::throttle::{AdaptiveThrottle, Throttled};
use crate::time::Clock;
use crate::timeout::Timeout;

/// Retry in a pipeline: a [`RetryPolicy`], which of the operation's errors
/// to retry (default: all) and which returned values are failures
/// (default: none). Errors the library creates are retried by rule
/// `library_errors`, an open breaker after its remaining open time.
#[derive(Debug, Clone)]
pub struct RetryLayer<P = AnyError, R = NoValue> {
    pub(super) policy: RetryPolicy,
    pub(super) retry_if: P,
    pub(super) retry_on_result: R,
}

impl RetryLayer {
    /// Retries under `policy`.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            retry_if: AnyError,
            retry_on_result: NoValue,
        }
    }
}

impl<P, R> RetryLayer<P, R> {
    /// Retries only the operation's errors for which `filter` is true.
    pub fn retry_if<P2>(self, filter: P2) -> RetryLayer<P2, R> {
        RetryLayer {
            policy: self.policy,
            retry_if: filter,
            retry_on_result: self.retry_on_result,
        }
    }

    /// Retries returned values for which `filter` is true; when retries
    /// run out, the last value is returned.
    pub fn retry_on_result<R2>(self, filter: R2) -> RetryLayer<P, R2> {
        RetryLayer {
            policy: self.policy,
            retry_if: self.retry_if,
            retry_on_result: filter,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// A fresh state, started on the clock only when a deadline needs it.
    pub(super) fn start(&self, clock: &impl Clock) -> RetryState {
        match self.policy.max_elapsed() {
            Some(_) => RetryState::started_at(clock.now()),
            None => RetryState::new(),
        }
    }

    fn now(&self, clock: &impl Clock) -> Option<Duration> {
        self.policy.max_elapsed().map(|_| clock.now())
    }

    /// The decision after an error (rule `library_errors` for the
    /// library's own).
    pub(super) fn after_error<E>(
        &self,
        state: &mut RetryState,
        error: &PipelineError<E>,
        clock: &impl Clock,
    ) -> RetryDecision
    where
        P: ErrorFilter<E>,
    {
        let now = self.now(clock);
        match error {
            PipelineError::Inner(e) => {
                let classify = || PredicateOutcome::from_bool(self.retry_if.matches(e));
                match now {
                    Some(now) => state.on_failure_classified_at(&self.policy, classify, None, now),
                    None => state.on_failure_classified(&self.policy, classify, None),
                }
            }
            PipelineError::TimedOut(_) => state.on_timeout(&self.policy, now),
            other => {
                let retryable = other.library().is_some_and(|l| l.retryable());
                match now {
                    Some(now) => state.on_failure_at(&self.policy, retryable, other.retry_after(), now),
                    None => state.on_failure_with_hint(&self.policy, retryable, other.retry_after()),
                }
            }
        }
    }

    /// The decision after a returned value (`None`: accept it).
    pub(super) fn after_value<T>(&self, state: &mut RetryState, value: &T, clock: &impl Clock) -> Option<RetryDecision>
    where
        R: ValueFilter<T>,
    {
        if !R::CHECKS {
            return None;
        }
        let failed = self.retry_on_result.matches(value);
        let hint = if failed {
            self.retry_on_result.retry_after(value)
        } else {
            None
        };
        state.on_result(
            &self.policy,
            || PredicateOutcome::from_bool(failed),
            hint,
            self.now(clock),
        )
    }
}

/// A circuit breaker in a pipeline: the breaker (shared: `&CircuitBreaker`
/// or `Arc<CircuitBreaker>`), which of the operation's errors count
/// (default: all) and which returned values count as failures (default:
/// none). A timed-out attempt counts; a bulkhead rejection does not (rule
/// `library_errors`).
#[derive(Debug, Clone)]
pub struct BreakerLayer<B, P = AnyError, R = NoValue> {
    pub(super) breaker: B,
    pub(super) failure_if: P,
    pub(super) failure_on_result: R,
}

impl<B> BreakerLayer<B> {
    /// Calls through `breaker`.
    pub fn new(breaker: B) -> Self {
        Self {
            breaker,
            failure_if: AnyError,
            failure_on_result: NoValue,
        }
    }
}

impl<B, P, R> BreakerLayer<B, P, R> {
    /// Counts only the operation's errors for which `filter` is true.
    pub fn failure_if<P2>(self, filter: P2) -> BreakerLayer<B, P2, R> {
        BreakerLayer {
            breaker: self.breaker,
            failure_if: filter,
            failure_on_result: self.failure_on_result,
        }
    }

    /// Counts returned values for which `filter` is true as failures.
    pub fn failure_on_result<R2>(self, filter: R2) -> BreakerLayer<B, P, R2> {
        BreakerLayer {
            breaker: self.breaker,
            failure_if: self.failure_if,
            failure_on_result: filter,
        }
    }

    pub(super) fn judge<T, E>(&self, result: &Result<T, PipelineError<E>>) -> Judgement
    where
        P: ErrorFilter<E>,
        R: ValueFilter<T>,
    {
        match result {
            Ok(value) if R::CHECKS && self.failure_on_result.matches(value) => Judgement::Failure,
            Ok(_) => Judgement::Success,
            Err(PipelineError::Inner(e)) if self.failure_if.matches(e) => Judgement::Failure,
            Err(PipelineError::Inner(_)) => Judgement::Neither,
            Err(other) if other.library().is_some_and(|l| l.counts_as_breaker_failure()) => Judgement::Failure,
            Err(_) => Judgement::Neither,
        }
    }
}

impl<B: Deref<Target = CircuitBreaker<C>>, C: Clock, P, R> BreakerLayer<B, P, R> {
    /// The breaker.
    pub fn breaker(&self) -> &CircuitBreaker<C> {
        &self.breaker
    }
}

/// A fallback in a pipeline: `count` fallbacks, called as `fallback(index)`
/// in order after a failure it handles; the first success answers, and if
/// every fallback fails, the last fallback's error surfaces. Which of the
/// operation's errors are handled: `expected_if` (default: all); the
/// library's errors always are (rule `library_errors`).
#[derive(Debug, Clone)]
pub struct FallbackLayer<F, P = AnyError> {
    pub(super) count: usize,
    pub(super) fallback: F,
    pub(super) expected_if: P,
}

impl<F> FallbackLayer<F> {
    /// `count` fallbacks; `fallback(i)` runs the i-th (0-based).
    pub fn new(count: usize, fallback: F) -> Self {
        Self {
            count,
            fallback,
            expected_if: AnyError,
        }
    }
}

impl<F, P> FallbackLayer<F, P> {
    /// Falls back only on the operation's errors for which `filter` is true.
    pub fn expected_if<P2>(self, filter: P2) -> FallbackLayer<F, P2> {
        FallbackLayer {
            count: self.count,
            fallback: self.fallback,
            expected_if: filter,
        }
    }

    pub(super) fn handles<E>(&self, error: &PipelineError<E>) -> bool
    where
        P: ErrorFilter<E>,
    {
        match error {
            PipelineError::Inner(e) => self.expected_if.matches(e),
            other => other.library().is_some_and(|l| l.falls_back()),
        }
    }
}

/// A timeout in a pipeline, total (outside the retry) or per attempt
/// (inside it). Async only: a blocking call cannot be pre-empted.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    pub(super) timeout: Timeout,
    pub(super) kind: StrategyKind,
}

/// Hedging in a pipeline: a [`HedgingConfig`] and which returned values
/// are failures rather than answers (default: none). Async only.
#[derive(Debug, Clone)]
pub struct HedgingLayer<R = NoValue> {
    pub(super) config: HedgingConfig,
    pub(super) failure_on_result: R,
}

impl HedgingLayer {
    /// Hedges under `config`.
    pub fn new(config: HedgingConfig) -> Self {
        Self {
            config,
            failure_on_result: NoValue,
        }
    }
}

impl<R> HedgingLayer<R> {
    /// Treats returned values for which `filter` is true as failed copies.
    pub fn failure_on_result<R2>(self, filter: R2) -> HedgingLayer<R2> {
        HedgingLayer {
            config: self.config,
            failure_on_result: filter,
        }
    }
}

/// A bulkhead in a pipeline (shared: `&Bulkhead` or `Arc<Bulkhead>`). The
/// pipeline does not wait for a slot: a call that would queue is rejected
/// at once (Polly's default queue of zero); bindings that can wait use the
/// bulkhead's queue with their runtime's primitives.
#[derive(Debug, Clone)]
pub struct BulkheadLayer<B> {
    pub(super) bulkhead: B,
}

impl<B: Deref<Target = Bulkhead>> BulkheadLayer<B> {
    /// Admits calls through `bulkhead`.
    pub fn new(bulkhead: B) -> Self {
        Self { bulkhead }
    }

    /// A slot now, or `None`.
    pub(super) fn admit(&self) -> Option<SlotGuard<'_>> {
        let bulkhead: &Bulkhead = &self.bulkhead;
        let slot = match bulkhead.try_acquire() {
            Admission::Acquired(slot) => slot,
            Admission::Queued(ticket) => match bulkhead.cancel(ticket) {
                // A release handed it over before we withdrew: keep it.
                Ok(CancelOutcome::AlreadyGranted(slot)) => slot, // coverage: race — another thread's release granted it
                _ => return None,
            },
            _ => return None,
        };
        Some(SlotGuard { bulkhead, slot })
    }
}

/// A held slot, released when dropped (a cancelled call releases it too).
#[derive(Debug)]
pub(super) struct SlotGuard<'a> {
    bulkhead: &'a Bulkhead,
    slot: Slot,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        // Held exactly once by this guard, so the release cannot be refused.
        let _ = self.bulkhead.release(self.slot);
    }
}

/// A rate limiter in a pipeline (shared: `&RateLimiter` or
/// `Arc<RateLimiter>`): each call takes one cell or fails at once with
/// [`PipelineError::RateLimited`], whose exact wait a retry outside honours
/// (rule `rejection_hint`). Like the bulkhead, the pipeline does not wait
/// inside: a retry, or the limiter's own `acquire`, does.
#[derive(Debug, Clone)]
pub struct RateLimiterLayer<B> {
    pub(super) limiter: B,
}

impl<C: Clock, B: Deref<Target = RateLimiter<C>>> RateLimiterLayer<B> {
    /// Admits calls through `limiter`.
    pub fn new(limiter: B) -> Self {
        Self { limiter }
    }

    /// One cell now, or how long until it conforms.
    pub(super) fn admit(&self) -> Result<(), RateLimited> {
        self.limiter.try_acquire_one()
    }
}

/// An adaptive throttle in a pipeline (shared: `&AdaptiveThrottle` or
/// `Arc<AdaptiveThrottle>`), right around the operation: it counts every
/// request it lets through and records whether the backend accepted it.
/// A request is *not* accepted when the operation fails with an error
/// `rejected_if` matches (default: every error) or returns a value
/// `rejected_on_result` matches (default: none); a shed request fails with
/// [`PipelineError::Throttled`] without running.
#[derive(Debug, Clone)]
pub struct ThrottleLayer<B, P = AnyError, R = NoValue> {
    pub(super) throttle: B,
    pub(super) rejected_if: P,
    pub(super) rejected_on_result: R,
}

impl<C: Clock, B: Deref<Target = AdaptiveThrottle<C>>> ThrottleLayer<B> {
    /// Sheds and records through `throttle`.
    pub fn new(throttle: B) -> Self {
        Self {
            throttle,
            rejected_if: AnyError,
            rejected_on_result: NoValue,
        }
    }
}

impl<B, P, R> ThrottleLayer<B, P, R> {
    /// Only the operation's errors for which `filter` is true mean the
    /// backend did not accept the request (an overload answer, say).
    pub fn rejected_if<P2>(self, filter: P2) -> ThrottleLayer<B, P2, R> {
        ThrottleLayer {
            throttle: self.throttle,
            rejected_if: filter,
            rejected_on_result: self.rejected_on_result,
        }
    }

    /// Returned values for which `filter` is true mean the backend did not
    /// accept the request (a 503 response, say).
    pub fn rejected_on_result<R2>(self, filter: R2) -> ThrottleLayer<B, P, R2> {
        ThrottleLayer {
            throttle: self.throttle,
            rejected_if: self.rejected_if,
            rejected_on_result: filter,
        }
    }
}

impl<C: Clock, B: Deref<Target = AdaptiveThrottle<C>>, P, R> ThrottleLayer<B, P, R> {
    /// Counts the request and decides.
    pub(super) fn admit(&self) -> Result<(), Throttled> {
        self.throttle.try_admit()
    }

    /// Records the backend's answer to an admitted request.
    pub(super) fn record<T, E>(&self, outcome: &Result<T, PipelineError<E>>)
    where
        P: ErrorFilter<E>,
        R: ValueFilter<T>,
    {
        let accepted = match outcome {
            Ok(value) => !(R::CHECKS && self.rejected_on_result.matches(value)),
            Err(PipelineError::Inner(error)) => !self.rejected_if.matches(error),
            // Nothing the library creates runs inside the innermost strategy.
            Err(_) => false, // coverage: unreachable — the throttle is innermost, around the operation alone
        };
        self.throttle.record(accepted);
    }
}
