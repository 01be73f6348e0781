//! The async half of a pipeline: every strategy, timeouts and hedging
//! included. Each layer returns a future that borrows the pipeline; the
//! composed future is one state machine, polled by whatever runtime the
//! caller uses (none is needed). Dropping it cancels everything inside:
//! running attempts, hedged copies, their breaker trials and bulkhead slots.

// Each impl spells out the future's lifetime as the trait does, rather than
// leaving it to `async fn` sugar.
#![allow(clippy::manual_async_fn)]

use std::future::Future;
use std::ops::Deref;

use super::blocking::{retry_or_give_up, sealed};
use super::error::PipelineError;
use super::layers::{
    BreakerLayer, BulkheadLayer, FallbackLayer, HedgingLayer, RateLimiterLayer, RetryLayer, ThrottleLayer, TimeoutLayer,
};
use super::Env;
use crate::breaker::CircuitBreaker;
use crate::bulkhead::Bulkhead;
use crate::events::{Cause, Event, Listener};
use crate::fallback::{FallbackState, FallbackStep};
use crate::hedging::driver;
use crate::limiter::RateLimiter;
use crate::predicates::{ErrorFilter, ValueFilter};
use crate::throttle::AdaptiveThrottle;
use crate::time::{AsyncSleeper, Clock};
use crate::timeout::timeout;

/// A strategy an async pipeline can run: every strategy, and stacks of them.
pub trait AsyncLayer<T, E>: sealed::Sealed {
    /// Runs `inner` (which may be called several times, and concurrently
    /// by hedging) under this strategy.
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a;
}

impl<T, E> AsyncLayer<T, E> for () {
    #[inline(always)]
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        _: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        inner()
    }
}

impl<T, E, A: AsyncLayer<T, E>, B: AsyncLayer<T, E>> AsyncLayer<T, E> for (A, B) {
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            let next = || self.1.call_async(env, inner);
            self.0.call_async(env, &next).await
        }
    }
}

impl<T, E, P: ErrorFilter<E>, R: ValueFilter<T>> AsyncLayer<T, E> for RetryLayer<P, R> {
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            let mut state = self.start(&env.clock);
            loop {
                let delay = match inner().await {
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
                env.sleeper.sleep(delay).await;
            }
        }
    }
}

impl<T, E, BC, B, P, R> AsyncLayer<T, E> for BreakerLayer<B, P, R>
where
    BC: Clock,
    B: Deref<Target = CircuitBreaker<BC>>,
    P: ErrorFilter<E>,
    R: ValueFilter<T>,
{
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            let judged = self
                .breaker
                .call_judged_async(
                    inner,
                    |r| self.judge(r),
                    |t| {
                        env.listener.on_event(&Event::BreakerTransition(t));
                    },
                )
                .await;
            judged.unwrap_or_else(|rejected| {
                env.listener.on_event(&Event::BreakerRejected(rejected));
                Err(PipelineError::BreakerOpen(rejected))
            })
        }
    }
}

impl<T, E, FB, FFut, P> AsyncLayer<T, E> for FallbackLayer<FB, P>
where
    FB: Fn(usize) -> FFut,
    FFut: Future<Output = Result<T, E>>,
    P: ErrorFilter<E>,
{
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            let mut error = match inner().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let mut chain = FallbackState::new(self.count);
            let mut step = chain.on_primary_error(self.handles(&error));
            while let FallbackStep::CallFallback(index) = step {
                env.listener.on_event(&Event::FallbackUsed { index });
                match (self.fallback)(index).await {
                    Ok(value) => return Ok(value),
                    Err(e) => error = PipelineError::Inner(e),
                }
                step = chain.on_fallback_error();
            }
            Err(error)
        }
    }
}

impl sealed::Sealed for TimeoutLayer {}

impl<T, E> AsyncLayer<T, E> for TimeoutLayer {
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            match timeout(&env.sleeper, self.timeout.duration(), inner()).await {
                Ok(result) => result,
                Err(timed_out) => {
                    env.listener.on_event(&Event::Timeout {
                        strategy: self.kind,
                        after: timed_out.after,
                    });
                    Err(PipelineError::TimedOut(timed_out))
                }
            }
        }
    }
}

impl<R> sealed::Sealed for HedgingLayer<R> {}

impl<T, E, R: ValueFilter<T>> AsyncLayer<T, E> for HedgingLayer<R> {
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        driver::run(
            &self.config,
            &env.clock,
            &env.sleeper,
            &env.listener,
            &self.failure_on_result,
            |_attempt| inner(),
        )
    }
}

impl<T, E, B: Deref<Target = Bulkhead>> AsyncLayer<T, E> for BulkheadLayer<B> {
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            let Some(_slot) = self.admit() else {
                env.listener.on_event(&Event::BulkheadRejected);
                return Err(PipelineError::BulkheadFull);
            };
            // The slot is held until the attempt ends or is dropped.
            inner().await
        }
    }
}

impl<T, E, LC: Clock, B: Deref<Target = RateLimiter<LC>>> AsyncLayer<T, E> for RateLimiterLayer<B> {
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            if let Err(limited) = self.admit() {
                env.listener.on_event(&Event::RateLimited(limited));
                return Err(PipelineError::RateLimited(limited));
            }
            inner().await
        }
    }
}

impl<T, E, TC, B, P, R> AsyncLayer<T, E> for ThrottleLayer<B, P, R>
where
    TC: Clock,
    B: Deref<Target = AdaptiveThrottle<TC>>,
    P: ErrorFilter<E>,
    R: ValueFilter<T>,
{
    fn call_async<'a, C, S, L, F, Fut>(
        &'a self,
        env: &'a Env<C, S, L>,
        inner: &'a F,
    ) -> impl Future<Output = Result<T, PipelineError<E>>> + 'a
    where
        C: Clock,
        S: AsyncSleeper,
        L: Listener<T, PipelineError<E>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, PipelineError<E>>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move {
            if let Err(throttled) = self.admit() {
                env.listener.on_event(&Event::Throttled(throttled));
                return Err(PipelineError::Throttled(throttled));
            }
            // A call cancelled here records nothing: its answer never came.
            let outcome = inner().await;
            self.record(&outcome);
            outcome
        }
    }
}
