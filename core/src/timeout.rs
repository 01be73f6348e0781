//! Timeouts; see [`Timeout`].

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use crate::error::ConfigError;
use crate::rules;
use crate::time::AsyncSleeper;

/// Default timeout of a [`Timeout`] strategy: 30 s (Polly's).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A call or attempt did not finish within its timeout.
///
/// Python raises `TimeoutError`, JavaScript rejects with an error named
/// `TimeoutError`, C returns `RESILIENCE_ERR_TIMEOUT`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimedOut {
    /// The timeout that expired.
    pub after: Duration,
}

impl TimedOut {
    /// A timeout of `after` expired.
    pub fn new(after: Duration) -> Self {
        Self { after }
    }
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.after)
    }
}

impl std::error::Error for TimedOut {}

/// A timeout is an I/O error of kind [`std::io::ErrorKind::TimedOut`], so
/// operations failing with `io::Error` can be timed out as they are.
impl From<TimedOut> for std::io::Error {
    fn from(t: TimedOut) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, t)
    }
}

/// A validated timeout strategy: how long a call may take.
///
/// Timeouts: the sans-IO decision (a deadline from "now"; has it passed?)
/// and an async helper that races a future against an [`AsyncSleeper`].
///
/// Only a runtime that can abandon a running call can enforce a timeout:
/// Rust futures (dropping one cancels it), asyncio tasks, JavaScript
/// promises with an `AbortSignal`. A blocking call cannot be pre-empted;
/// there, the retry deadline (`max_elapsed`) is enforced between attempts.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{ManualClock, Timeout, TimedOut};
/// let timeout = Timeout::new(Duration::from_secs(2))?;
/// let deadline = timeout.start(Duration::from_secs(10));
/// assert!(!deadline.expired(Duration::from_millis(11_999)));
/// assert!(deadline.expired(Duration::from_secs(12)));
///
/// // Async: the call is raced against the sleeper (a ready answer wins).
/// let clock = ManualClock::new();
/// let fast = futures_lite_block_on(timeout.call(&clock, async { 7 }));
/// assert_eq!(fast, Ok(7));
/// let slow = futures_lite_block_on(timeout.call(&clock, std::future::pending::<()>()));
/// assert_eq!(slow, Err(TimedOut::new(Duration::from_secs(2))));
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeout {
    duration: Duration,
}

impl Default for Timeout {
    fn default() -> Self {
        Self {
            duration: DEFAULT_TIMEOUT,
        }
    }
}

impl Timeout {
    /// A timeout of `duration`, validated by rule `timeout` (above zero).
    ///
    /// # Errors
    /// [`ConfigError`] naming `timeout` for a zero duration.
    pub fn new(duration: Duration) -> Result<Self, ConfigError> {
        Ok(Self {
            duration: rules::bounded_timeout("timeout", duration)?,
        })
    }

    /// How long a call may take.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The sans-IO decision for a call starting at clock reading `now`.
    pub fn start(&self, now: Duration) -> Deadline {
        Deadline::after(now, self.duration)
    }

    /// Runs `fut`, giving up after the timeout (see [`timeout`]).
    ///
    /// # Errors
    /// [`TimedOut`] when the timeout expired first; `fut` is then dropped.
    pub async fn call<S: AsyncSleeper, F: Future>(&self, sleeper: &S, fut: F) -> Result<F::Output, TimedOut> {
        timeout(sleeper, self.duration, fut).await
    }
}

/// When a timed call must be over: the sans-IO half of a timeout, for
/// drivers that keep their own timers (asyncio, JavaScript, C event loops).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Deadline {
    at: Duration,
    timeout: Duration,
}

impl Deadline {
    /// A call started at clock reading `now` may take `timeout`
    /// (saturating at [`rules::MAX_DURATION`], the end of every clock's
    /// range).
    pub fn after(now: Duration, timeout: Duration) -> Self {
        Self {
            at: now.saturating_add(timeout).min(rules::MAX_DURATION),
            timeout,
        }
    }

