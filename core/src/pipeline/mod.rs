//! One object composing strategies in a declared order; see [`Pipeline`].

mod asynchronous;
mod blocking;
mod error;
mod kinds;
mod layers;

pub use asynchronous::AsyncLayer;
pub use blocking::Layer;
pub use error::{LibraryError, PipelineError};
pub use kinds::StrategyKind;
pub use layers::{
    BreakerLayer, BulkheadLayer, FallbackLayer, HedgingLayer, RateLimiterLayer, RetryLayer, ThrottleLayer, TimeoutLayer,
};

use std::fmt;
use std::future::Future;

use crate::error::ConfigError;
use crate::events::{Listener, NoEvents};
use crate::rules;
use crate::time::{AsyncSleeper, Clock, Sleeper};
use crate::timeout::Timeout;

/// What every strategy of a pipeline shares: the clock (deadlines,
/// hedging), the sleeper (retry waits, timeouts, hedging timers) and the
/// listener.
pub struct Env<C, S, L> {
    pub(crate) clock: C,
    pub(crate) sleeper: S,
    pub(crate) listener: L,
}

impl<C: fmt::Debug, S, L> fmt::Debug for Env<C, S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// Strategies composed in one declared order (Polly's
/// `ResiliencePipelineBuilder`, cockatiel's `wrap`, tower's layers).
///
/// A pipeline holds each strategy at most once, in the one order of
/// [`StrategyKind::ORDER`] (rule `pipeline_order`, which every binding's
/// pipeline runs too): fallback → total timeout → retry → breaker →
/// attempt timeout → hedging → rate limiter → bulkhead → throttle, outer
/// to inner. The builder takes
/// strategies outer to inner; [`PipelineBuilder::build`] checks the order
/// and [`Pipeline::strategies`] gives it back as data.
///
/// The strategies are nested by type, so a composed call costs what the
/// same strategies nested by hand cost. Blocking pipelines
/// ([`Pipeline::call`]) hold the strategies that need no cancellation;
/// timeouts and hedging make a pipeline async-only
/// ([`Pipeline::call_async`]) — a compile-time error, not a surprise.
///
/// Errors are one type, [`PipelineError`]: the operation's own error
/// unchanged, or the library's (breaker open, timed out, bulkhead full,
/// rate limited, throttled),
/// which every strategy treats by rule `library_errors`
/// ([`LibraryError`]). One listener sees every strategy's [`Event`]s.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{BreakerConfig, BreakerLayer, CircuitBreaker, FallbackLayer, Jitter, ManualClock,
///                       Pipeline, RetryLayer, RetryPolicy, StrategyKind};
/// let clock = ManualClock::new();
/// let breaker = CircuitBreaker::new(BreakerConfig::default(), clock.clone());
/// let policy = RetryPolicy::builder().max_attempts(2).jitter(Jitter::None).build()?;
/// let pipeline = Pipeline::builder(clock.clone(), clock.clone())
///     .fallback(FallbackLayer::new(1, |_| Ok::<_, &str>("cached")))
///     .retry(RetryLayer::new(policy))
///     .breaker(BreakerLayer::new(&breaker))
///     .build()?;
/// assert_eq!(pipeline.strategies(), [StrategyKind::Fallback, StrategyKind::Retry, StrategyKind::Breaker]);
/// assert_eq!(pipeline.call(|| Err("down")), Ok("cached"));
/// assert_eq!(breaker.failure_count(), 2);
/// assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
///
/// [`Event`]: crate::Event
pub struct Pipeline<St, C, S, L = NoEvents> {
    stack: St,
    env: Env<C, S, L>,
    kinds: Vec<StrategyKind>,
}

impl<St, C: fmt::Debug, S, L> fmt::Debug for Pipeline<St, C, S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("strategies", &self.kinds)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

impl Pipeline<(), (), ()> {
    /// A builder; `clock` and `sleeper` serve every strategy (a
    /// [`ManualClock`](crate::ManualClock) is both, for tests).
    pub fn builder<C: Clock, S>(clock: C, sleeper: S) -> PipelineBuilder<(), C, S, NoEvents> {
        PipelineBuilder {
            stack: (),
            env: Env {
                clock,
                sleeper,
                listener: NoEvents,
            },
            kinds: Vec::new(),
        }
    }
}

impl<St, C: Clock, S, L> Pipeline<St, C, S, L> {
    /// The strategies, outer to inner.
    pub fn strategies(&self) -> &[StrategyKind] {
        &self.kinds
    }

    /// Runs `op` through every strategy (blocking).
    ///
    /// # Errors
    /// The operation's last error, or the library's.
    #[inline]
    pub fn call<T, E, F>(&self, mut op: F) -> Result<T, PipelineError<E>>
    where
        St: Layer<T, E>,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, E>,
    {
        self.stack.call(&self.env, &mut || op().map_err(PipelineError::Inner))
    }

