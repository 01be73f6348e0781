//! Retry executors: thin loops over [`RetryState`], blocking and async.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::policy::RetryPolicy;
use crate::retry_state::{GiveUpReason, RetryDecision, RetryState};
use crate::rules::PredicateOutcome;
use crate::time::{AsyncSleeper, Sleeper};

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
/// `retry_if` says whether an error is retryable (default: all), `on_retry`
/// is told `(failed_attempt, &error, delay)` before each wait.
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
#[derive(Debug, Clone)]
pub struct Retry<'p, S, P = AlwaysRetry, N = NoNotify> {
    policy: &'p RetryPolicy,
    sleeper: S,
    retry_if: P,
    on_retry: N,
}

/// The default predicate: every error is retryable.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysRetry;

/// The default notification: nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNotify;

/// Decides whether an error is retryable.
pub trait RetryPredicate<E> {
    /// `true` if `error` may be retried.
    fn is_retryable(&mut self, error: &E) -> bool;
}

impl<E> RetryPredicate<E> for AlwaysRetry {
    fn is_retryable(&mut self, _: &E) -> bool {
        true
    }
}

impl<E, F: FnMut(&E) -> bool> RetryPredicate<E> for F {
    fn is_retryable(&mut self, error: &E) -> bool {
        self(error)
    }
}

/// Observes each retry before its wait.
pub trait RetryNotify<E> {
    /// Attempt `attempt` failed with `error`; the next runs after `delay`.
    fn notify(&mut self, attempt: u32, error: &E, delay: Duration);
}

impl<E> RetryNotify<E> for NoNotify {
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
        }
    }
}

impl<'p, S, P, N> Retry<'p, S, P, N> {
    /// Retries only errors for which `predicate` returns `true`.
    pub fn retry_if<P2>(self, predicate: P2) -> Retry<'p, S, P2, N> {
        Retry {
            policy: self.policy,
            sleeper: self.sleeper,
            retry_if: predicate,
            on_retry: self.on_retry,
        }
    }

    /// Calls `hook(failed_attempt, &error, delay)` before each wait.
    pub fn on_retry<N2>(self, hook: N2) -> Retry<'p, S, P, N2> {
        Retry {
            policy: self.policy,
            sleeper: self.sleeper,
            retry_if: self.retry_if,
            on_retry: hook,
        }
    }

    /// Runs `op(attempt)` until it succeeds or the policy gives up,
    /// sleeping between attempts. Returns the last error unchanged.
    ///
    /// # Errors
    /// [`RetryError`] carrying the last attempt's error.
    pub fn call<T, E, F>(mut self, mut op: F) -> Result<T, RetryError<E>>
    where
        S: Sleeper,
        P: RetryPredicate<E>,
        N: RetryNotify<E>,
        F: FnMut(u32) -> Result<T, E>,
    {
        let mut state = self.policy.start();
        loop {
            let error = match op(state.attempt()) {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            match self.decide(&mut state, &error) {
                RetryDecision::Retry { attempt, delay } => {
                    self.on_retry.notify(attempt, &error, delay);
                    self.sleeper.sleep(delay);
                }
                RetryDecision::GiveUp { attempts, reason } => {
                    return Err(RetryError {
                        error,
                        attempts,
                        reason,
                    })
                }
            }
        }
    }

    /// The async twin of [`Retry::call`].
    ///
    /// # Errors
    /// [`RetryError`] carrying the last attempt's error.
    pub async fn call_async<T, E, F, Fut>(mut self, mut op: F) -> Result<T, RetryError<E>>
    where
        S: AsyncSleeper,
        P: RetryPredicate<E>,
        N: RetryNotify<E>,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut state = self.policy.start();
        loop {
            let error = match op(state.attempt()).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            match self.decide(&mut state, &error) {
                RetryDecision::Retry { attempt, delay } => {
                    self.on_retry.notify(attempt, &error, delay);
                    self.sleeper.sleep(delay).await;
                }
                RetryDecision::GiveUp { attempts, reason } => {
                    return Err(RetryError {
                        error,
                        attempts,
                        reason,
                    })
                }
            }
        }
    }

    fn decide<E>(&mut self, state: &mut RetryState, error: &E) -> RetryDecision
    where
        P: RetryPredicate<E>,
    {
        // Core's rule decides whether the predicate is asked at all (never
        // about the last attempt's error).
        let retry_if = &mut self.retry_if;
        state.on_failure_classified(
            self.policy,
            || PredicateOutcome::from_bool(retry_if.is_retryable(error)),
            None,
        )
    }
}
