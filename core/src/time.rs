//! Injected time: a monotonic [`Clock`], a blocking [`Sleeper`], an
//! [`AsyncSleeper`], and one [`ManualClock`] that is all three for tests.
//!
//! The core never reads system time on its own (`std::time::Instant` panics
//! on `wasm32-unknown-unknown`); every binding supplies its clock.

use std::future::{ready, Future, Ready};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A monotonic clock: the time elapsed since an arbitrary, fixed origin.
pub trait Clock {
    /// The current reading.
    fn now(&self) -> Duration;
}

/// A blocking sleeper.
pub trait Sleeper {
    /// Blocks the calling thread for `duration`.
    fn sleep(&self, duration: Duration);
}

/// An asynchronous sleeper. The future has no `Send` bound, so
/// single-threaded runtimes (wasm, asyncio drivers) fit.
pub trait AsyncSleeper {
    /// The future returned by [`AsyncSleeper::sleep`].
    type Sleep: Future<Output = ()>;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Self::Sleep;
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

/// Any `Fn(Duration)` is a blocking sleeper (e.g. a no-op `|_| {}`).
impl<F: Fn(Duration)> Sleeper for F {
    fn sleep(&self, duration: Duration) {
        self(duration);
    }
}

/// Any `Fn(Duration) -> impl Future` is an async sleeper, e.g.
/// `|d| tokio::time::sleep(d)`.
impl<F, Fut> AsyncSleeper for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    type Sleep = Fut;
    fn sleep(&self, duration: Duration) -> Fut {
        self(duration)
    }
}

/// The operating system's monotonic clock (not on `wasm32-unknown-unknown`).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: std::time::Instant,
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// Sleeps the current thread (not on `wasm32-unknown-unknown`).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemSleeper;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Sleeper for SystemSleeper {
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that answers from a cached reading of another clock: reading it
/// is one atomic load instead of a system call (`Instant::now` costs tens of
/// nanoseconds on some virtual machines), at the precision of its ticks.
/// [`CachedClock::tick`] refreshes it; [`CachedClock::start_ticking`] does so
/// from a background thread. Readings never go backwards.
///
/// Share it behind an `Arc` (`Arc<CachedClock<_>>` is a [`Clock`]).
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{CachedClock, Clock, ManualClock};
/// let source = ManualClock::new();
/// let clock = CachedClock::new(source.clone());
/// source.advance(Duration::from_millis(5));
/// assert_eq!(clock.now(), Duration::ZERO); // not ticked yet
/// clock.tick();
/// assert_eq!(clock.now(), Duration::from_millis(5));
/// ```
#[derive(Debug)]
pub struct CachedClock<C> {
    source: C,
    nanos: AtomicU64,
}

impl<C: Clock> CachedClock<C> {
    /// A cache of `source`, read once now.
    pub fn new(source: C) -> Self {
        let nanos = AtomicU64::new(saturating_nanos(source.now()));
        Self { source, nanos }
    }

    /// Refreshes the cached reading from the source.
    pub fn tick(&self) {
        self.nanos
            .fetch_max(saturating_nanos(self.source.now()), Ordering::AcqRel);
    }
}

impl<C> Clock for CachedClock<C> {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

/// Ticks a [`CachedClock`] from a background thread until dropped.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Debug)]
pub struct Ticker {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl<C: Clock + Send + Sync + 'static> CachedClock<C> {
    /// Ticks `clock` every `period` on a background thread; the clock's
    /// precision is then `period`. Dropping the [`Ticker`] stops it.
    pub fn start_ticking(clock: &Arc<Self>, period: Duration) -> Ticker {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, clock) = (Arc::clone(&stop), Arc::clone(clock));
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Acquire) {
                std::thread::sleep(period);
                clock.tick();
            }
        });
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            // At most one period; a ticker thread that panicked has nothing to clean up.
            let _ = thread.join();
        }
    }
}

/// Virtual time for tests: a clock that only moves when told to, and a
/// sleeper (blocking and async) that advances it at once and records every
/// requested sleep. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{Clock, ManualClock, Sleeper};
/// let clock = ManualClock::new();
/// clock.sleep(Duration::from_millis(250));
/// assert_eq!(clock.now(), Duration::from_millis(250));
/// assert_eq!(clock.sleeps(), vec![Duration::from_millis(250)]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug, Default)]
struct ManualInner {
    nanos: AtomicU64,
    sleeps: Mutex<Vec<Duration>>,
}

fn saturating_nanos(d: Duration) -> u64 {
    nanos_u64(d)
}

/// Nanoseconds of `d`, saturating at `u64::MAX` (584 years) — in 64-bit
/// arithmetic, cheaper on hot paths than going through `as_nanos`'s `u128`.
#[inline]
pub(crate) fn nanos_u64(d: Duration) -> u64 {
    d.as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(u64::from(d.subsec_nanos())))
        .unwrap_or(u64::MAX)
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock at `start`.
    pub fn starting_at(start: Duration) -> Self {
        let clock = Self::new();
        clock.set(start);
        clock
    }

    /// Moves time forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let by = saturating_nanos(by);
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .inner
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_add(by)));
    }

    /// Sets the time to `to` (it may move backwards; tests decide).
    pub fn set(&self, to: Duration) {
        self.inner.nanos.store(saturating_nanos(to), Ordering::Release);
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.inner.sleeps.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Forgets the recorded sleeps.
    pub fn clear_sleeps(&self) {
        self.inner.sleeps.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn record_sleep(&self, duration: Duration) {
        self.inner
            .sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(duration);
        self.advance(duration);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.inner.nanos.load(Ordering::Acquire))
    }
}

impl Sleeper for ManualClock {
    fn sleep(&self, duration: Duration) {
        self.record_sleep(duration);
    }
}

impl AsyncSleeper for ManualClock {
    type Sleep = Ready<()>;
    fn sleep(&self, duration: Duration) -> Ready<()> {
        self.record_sleep(duration);
        ready(())
    }
}

#[cfg(all(test, not(all(target_arch = "wasm32", target_os = "unknown"))))]
mod ticker_tests {
    use super::*;

    #[test]
    fn a_ticker_refreshes_its_clock_until_dropped() {
        let source = ManualClock::new();
        let clock = Arc::new(CachedClock::new(source.clone()));
        source.advance(Duration::from_secs(7));
        let ticker = CachedClock::start_ticking(&clock, Duration::from_millis(1));
        // Waits for the background thread to tick (no assertion on how fast).
        while clock.now() != Duration::from_secs(7) {
            std::thread::yield_now();
        }
        drop(ticker);
        source.advance(Duration::from_secs(1));
        clock.tick();
        assert_eq!(clock.now(), Duration::from_secs(8));
        // Readings never go backwards, even if the source does.
        source.set(Duration::ZERO);
        clock.tick();
        assert_eq!(clock.now(), Duration::from_secs(8));
    }
}
