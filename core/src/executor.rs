//! Retry executors: thin loops over [`RetryState`], blocking and async.
//!
//! What the loops honour, all decided in [`RetryState`]: the attempt count,
//! the error filter, the result predicate (a returned value that is a
//! failure is retried, and the last one is returned when retries run out),
//! the deadline `max_elapsed` (on the clock given with
//! [`Retry::clock`], else on the sum of waits), and — async only — the
//! per-attempt timeout.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::events::{Cause, Event, Listener, NoEvents};
use crate::pipeline::StrategyKind;
use crate::policy::RetryPolicy;
use crate::predicates::{AcceptAll, AlwaysRetry, MaybeClock, NoClock, ResultPredicate, RetryPredicate};
use crate::retry_state::{GiveUpReason, RetryDecision, RetryState};
use crate::rules::PredicateOutcome;
use crate::time::{AsyncSleeper, Clock, Sleeper};
use crate::timeout::{timeout, TimedOut};

/// The last error of a retry sequence, unchanged, with how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError<E> {
    /// The error of the last attempt.
    pub error: E,
    /// How many attempts ran.
    pub attempts: u32,
    /// Why the sequence stopped.
    pub reason: GiveUpReason,
}

impl<E> RetryError<E> {
    /// The last error.
    pub fn into_inner(self) -> E {
        self.error
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gave up after {} attempt(s): {}", self.attempts, self.error)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Runs an operation under a [`RetryPolicy`].
///
/// `retry_if` says whether an error is retryable (default: all),
/// `retry_on_result` whether a returned value is a failure (default: none),
/// `on_retry` is told `(failed_attempt, &error, delay)` before each wait
/// after an error, `on_event` receives every [`Event`].
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{Jitter, ManualClock, Retry, RetryPolicy};
/// let policy = RetryPolicy::builder().jitter(Jitter::None).build()?;
/// let clock = ManualClock::new();
/// let result: Result<u32, _> = Retry::new(&policy, clock.clone())
///     .call(|attempt| if attempt < 3 { Err("flaky") } else { Ok(attempt) });
/// assert_eq!(result.unwrap(), 3);
/// assert_eq!(clock.sleeps(), vec![Duration::from_secs(1), Duration::from_secs(2)]);
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
///
/// A returned value can be a failure too; when retries run out on one, it
/// is returned (not an error):
///
/// ```
/// use resilience_core::{Jitter, ManualClock, Retry, RetryPolicy};
/// let policy = RetryPolicy::builder().max_attempts(2).jitter(Jitter::None).build()?;
/// let status = Retry::new(&policy, ManualClock::new())
///     .retry_on_result(|status: &u16| *status == 503)
///     .call(|_| Ok::<u16, ()>(503));
/// assert_eq!(status, Ok(503));
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Retry<'p, S, P = AlwaysRetry, N = NoNotify, R = AcceptAll, C = NoClock, L = NoEvents> {
    policy: &'p RetryPolicy,
    sleeper: S,
    retry_if: P,
    on_retry: N,
    retry_on_result: R,
    clock: C,
    listener: L,
}

/// The default notification: nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNotify;

/// Observes each retry after an error, before its wait.
pub trait RetryNotify<E> {
    /// Attempt `attempt` failed with `error`; the next runs after `delay`.
    fn notify(&mut self, attempt: u32, error: &E, delay: Duration);
}

impl<E> RetryNotify<E> for NoNotify {
    #[inline(always)]
    fn notify(&mut self, _: u32, _: &E, _: Duration) {}
}

impl<E, F: FnMut(u32, &E, Duration)> RetryNotify<E> for F {
    fn notify(&mut self, attempt: u32, error: &E, delay: Duration) {
        self(attempt, error, delay);
    }
}

impl<'p, S> Retry<'p, S> {
    /// Retries every error, sleeping through `sleeper`.
    pub fn new(policy: &'p RetryPolicy, sleeper: S) -> Self {
        Self {
            policy,
            sleeper,
            retry_if: AlwaysRetry,
            on_retry: NoNotify,
            retry_on_result: AcceptAll,
            clock: NoClock,
            listener: NoEvents,
        }
    }
}

impl<'p, S, P, N, R, C, L> Retry<'p, S, P, N, R, C, L> {
    /// Retries only errors for which `predicate` returns `true`.
    pub fn retry_if<P2>(self, predicate: P2) -> Retry<'p, S, P2, N, R, C, L> {
        Retry {
            policy: self.policy,
            sleeper: self.sleeper,
            retry_if: predicate,
            on_retry: self.on_retry,
            retry_on_result: self.retry_on_result,
            clock: self.clock,
            listener: self.listener,
        }
    }

