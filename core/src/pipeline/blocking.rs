//! The blocking half of a pipeline: strategies that need no cancellation
//! (fallback, retry, breaker, rate limiter, bulkhead, throttle) nested by type, so the composed
//! call compiles to the same code as the strategies nested by hand.

use std::ops::Deref;

use super::error::PipelineError;
use super::layers::{BreakerLayer, BulkheadLayer, FallbackLayer, RateLimiterLayer, RetryLayer, ThrottleLayer};
use super::Env;
use crate::breaker::CircuitBreaker;
use crate::bulkhead::Bulkhead;
use crate::events::{Cause, Event, Listener};
use crate::fallback::{FallbackState, FallbackStep};
use crate::limiter::RateLimiter;
use crate::predicates::{ErrorFilter, ValueFilter};
use crate::retry_state::RetryDecision;
use crate::throttle::AdaptiveThrottle;
use crate::time::{Clock, Sleeper};

pub(super) mod sealed {
    /// Only the pipeline's own strategies are layers.
    #[allow(unreachable_pub)]
    pub trait Sealed {}
}

/// A strategy a blocking pipeline can run: the strategies that need no
/// cancellation, and stacks of them. Timeouts and hedging are not blocking
/// layers, so a pipeline holding one has no blocking `call`.
pub trait Layer<T, E>: sealed::Sealed {
    /// Runs `inner` under this strategy.
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>;
}

impl sealed::Sealed for () {}

/// No strategy: the operation itself.
impl<T, E> Layer<T, E> for () {
    #[inline(always)]
    fn call<C, S, L, F>(&self, _: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        inner()
    }
}

impl<A, B> sealed::Sealed for (A, B) {}

/// `outer` around `inner`: the pair `(everything declared before, the last
/// strategy declared)`.
impl<T, E, A: Layer<T, E>, B: Layer<T, E>> Layer<T, E> for (A, B) {
    #[inline(always)]
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        self.0.call(env, &mut || self.1.call(env, inner))
    }
}

impl<P, R> sealed::Sealed for RetryLayer<P, R> {}

impl<T, E, P: ErrorFilter<E>, R: ValueFilter<T>> Layer<T, E> for RetryLayer<P, R> {
    #[inline]
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        let mut state = self.start(&env.clock);
        loop {
            let delay = match inner() {
                Ok(value) => match self.after_value(&mut state, &value, &env.clock) {
                    None => return Ok(value),
                    Some(decision) => match retry_or_give_up(env, decision, Cause::Result(&value)) {
                        Some(delay) => delay,
                        None => return Ok(value),
                    },
                },
                Err(error) => {
                    let decision = self.after_error(&mut state, &error, &env.clock);
                    match retry_or_give_up(env, decision, Cause::Error(&error)) {
                        Some(delay) => delay,
                        None => return Err(error),
                    }
                }
            };
            env.sleeper.sleep(delay);
        }
    }
}

/// Reports a retry decision; `Some(delay)` to wait and retry.
pub(super) fn retry_or_give_up<T, E, C, S, L: Listener<T, E>>(
    env: &Env<C, S, L>,
    decision: RetryDecision,
    cause: Cause<'_, T, E>,
) -> Option<std::time::Duration> {
    match decision {
        RetryDecision::Retry { attempt, delay } => {
            env.listener.on_event(&Event::RetryScheduled { attempt, delay, cause });
            Some(delay)
        }
        RetryDecision::GiveUp { attempts, reason } => {
            env.listener.on_event(&Event::GaveUp { attempts, reason });
            None
        }
    }
}

impl<B, P, R> sealed::Sealed for BreakerLayer<B, P, R> {}

impl<T, E, BC, B, P, R> Layer<T, E> for BreakerLayer<B, P, R>
where
    BC: Clock,
    B: Deref<Target = CircuitBreaker<BC>>,
    P: ErrorFilter<E>,
    R: ValueFilter<T>,
{
    #[inline]
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        let judged = self.breaker.call_judged(
            inner,
            |r| self.judge(r),
            |t| {
                env.listener.on_event(&Event::BreakerTransition(t));
            },
        );
        judged.unwrap_or_else(|rejected| {
            env.listener.on_event(&Event::BreakerRejected(rejected));
            Err(PipelineError::BreakerOpen(rejected))
        })
    }
}

impl<F, P> sealed::Sealed for FallbackLayer<F, P> {}

impl<T, E, FB, P> Layer<T, E> for FallbackLayer<FB, P>
where
    FB: Fn(usize) -> Result<T, E>,
    P: ErrorFilter<E>,
{
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        let mut error = match inner() {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let mut chain = FallbackState::new(self.count);
        let mut step = chain.on_primary_error(self.handles(&error));
        while let FallbackStep::CallFallback(index) = step {
            env.listener.on_event(&Event::FallbackUsed { index });
            match (self.fallback)(index) {
                Ok(value) => return Ok(value),
                Err(e) => error = PipelineError::Inner(e),
            }
            step = chain.on_fallback_error();
        }
        Err(error)
    }
}

impl<B> sealed::Sealed for BulkheadLayer<B> {}

impl<T, E, B: Deref<Target = Bulkhead>> Layer<T, E> for BulkheadLayer<B> {
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        let Some(_slot) = self.admit() else {
            env.listener.on_event(&Event::BulkheadRejected);
            return Err(PipelineError::BulkheadFull);
        };
        inner()
    }
}

impl<B> sealed::Sealed for RateLimiterLayer<B> {}

impl<T, E, LC: Clock, B: Deref<Target = RateLimiter<LC>>> Layer<T, E> for RateLimiterLayer<B> {
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        if let Err(limited) = self.admit() {
            env.listener.on_event(&Event::RateLimited(limited));
            return Err(PipelineError::RateLimited(limited));
        }
        inner()
    }
}

impl<B, P, R> sealed::Sealed for ThrottleLayer<B, P, R> {}

impl<T, E, TC, B, P, R> Layer<T, E> for ThrottleLayer<B, P, R>
where
    TC: Clock,
    B: Deref<Target = AdaptiveThrottle<TC>>,
    P: ErrorFilter<E>,
    R: ValueFilter<T>,
{
    fn call<C, S, L, F>(&self, env: &Env<C, S, L>, inner: &mut F) -> Result<T, PipelineError<E>>
    where
        C: Clock,
        S: Sleeper,
        L: Listener<T, PipelineError<E>>,
        F: FnMut() -> Result<T, PipelineError<E>>,
    {
        if let Err(throttled) = self.admit() {
            env.listener.on_event(&Event::Throttled(throttled));
            return Err(PipelineError::Throttled(throttled));
        }
        let outcome = inner();
        self.record(&outcome);
        outcome
    }
}