    /// The clock reading at which the call times out.
    pub fn at(&self) -> Duration {
        self.at
    }

    /// Time left at clock reading `now` (zero once expired).
    pub fn remaining(&self, now: Duration) -> Duration {
        self.at.saturating_sub(now)
    }

    /// Rule `timeout_expiry`: the call has timed out once the clock reads
    /// the deadline or later.
    pub fn expired(&self, now: Duration) -> bool {
        now >= self.at
    }

    /// The error for this deadline.
    pub fn timed_out(&self) -> TimedOut {
        TimedOut::new(self.timeout)
    }
}

/// Races `fut` against `sleeper.sleep(after)`: the first to finish decides.
/// `fut` is polled first, so an answer that is ready when the timer fires
/// wins; the timer is only created once `fut` has had to wait, so a call
/// that answers at once never touches the sleeper. On timeout `fut` is
/// dropped, which cancels it (and frees whatever it held).
///
/// No runtime is needed: this is a select of two futures.
///
/// # Errors
/// [`TimedOut`] when the sleeper finished first.
pub async fn timeout<S: AsyncSleeper + ?Sized, F: Future>(
    sleeper: &S,
    after: Duration,
    fut: F,
) -> Result<F::Output, TimedOut> {
    let mut fut = pin!(fut);
    let mut timer = pin!(None::<S::Sleep>);
    poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        if timer.is_none() {
            timer.set(Some(sleeper.sleep(after)));
        }
        match timer.as_mut().as_pin_mut().map(|t| t.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(TimedOut::new(after))),
            _ => Poll::Pending,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;
    use std::task::{Context, Waker};

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn a_ready_answer_never_starts_the_timer() {
        let clock = ManualClock::new();
        assert_eq!(block_on(timeout(&clock, Duration::from_secs(1), async { 3 })), Ok(3));
        assert!(clock.sleeps().is_empty());
    }

    #[test]
    fn an_answer_on_a_later_poll_beats_a_timer_that_has_not_fired() {
        let mut polled = false;
        let answer = std::future::poll_fn(move |_| {
            if polled {
                Poll::Ready(7)
            } else {
                polled = true;
                Poll::Pending
            }
        });
        let never = |_: Duration| std::future::pending::<()>();
        assert_eq!(block_on(timeout(&never, Duration::from_secs(1), answer)), Ok(7));
    }

    #[test]
    fn a_pending_call_times_out_and_is_dropped() {
        struct Guard<'a>(&'a std::cell::Cell<bool>);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = std::cell::Cell::new(false);
        let clock = ManualClock::new();
        let call = async {
            let _guard = Guard(&dropped);
            std::future::pending::<()>().await;
        }; // coverage: unreachable — `pending()` never completes, so the block never reaches its end
        let got = block_on(timeout(&clock, Duration::from_millis(5), call));
        assert_eq!(got, Err(TimedOut::new(Duration::from_millis(5))));
        assert!(dropped.get(), "the timed-out call was dropped");
        assert_eq!(clock.sleeps(), vec![Duration::from_millis(5)]);
    }

    #[test]
    fn deadlines_saturate_and_expire_at_their_instant() {
        let d = Deadline::after(Duration::MAX, Duration::from_secs(1));
        assert_eq!(d.at(), rules::MAX_DURATION);
        let d = Deadline::after(Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!(d.remaining(Duration::from_millis(2500)), Duration::from_millis(500));
        assert!(!d.expired(Duration::from_millis(2999)));
        assert!(d.expired(Duration::from_secs(3)));
        assert_eq!(d.remaining(Duration::from_secs(9)), Duration::ZERO);
        assert_eq!(d.timed_out().after, Duration::from_secs(2));
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        assert_eq!(Timeout::new(Duration::ZERO).unwrap_err().parameter(), "timeout");
        assert_eq!(Timeout::default().duration(), DEFAULT_TIMEOUT);
    }
}