    /// Calls `hook(failed_attempt, &error, delay)` before each wait after
    /// an error (values judged failures go to [`on_event`](Self::on_event)).
    pub fn on_retry<N2>(self, hook: N2) -> Retry<'p, S, P, N2, R, C, L> {
        Retry {
            policy: self.policy,
            sleeper: self.sleeper,
            retry_if: self.retry_if,
            on_retry: hook,
            retry_on_result: self.retry_on_result,
            clock: self.clock,
            listener: self.listener,
        }
    }

    /// Retries a returned value for which `predicate` returns `true`
    /// (rule `result_predicate`); when retries run out, the last value is
    /// returned as `Ok`.
    pub fn retry_on_result<R2>(self, predicate: R2) -> Retry<'p, S, P, N, R2, C, L> {
        Retry {
            policy: self.policy,
            sleeper: self.sleeper,
            retry_if: self.retry_if,
            on_retry: self.on_retry,
            retry_on_result: predicate,
            clock: self.clock,
            listener: self.listener,
        }
    }

    /// Counts the deadline (`max_elapsed`) on `clock`, attempts included.
    /// Without a clock the deadline counts the waits only. The clock is
    /// read only when the policy has a deadline.
    pub fn clock<C2: Clock>(self, clock: C2) -> Retry<'p, S, P, N, R, C2, L> {
        Retry {
            policy: self.policy,
            sleeper: self.sleeper,
            retry_if: self.retry_if,
            on_retry: self.on_retry,
            retry_on_result: self.retry_on_result,
            clock,
            listener: self.listener,
        }
    }

    /// Tells `listener` every [`Event`]: retry scheduled, gave up, timeout.
    pub fn on_event<L2>(self, listener: L2) -> Retry<'p, S, P, N, R, C, L2> {
        Retry {
            policy: self.policy,
            sleeper: self.sleeper,
            retry_if: self.retry_if,
            on_retry: self.on_retry,
            retry_on_result: self.retry_on_result,
            clock: self.clock,
            listener,
        }
    }

    /// Runs `op(attempt)` until it succeeds or the policy gives up,
    /// sleeping between attempts. Returns the last error unchanged, or the
    /// last value when retries ran out on values.
    ///
    /// A blocking call cannot be pre-empted: `attempt_timeout` does not
    /// apply here. The deadline does, between attempts: a wait that would
    /// cross it gives up, and so does a failure after it.
    ///
    /// # Errors
    /// [`RetryError`] carrying the last attempt's error.
    pub fn call<T, E, F>(mut self, mut op: F) -> Result<T, RetryError<E>>
    where
        S: Sleeper,
        P: RetryPredicate<E>,
        N: RetryNotify<E>,
        R: ResultPredicate<T>,
        C: MaybeClock,
        L: Listener<T, E>,
        F: FnMut(u32) -> Result<T, E>,
    {
        let mut state = self.start();
        loop {
            let delay = match op(state.attempt()) {
                Ok(value) => match self.judge_value::<T, E>(&mut state, value) {
                    Ok(done) => return Ok(done),
                    Err(delay) => delay,
                },
                Err(error) => self.judge_error::<T, E>(&mut state, error)?,
            };
            self.sleeper.sleep(delay);
        }
    }

    /// The async twin of [`Retry::call`]. With an `attempt_timeout` in the
    /// policy each attempt is raced against the sleeper; a timed-out
    /// attempt is dropped (cancelled), reported as [`Event::Timeout`], and
    /// is a retryable failure (rule `attempt_timeout_retryable`) whose error
    /// is `E::from(TimedOut)`.
    ///
    /// # Errors
    /// [`RetryError`] carrying the last attempt's error.
    pub async fn call_async<T, E, F, Fut>(mut self, mut op: F) -> Result<T, RetryError<E>>
    where
        S: AsyncSleeper,
        P: RetryPredicate<E>,
        N: RetryNotify<E>,
        R: ResultPredicate<T>,
        C: MaybeClock,
        L: Listener<T, E>,
        E: From<TimedOut>,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = self.now();
        // Most calls succeed at once. Without a budget, an attempt timeout
        // or a result predicate, the first attempt is a bare await and its
        // success returns before any retry state exists; a failure joins
        // the loop below with it (the same decisions, in the same order).
        let first = if !R::CHECKS && self.policy.bare_first_attempt() {
            match op(1).await {
                Ok(value) => return Ok(value),
                Err(error) => Some(error),
            }
        } else {
            self.policy.deposit();
            None
        };
        let mut state = match started {
            Some(now) => RetryState::started_at(now),
            None => RetryState::new(),
        };
        if let Some(error) = first {
            let delay = self.judge_error::<T, E>(&mut state, error)?;
            self.sleeper.sleep(delay).await;
        }
        loop {
            let attempt = op(state.attempt());
            let outcome = match self.policy.attempt_timeout() {
                None => Ok(attempt.await),
                Some(limit) => timeout(&self.sleeper, limit, attempt).await,
            };
            let delay = match outcome {
                Ok(Ok(value)) => match self.judge_value::<T, E>(&mut state, value) {
                    Ok(done) => return Ok(done),
                    Err(delay) => delay,
                },
                Ok(Err(error)) => self.judge_error::<T, E>(&mut state, error)?,
                Err(timed_out) => self.judge_timeout::<T, E>(&mut state, timed_out)?,
            };
            self.sleeper.sleep(delay).await;
        }
    }

    /// A fresh state; the clock is read only when a deadline needs it.
    fn start(&self) -> RetryState
    where
        C: MaybeClock,
    {
        // Through the policy, so a retry budget gets the first attempt's deposit.
        match self.now() {
            Some(now) => self.policy.start_at(now),
            None => self.policy.start(),
        }
    }

    fn now(&self) -> Option<Duration>
    where
        C: MaybeClock,
    {
        self.policy.max_elapsed()?;
        self.clock.reading()
    }

    /// A value came back: `Ok(value)` to return it, `Err(delay)` to wait
    /// and retry.
    fn judge_value<T, E>(&mut self, state: &mut RetryState, value: T) -> Result<T, Duration>
    where
        R: ResultPredicate<T>,
        C: MaybeClock,
        L: Listener<T, E>,
    {
        if !R::CHECKS {
            return Ok(value);
        }
        let now = self.now();
        let judge = &mut self.retry_on_result;
        let failed = judge.is_failure(&value);
        let hint = if failed { judge.retry_after(&value) } else { None };
        let decision = state.on_result(self.policy, || PredicateOutcome::from_bool(failed), hint, now);
        match decision {
            None => Ok(value),
            Some(RetryDecision::Retry { attempt, delay }) => {
                self.listener.on_event(&Event::RetryScheduled {
                    attempt,
                    delay,
                    cause: Cause::Result(&value),
                });
                Err(delay)
            }
            Some(RetryDecision::GiveUp { attempts, reason }) => {
                self.listener.on_event(&Event::GaveUp { attempts, reason });
                Ok(value)
            }
        }
    }

    /// An error came back: `Ok(delay)` to wait and retry, `Err` to stop.
    fn judge_error<T, E>(&mut self, state: &mut RetryState, error: E) -> Result<Duration, RetryError<E>>
    where
        P: RetryPredicate<E>,
        N: RetryNotify<E>,
        C: MaybeClock,
        L: Listener<T, E>,
    {
        let now = self.now();
        let retry_if = &mut self.retry_if;
        let hint = if state.needs_classification(self.policy) {
            retry_if.retry_after(&error)
        } else {
            None
        };
        // Core's rule decides whether the predicate is asked at all (never
        // about the last attempt's error).
        let classify = || PredicateOutcome::from_bool(retry_if.is_retryable(&error));
        let decision = match now {
            Some(now) => state.on_failure_classified_at(self.policy, classify, hint, now),
            None => state.on_failure_classified(self.policy, classify, hint),
        };
        self.after_failure::<T, E>(decision, error)
    }

    /// An attempt timed out (async only).
    fn judge_timeout<T, E>(&mut self, state: &mut RetryState, timed_out: TimedOut) -> Result<Duration, RetryError<E>>
    where
        N: RetryNotify<E>,
        C: MaybeClock,
        L: Listener<T, E>,
        E: From<TimedOut>,
    {
        self.listener.on_event(&Event::Timeout {
            strategy: StrategyKind::AttemptTimeout,
            after: timed_out.after,
        });
        let decision = state.on_timeout(self.policy, self.now());
        self.after_failure::<T, E>(decision, E::from(timed_out))
    }

    fn after_failure<T, E>(&mut self, decision: RetryDecision, error: E) -> Result<Duration, RetryError<E>>
    where
        N: RetryNotify<E>,
        L: Listener<T, E>,
    {
        match decision {
            RetryDecision::Retry { attempt, delay } => {
                self.on_retry.notify(attempt, &error, delay);
                self.listener.on_event(&Event::RetryScheduled {
                    attempt,
                    delay,
                    cause: Cause::Error(&error),
                });
                Ok(delay)
            }
            RetryDecision::GiveUp { attempts, reason } => {
                self.listener.on_event(&Event::GaveUp { attempts, reason });
                Err(RetryError {
                    error,
                    attempts,
                    reason,
                })
            }
        }
    }
}
