//! The Rust async driver of [`HedgingState`]: every running copy is a
//! future polled by this one (no runtime, no spawned task); the winner's
//! answer is returned and the losers are dropped, which cancels them and
//! frees whatever they held (a bulkhead slot, a breaker trial).

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use super::{HedgeOutcome, HedgeStep, HedgingConfig, HedgingState};
use crate::events::{Event, Listener, NoEvents};
use crate::predicates::{NoValue, ValueFilter};
use crate::time::{AsyncSleeper, Clock};

/// Runs an operation hedged: see [`HedgingState`] for the rules. An `Ok`
/// answer is acceptable unless the result predicate
/// ([`failure_on_result`](Hedge::failure_on_result)) calls it a failure;
/// every error is a failure that starts the next copy at once. When every
/// copy failed, the last failure is returned (an `Err`, or the last value
/// judged a failure).
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{Hedge, HedgingConfig, ManualClock};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let config = HedgingConfig::builder().max_hedged_attempts(2).build()?;
/// let clock = ManualClock::new();
/// // Attempt 1 fails at once, so attempt 2 starts without waiting.
/// let answer = block_on(Hedge::new(&config, clock.clone(), clock.clone())
///     .call(|attempt| async move { if attempt == 1 { Err("down") } else { Ok(attempt) } }));
/// assert_eq!(answer, Ok(2));
/// assert!(clock.sleeps().is_empty());
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Hedge<'c, C, S, R = NoValue, L = NoEvents> {
    config: &'c HedgingConfig,
    clock: C,
    sleeper: S,
    judge: R,
    listener: L,
}

impl<'c, C: Clock, S: AsyncSleeper> Hedge<'c, C, S> {
    /// Hedges under `config`, reading `clock` and waiting on `sleeper`.
    pub fn new(config: &'c HedgingConfig, clock: C, sleeper: S) -> Self {
        Self {
            config,
            clock,
            sleeper,
            judge: NoValue,
            listener: NoEvents,
        }
    }
}

impl<'c, C: Clock, S: AsyncSleeper, R, L> Hedge<'c, C, S, R, L> {
    /// A value for which `predicate` returns `true` is a failure, not an answer.
    pub fn failure_on_result<R2>(self, predicate: R2) -> Hedge<'c, C, S, R2, L> {
        Hedge {
            config: self.config,
            clock: self.clock,
            sleeper: self.sleeper,
            judge: predicate,
            listener: self.listener,
        }
    }

    /// Tells `listener` each [`Event::HedgeStarted`].
    pub fn on_event<L2>(self, listener: L2) -> Hedge<'c, C, S, R, L2> {
        Hedge {
            config: self.config,
            clock: self.clock,
            sleeper: self.sleeper,
            judge: self.judge,
            listener,
        }
    }

    /// Runs `op(attempt)` hedged and returns the first acceptable answer.
    ///
    /// # Errors
    /// The last failure when every copy failed.
    pub async fn call<T, E, F, Fut>(self, op: F) -> Result<T, E>
    where
        R: ValueFilter<T>,
        L: Listener<T, E>,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        run(self.config, &self.clock, &self.sleeper, &self.listener, &self.judge, op).await
    }
}

/// The driver loop, shared with the pipeline's hedging layer.
pub(crate) async fn run<T, E, C, S, L, R, F, Fut>(
    config: &HedgingConfig,
    clock: &C,
    sleeper: &S,
    listener: &L,
    judge: &R,
    mut op: F,
) -> Result<T, E>
where
    C: Clock + ?Sized,
    S: AsyncSleeper + ?Sized,
    L: Listener<T, E> + ?Sized,
    R: ValueFilter<T> + ?Sized,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut state = HedgingState::new(config);
    // Boxed so each copy keeps its place while others come and go; a
    // hedge starts at most 11 copies.
    let mut copies: Vec<(u32, Pin<Box<Fut>>)> =
        Vec::with_capacity(usize::try_from(config.total_attempts()).unwrap_or(1));
    let mut timer = pin!(None::<S::Sleep>);
    let mut armed_for: Option<Duration> = None;
    poll_fn(|cx| loop {
        // Judge the copies that ended, in attempt order: an answer that
        // arrives when the next copy is due is judged first.
        let mut changed = false;
        let mut i = 0;
        while let Some((attempt, copy)) = copies.get_mut(i) {
            let Poll::Ready(answer) = copy.as_mut().poll(cx) else {
                i = i.saturating_add(1);
                continue;
            };
            let attempt = *attempt;
            let accepted = match &answer {
                Ok(value) => !(R::CHECKS && judge.matches(value)),
                Err(_) => false,
            };
            match state.on_outcome(attempt, accepted, clock.now()) {
                HedgeOutcome::Won { .. } | HedgeOutcome::AllFailed { .. } => return Poll::Ready(answer),
                _ => {
                    // A finished future must not be polled again; `remove`
                    // keeps the others in attempt order.
                    drop(copies.remove(i));
                    changed = true;
                }
            }
        }
        // Start every copy that is due.
        let until = loop {
            match state.next(clock.now()) {
                HedgeStep::Launch { attempt } => {
                    if attempt > 1 {
                        listener.on_event(&Event::HedgeStarted { attempt });
                    }
                    copies.push((attempt, Box::pin(op(attempt))));
                    changed = true;
                }
                HedgeStep::Wait { until } => break until,
                _ => break None, // coverage: unreachable — the driver returned at Won/AllFailed
            }
        };
        if changed {
            continue;
        }
        // Everything waits: the timer, created only now (a virtual-time
        // sleeper advances its clock when asked to sleep), wakes us for
        // the next copy.
        if until != armed_for {
            armed_for = until;
            let now = clock.now();
            timer.set(until.map(|at| sleeper.sleep(at.saturating_sub(now))));
        }
        match timer.as_mut().as_pin_mut().map(|t| t.poll(cx)) {
            Some(Poll::Ready(())) => {
                timer.set(None);
                armed_for = None;
            }
            _ => return Poll::Pending,
        }
    })
    .await
}