    /// Runs `op` through every strategy; `op` may be called several times,
    /// and concurrently by hedging. Dropping the future cancels the call
    /// and everything it started.
    ///
    /// # Errors
    /// The operation's last error, or the library's.
    pub async fn call_async<T, E, F, Fut>(&self, op: F) -> Result<T, PipelineError<E>>
    where
        St: AsyncLayer<T, E>,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let op = &op;
        let inner = move || {
            let attempt = op();
            async move { attempt.await.map_err(PipelineError::Inner) }
        };
        self.stack.call_async(&self.env, &inner).await
    }
}

/// The builder after one more strategy `X`.
type Next<St, X, C, S, L> = PipelineBuilder<(St, X), C, S, L>;

/// Builds a [`Pipeline`], strategies outer to inner.
pub struct PipelineBuilder<St, C, S, L> {
    stack: St,
    env: Env<C, S, L>,
    kinds: Vec<StrategyKind>,
}

impl<St, C: fmt::Debug, S, L> fmt::Debug for PipelineBuilder<St, C, S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("strategies", &self.kinds)
            .finish_non_exhaustive()
    }
}

impl<St, C, S, L> PipelineBuilder<St, C, S, L> {
    fn push<X>(mut self, kind: StrategyKind, layer: X) -> Next<St, X, C, S, L> {
        self.kinds.push(kind);
        PipelineBuilder {
            stack: (self.stack, layer),
            env: self.env,
            kinds: self.kinds,
        }
    }

    /// Adds a fallback.
    pub fn fallback<F, P>(self, layer: FallbackLayer<F, P>) -> Next<St, FallbackLayer<F, P>, C, S, L> {
        self.push(StrategyKind::Fallback, layer)
    }

    /// Adds a timeout on the whole call, retries included (async only).
    pub fn total_timeout(self, timeout: Timeout) -> Next<St, TimeoutLayer, C, S, L> {
        let kind = StrategyKind::TotalTimeout;
        self.push(kind, TimeoutLayer { timeout, kind })
    }

    /// Adds a retry.
    pub fn retry<P, R>(self, layer: RetryLayer<P, R>) -> Next<St, RetryLayer<P, R>, C, S, L> {
        self.push(StrategyKind::Retry, layer)
    }

    /// Adds a circuit breaker.
    pub fn breaker<B, P, R>(self, layer: BreakerLayer<B, P, R>) -> Next<St, BreakerLayer<B, P, R>, C, S, L> {
        self.push(StrategyKind::Breaker, layer)
    }

    /// Adds a timeout on each attempt (async only).
    pub fn attempt_timeout(self, timeout: Timeout) -> Next<St, TimeoutLayer, C, S, L> {
        let kind = StrategyKind::AttemptTimeout;
        self.push(kind, TimeoutLayer { timeout, kind })
    }

    /// Adds hedging (async only).
    pub fn hedging<R>(self, layer: HedgingLayer<R>) -> Next<St, HedgingLayer<R>, C, S, L> {
        self.push(StrategyKind::Hedging, layer)
    }

    /// Adds a rate limiter.
    pub fn rate_limiter<B>(self, layer: RateLimiterLayer<B>) -> Next<St, RateLimiterLayer<B>, C, S, L> {
        self.push(StrategyKind::RateLimiter, layer)
    }

    /// Adds a bulkhead.
    pub fn bulkhead<B>(self, layer: BulkheadLayer<B>) -> Next<St, BulkheadLayer<B>, C, S, L> {
        self.push(StrategyKind::Bulkhead, layer)
    }

    /// Adds an adaptive throttle.
    pub fn throttle<B, P, R>(self, layer: ThrottleLayer<B, P, R>) -> Next<St, ThrottleLayer<B, P, R>, C, S, L> {
        self.push(StrategyKind::Throttle, layer)
    }

    /// Tells `listener` every event of every strategy.
    pub fn on_event<L2>(self, listener: L2) -> PipelineBuilder<St, C, S, L2> {
        PipelineBuilder {
            stack: self.stack,
            env: Env {
                clock: self.env.clock,
                sleeper: self.env.sleeper,
                listener,
            },
            kinds: self.kinds,
        }
    }

    /// Checks the order (rule `pipeline_order`) and builds.
    ///
    /// # Errors
    /// [`ConfigError`] naming `strategies` when a strategy is declared
    /// twice (`duplicate`) or outside one it must be inside
    /// (`out_of_order`).
    pub fn build(self) -> Result<Pipeline<St, C, S, L>, ConfigError> {
        rules::pipeline_order(&self.kinds)?;
        Ok(Pipeline {
            stack: self.stack,
            env: self.env,
            kinds: self.kinds,
        })
    }
}
