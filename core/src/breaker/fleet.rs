//! Shared (fleet) mode: the sans-IO hooks a driver needs to share one
//! breaker's state across processes through a store such as Redis.
//!
//! A shared breaker still decides every call locally, from its own atomics;
//! the store is never on the call path. A driver (the `resilience-redis`
//! crate, later the Python and Node ones) runs a background loop that, every
//! sync interval:
//!
//! 1. takes [`CircuitBreaker::fleet_report`] (the local transition to
//!    publish, the trial leases wanted) and [`CircuitBreaker::take_delta`]
//!    (the calls counted since the last take) — or, on its first sync with a
//!    store generation, [`CircuitBreaker::fleet_seed`] (the whole window);
//! 2. sends them to the store in one atomic step and reads back a
//!    [`FleetView`]: the fleet's window totals, the fleet-wide open break,
//!    the fleet's close count, the trial leases this process holds;
//! 3. gives the view to [`CircuitBreaker::apply_fleet`], which decides:
//!    a fleet close closes, a fleet open opens for what is left of its break
//!    (a *remote trip*), the trip rule runs on the fleet's totals.
//!
//! When a sync fails or is too slow the driver calls
//! [`CircuitBreaker::fleet_lost`]; a view older than
//! [`FleetConfig::stale_after`] is ignored too. Either way decisions are
//! local again — the breaker behaves exactly like an unshared one — until a
//! sync succeeds.
//!
//! What is shared depends on the trip rule: every shared breaker shares its
//! openings, closings and half-open trial leases (so the fleet sends at most
//! `half_open_max_calls` probes); a failure-rate breaker with a *time*
//! window also shares its window (the trip rule runs on the fleet's
//! totals). Consecutive failures and count windows stay per process.
//!
//! ```
//! use std::time::Duration;
//! use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, FleetConfig, FleetCounts, FleetView, ManualClock};
//! let config = BreakerConfig::builder().failure_rate(0.5, 10)
//!     .time_window(Duration::from_secs(10), 10).build()?;
//! let breaker = CircuitBreaker::new(config, ManualClock::new()).in_fleet(FleetConfig::default());
//! let _ = breaker.call(|| Err::<(), _>("down"));
//! assert_eq!(breaker.take_delta().counts, FleetCounts { calls: 1, failures: 1, slow: 0 });
//! // The rest of the fleet has seen 9 more failed calls: 10 of 10 failed, the fleet trips.
//! let sent = breaker.fleet_report();
//! let view = FleetView { totals: FleetCounts { calls: 10, failures: 10, slow: 0 }, ..FleetView::default() };
//! breaker.apply_fleet(&view, &sent);
//! assert_eq!(breaker.state(), CircuitState::Open);
//! assert!(breaker.fleet_report().opened.is_some()); // this process publishes the trip
//! # Ok::<(), resilience_core::ConfigError>(())
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::config::{TripRule, Window};
use super::window::{Contents, Tally};
use super::{CircuitBreaker, CircuitState, Transition};
use crate::backoff::{BackoffStrategy, Jitter};
use crate::error::ConfigError;
use crate::policy::RetryPolicy;
use crate::rules::{self, Unit};
use crate::time::Clock;
use crate::value::Value;

/// Default time between two syncs of a shared breaker with its store.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_millis(250);
/// Default longest sync: a slower one is abandoned and decisions stay local.
pub const DEFAULT_SYNC_TIMEOUT: Duration = Duration::from_millis(50);
/// The longest wait between two reconnection attempts.
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// How a shared breaker talks to its store: how often, and how long a sync
/// may take. Everything else (staleness, lease and key lifetimes, the
/// reconnect backoff) derives from these two, here, so every driver uses
/// the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FleetConfig {
    sync_interval: Duration,
    sync_timeout: Duration,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self {
            sync_interval: DEFAULT_SYNC_INTERVAL,
            sync_timeout: DEFAULT_SYNC_TIMEOUT,
        }
    }
}

impl FleetConfig {
    /// A builder starting from the defaults (250 ms, 50 ms).
    pub fn builder() -> FleetConfigBuilder {
        FleetConfigBuilder {
            sync_interval: Value::Duration(DEFAULT_SYNC_INTERVAL),
            sync_timeout: Value::Duration(DEFAULT_SYNC_TIMEOUT),
            unit: Unit::Nanoseconds,
        }
    }

    /// Time between two syncs.
    pub fn sync_interval(&self) -> Duration {
        self.sync_interval
    }

    /// The longest sync.
    pub fn sync_timeout(&self) -> Duration {
        self.sync_timeout
    }

    /// Rule `fleet_stale`: a fleet view older than two sync intervals plus
    /// the sync timeout is ignored (decisions are local), even if the
    /// driver never said the sync was lost (a stuck driver, a suspended
    /// process).
    pub fn stale_after(&self) -> Duration {
        self.sync_interval.saturating_mul(2).saturating_add(self.sync_timeout)
    }

    /// How long a half-open trial lease lives in the store unless renewed:
    /// three sync intervals plus the timeout (a holder renews it at every
    /// sync; a holder that died frees it after this long).
    pub fn lease_ttl(&self) -> Duration {
        self.sync_interval.saturating_mul(3).saturating_add(self.sync_timeout)
    }

    /// The reconnect backoff drivers use after a failed sync or connection:
    /// core's exponential backoff from one sync interval up to
    /// [`MAX_RECONNECT_DELAY`] (or the interval, if longer), with equal
    /// jitter so a fleet does not reconnect in lockstep. Ask
    /// `calculate_delay(n)` for the wait after the n-th failure in a row.
    pub fn reconnect_policy(&self) -> RetryPolicy {
        let max = MAX_RECONNECT_DELAY.max(self.sync_interval);
        RetryPolicy::builder()
            .max_attempts(u32::MAX)
            .backoff(BackoffStrategy::Exponential)
            .base_delay(self.sync_interval)
            .max_delay(max)
            .jitter(Jitter::Equal)
            .build()
            // Both bounds are validated durations and max >= base.
            .unwrap_or_default()
    }
}

/// Builds a [`FleetConfig`] from Rust durations or from a binding's values;
/// [`build`](FleetConfigBuilder::build) runs rule `fleet_duration`.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{rules::Unit, FleetConfig, Value};
/// let config = FleetConfig::builder().sync_interval(Duration::from_millis(100)).build()?;
/// assert_eq!(config.stale_after(), Duration::from_millis(250));
/// // A binding passes its values and unit (Python: seconds).
/// let err = FleetConfig::builder().values(Unit::Seconds, Value::Float(0.0), Value::Absent).build().unwrap_err();
/// assert_eq!(err.parameter(), "sync_interval");
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FleetConfigBuilder {
    sync_interval: Value,
    sync_timeout: Value,
    unit: Unit,
}

impl FleetConfigBuilder {
    /// Time between two syncs (at least 1 ms).
    pub fn sync_interval(mut self, d: Duration) -> Self {
        self.sync_interval = Value::Duration(d);
        self
    }

    /// The longest sync (at least 1 ms).
    pub fn sync_timeout(mut self, d: Duration) -> Self {
        self.sync_timeout = Value::Duration(d);
        self
    }

    /// Both parameters as a binding received them, in its `unit`;
    /// [`Value::Absent`] keeps the default.
    pub fn values(mut self, unit: Unit, sync_interval: Value, sync_timeout: Value) -> Self {
        self.unit = unit;
        if sync_interval != Value::Absent {
            self.sync_interval = sync_interval;
        }
        if sync_timeout != Value::Absent {
            self.sync_timeout = sync_timeout;
        }
        self
    }

    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] naming `sync_interval` or `sync_timeout` when one is
    /// not a duration of at least 1 ms.
    pub fn build(self) -> Result<FleetConfig, ConfigError> {
        let unit_of = |v: &Value| match v {
            Value::Duration(_) => Unit::Nanoseconds,
            _ => self.unit,
        };
        Ok(FleetConfig {
            sync_interval: rules::fleet_duration(
                "sync_interval",
                self.sync_interval.clone(),
                unit_of(&self.sync_interval),
            )?,
            sync_timeout: rules::fleet_duration(
                "sync_timeout",
                self.sync_timeout.clone(),
                unit_of(&self.sync_timeout),
            )?,
        })
    }
}

/// Calls, failed calls and slow calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FleetCounts {
    /// Calls.
    pub calls: u64,
    /// Failed calls (counted failures).
    pub failures: u64,
    /// Slow calls.
    pub slow: u64,
}

impl FleetCounts {
    /// Whether all three are zero.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    fn plus(self, other: Self) -> Self {
        Self {
            calls: self.calls.saturating_add(other.calls),
            failures: self.failures.saturating_add(other.failures),
            slow: self.slow.saturating_add(other.slow),
        }
    }

    fn tally(self) -> Tally {
        Tally {
            calls: self.calls,
            failures: self.failures.min(self.calls),
            slow: self.slow.min(self.calls),
        }
    }
}

/// The calls a shared breaker counted since the last take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FleetDelta {
    /// What was counted.
    pub counts: FleetCounts,
    /// The breaker's clock when it was taken. A driver sends its age
    /// (`clock.now() - taken_at`) so the store counts it at the right time,
    /// even when it is sent late (after an outage).
    pub taken_at: Duration,
}

/// A shared breaker's whole window, for (re-)seeding a store that does not
/// hold this process's calls (its first sync, or a store restarted empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FleetSeed {
    /// `(age, counts)` per window bucket, newest first: the calls counted
    /// between `age` and `age + bucket width` ago. Empty without a time window.
    pub buckets: Vec<(Duration, FleetCounts)>,
}

/// What the store reports about the fleet as of one sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FleetView {
    /// The fleet's window totals — every process, this one included (up to
    /// what it sent in this sync).
    pub totals: FleetCounts,
    /// Time left on the fleet-wide break; zero when the fleet is not open.
    pub open_remaining: Duration,
    /// How many times the fleet closed (a trial succeeded somewhere). Only
    /// its changes matter: an increase closes this breaker.
    pub closes: u64,
    /// Half-open trials this process holds a fleet lease for.
    pub leases: u32,
}

/// What a driver must publish for a shared breaker (from
/// [`CircuitBreaker::fleet_report`]); give it back to
/// [`CircuitBreaker::apply_fleet`] with the answer, so what was published
/// is not published again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FleetReport {
    mark: u64,
    /// A local opening since the last acknowledged report, with the time
    /// left of its break (the fleet-wide open key expires then). `None`
    /// when the last local transition was not an opening, or its break is over.
    pub opened: Option<Duration>,
    /// The last local transition since the last acknowledged report was a
    /// close (a trial succeeded here).
    pub closed: bool,
    /// Time left of the local break (zero when not open): re-seeds the
    /// fleet-wide open key when the store lost it.
    pub open_remaining: Duration,
    /// Fleet trial leases to hold: `half_open_max_calls` while the breaker
    /// is half-open (its break has passed), zero otherwise.
    pub leases_wanted: u32,
}

/// A shared breaker's view of its fleet (a copy; read it again for a newer one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FleetStatus {
    /// Whether decisions use the fleet's view: a sync succeeded within
    /// [`FleetConfig::stale_after`] and none failed since.
    pub live: bool,
    /// The fleet's window totals as of the last sync.
    pub totals: FleetCounts,
    /// Trial leases held as of the last sync.
    pub leases: u32,
    /// Openings caused by the fleet (another process tripped).
    pub remote_opens: u64,
    /// Closings caused by the fleet (a trial succeeded elsewhere).
    pub remote_closes: u64,
    /// Time since the last successful sync (`None` before the first).
    pub since_sync: Option<Duration>,
}

// `Fleet::flags` bits.
const HAS_VIEW: u8 = 1;
const LOST: u8 = 1 << 1;
const HAS_CLOSES: u8 = 1 << 2;

// `Fleet::mark`: the last local transition not yet acknowledged.
const MARK_NONE: u8 = 0;
const MARK_OPENED: u8 = 1;
const MARK_CLOSED: u8 = 2;

// The pending word: calls in bits 42..64, failures in 21..42, slow in 0..21.
// One word, so a take sees each call with its failure and slowness — three
// counters taken one after another can put a call and its failure in
// different batches, and a batch with more failures than calls could trip
// the fleet. A call adds one `fetch_add`.
const CALL_SHIFT: u32 = 42;
const FAILURE_SHIFT: u32 = 21;
const FIELD_MASK: u64 = (1 << 21) - 1;
/// Spill the word into `spilled` well before a field could carry into the
/// next (at most this many calls race past the check).
const SPILL_AT: u64 = FIELD_MASK - (1 << 16);

fn unpack_pending(word: u64) -> FleetCounts {
    FleetCounts {
        calls: word >> CALL_SHIFT,
        failures: (word >> FAILURE_SHIFT) & FIELD_MASK,
        slow: word & FIELD_MASK,
    }
}

/// The counts the closed path adds, on their own cache line (written by
/// every call; the rest of the fleet state is not).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Pending {
    word: AtomicU64,
    /// Counts moved out of `word` before its fields fill up (a driver that
    /// has not taken for a long time); taken with it, under this lock.
    spilled: Mutex<FleetCounts>,
}

type Waker = Box<dyn Fn() + Send + Sync>;

/// A shared breaker's fleet state. Written under the breaker's lock (views,
/// marks) or lock-free (pending counts); read lock-free.
pub(super) struct Fleet {
    config: FleetConfig,
    /// Whether calls are counted for the fleet (a time window).
    counts_calls: bool,
    pending: Pending,
    view_calls: AtomicU64,
    view_failures: AtomicU64,
    view_slow: AtomicU64,
    leases: AtomicU32,
    synced_at_nanos: AtomicU64,
    flags: AtomicU8,
    seen_closes: AtomicU64,
    mark: AtomicU8,
    /// Bumped at every mark, so an acknowledgement only clears the mark it saw.
    mark_seq: AtomicU64,
    remote_opens: AtomicU64,
    remote_closes: AtomicU64,
    waker: OnceLock<Waker>,
}

impl Fleet {
    pub(super) fn new(config: FleetConfig, window: Option<Window>) -> Self {
        Self {
            config,
            counts_calls: matches!(window, Some(Window::Time { .. })),
            pending: Pending::default(),
            view_calls: AtomicU64::new(0),
            view_failures: AtomicU64::new(0),
            view_slow: AtomicU64::new(0),
            leases: AtomicU32::new(0),
            synced_at_nanos: AtomicU64::new(0),
            flags: AtomicU8::new(0),
            seen_closes: AtomicU64::new(0),
            mark: AtomicU8::new(MARK_NONE),
            mark_seq: AtomicU64::new(0),
            remote_opens: AtomicU64::new(0),
            remote_closes: AtomicU64::new(0),
            waker: OnceLock::new(),
        }
    }

    /// Counts one closed-state call for the fleet (the hot path: one
    /// relaxed add, two more for a failed and slow call).
    #[inline]
    pub(super) fn count(&self, failure: bool, slow: bool) {
        if !self.counts_calls {
            return;
        }
        let add = (1 << CALL_SHIFT) | (u64::from(failure) << FAILURE_SHIFT) | u64::from(slow);
        let before = self.pending.word.fetch_add(add, Ordering::AcqRel);
        if before >> CALL_SHIFT >= SPILL_AT {
            self.spill();
        }
    }

    #[cold]
    #[inline(never)]
    fn spill(&self) {
        let mut spilled = self.pending.spilled.lock().unwrap_or_else(PoisonError::into_inner);
        let word = self.pending.word.swap(0, Ordering::AcqRel);
        *spilled = spilled.plus(unpack_pending(word));
    }

    /// Every count since the last take, each call with its failure and
    /// slowness: over the batches, each is taken exactly once.
    fn take_pending(&self) -> FleetCounts {
        let mut spilled = self.pending.spilled.lock().unwrap_or_else(PoisonError::into_inner);
        let word = self.pending.word.swap(0, Ordering::AcqRel);
        std::mem::take(&mut *spilled).plus(unpack_pending(word))
    }

    fn pending(&self) -> FleetCounts {
        let spilled = *self.pending.spilled.lock().unwrap_or_else(PoisonError::into_inner);
        spilled.plus(unpack_pending(self.pending.word.load(Ordering::Acquire)))
    }

    fn view_totals(&self) -> FleetCounts {
        FleetCounts {
            calls: self.view_calls.load(Ordering::Acquire),
            failures: self.view_failures.load(Ordering::Acquire),
            slow: self.view_slow.load(Ordering::Acquire),
        }
    }

    fn store_totals(&self, totals: FleetCounts) {
        self.view_calls.store(totals.calls, Ordering::Release);
        self.view_failures.store(totals.failures, Ordering::Release);
        self.view_slow.store(totals.slow, Ordering::Release);
    }

    /// Rule `fleet_stale`: whether the last view may be used at `now_ns`.
    pub(super) fn live(&self, now_ns: u64) -> bool {
        let flags = self.flags.load(Ordering::Acquire);
        if flags & HAS_VIEW == 0 || flags & LOST != 0 {
            return false;
        }
        let age = now_ns.saturating_sub(self.synced_at_nanos.load(Ordering::Acquire));
        Duration::from_nanos(age) <= self.config.stale_after()
    }

    /// What closing clears of the fleet state (under the lock): the counts
    /// of the old window — the store clears the fleet's window when a close
    /// is published, and a process that learns of a close does the same.
    pub(super) fn on_close(&self) {
        let _ = self.take_pending();
        self.store_totals(FleetCounts::default());
    }

    /// A local decision to publish (under the lock).
    fn set_mark(&self, mark: u8) {
        self.mark.store(mark, Ordering::Release);
        self.mark_seq.fetch_add(1, Ordering::AcqRel);
    }

    pub(super) fn marked_opened(&self) {
        self.set_mark(MARK_OPENED);
    }

    pub(super) fn marked_closed(&self) {
        self.set_mark(MARK_CLOSED);
    }

    pub(super) fn clear_mark(&self) {
        self.set_mark(MARK_NONE);
    }

    /// Wakes the driver when a local transition waits to be published
    /// (called outside the breaker's lock).
    pub(super) fn wake_if_marked(&self) {
        if self.mark.load(Ordering::Acquire) != MARK_NONE {
            if let Some(waker) = self.waker.get() {
                waker();
            }
        }
    }
}

impl<C: Clock> CircuitBreaker<C> {
    /// Opts this breaker into shared (fleet) mode with a driver's sync
    /// parameters. Its decisions stay local; a driver then syncs it with
    /// the rest of the fleet (see the `fleet` module docs). The closed path
    /// of an unshared breaker is unchanged; a shared one with a time window
    /// adds one relaxed atomic add per call.
    pub fn in_fleet(mut self, config: FleetConfig) -> Self {
        self.fleet = Some(Box::new(Fleet::new(config, self.config.window())));
        self
    }

    /// The fleet parameters, when shared.
    pub fn fleet_config(&self) -> Option<FleetConfig> {
        self.fleet.as_ref().map(|f| f.config)
    }

    /// The bucket width and bucket count a store's fleet window must have
    /// for this breaker (a failure-rate rule over a time window), or `None`
    /// (nothing counted for the fleet).
    pub fn fleet_window(&self) -> Option<(Duration, u32)> {
        match self.config.trip {
            TripRule::FailureRate {
                window: Window::Time { buckets, .. },
                ..
            } => self
                .window
                .as_ref()
                .and_then(|w| w.bucket_width())
                .map(|width| (width, buckets)),
            _ => None,
        }
    }

    /// How long a store keeps this breaker's keys without a sync: the whole
    /// window plus a bucket, and at least four stale periods. A fleet that
    /// stopped syncing for longer starts a new store generation (every
    /// process re-seeds it).
    pub fn fleet_key_ttl(&self) -> Duration {
        let stale = self
            .fleet
            .as_ref()
            .map_or(Duration::ZERO, |f| f.config.stale_after().saturating_mul(4));
        let window = self.fleet_window().map_or(Duration::ZERO, |(width, buckets)| {
            width.saturating_mul(buckets.saturating_add(1))
        });
        stale.max(window)
    }

    /// Registers the function a driver wants called when a local transition
    /// waits to be published (so it can sync at once instead of at the next
    /// interval). Called outside the breaker's lock, from the thread whose
    /// call caused the transition: keep it short and non-blocking (set a
    /// flag, unpark a thread). Returns `false` if one is already set or the
    /// breaker is not shared.
    pub fn set_fleet_waker(&self, waker: impl Fn() + Send + Sync + 'static) -> bool {
        self.fleet
            .as_ref()
            .is_some_and(|f| f.waker.set(Box::new(waker)).is_ok())
    }

    /// Rule `fleet_delta`: the calls, failures and slow calls counted since
    /// the last take (closed-state calls of a time window; trials and
    /// rejected calls are not window calls). Zero when not shared or without
    /// a time window.
    pub fn take_delta(&self) -> FleetDelta {
        FleetDelta {
            counts: self.fleet.as_ref().map_or(FleetCounts::default(), |f| f.take_pending()),
            taken_at: self.clock.now(),
        }
    }

    /// This breaker's whole window, for a store that does not hold its
    /// calls yet. The counts not yet taken are part of it: they are
    /// discarded from the next [`take_delta`](Self::take_delta).
    pub fn fleet_seed(&self) -> FleetSeed {
        let Some(fleet) = self.fleet.as_ref().filter(|f| f.counts_calls) else {
            return FleetSeed::default();
        };
        // Discard first, then read: a call counted in between is in the
        // window read below and not in the next delta — counted once.
        let _ = fleet.take_pending();
        let now = self.clock.now();
        let (Some(window), Some((width, _))) = (&self.window, self.fleet_window()) else {
            return FleetSeed::default(); // coverage: unreachable — `counts_calls` means a time window: both exist
        };
        let buckets = match window.contents(now) {
            Contents::Buckets(buckets) => buckets
                .into_iter()
                .map(|(age, t)| {
                    let age = width.saturating_mul(u32::try_from(age).unwrap_or(u32::MAX));
                    (
                        age,
                        FleetCounts {
                            calls: t.calls,
                            failures: t.failures,
                            slow: t.slow,
                        },
                    )
                })
                .collect(),
            Contents::Calls(_) => Vec::new(), // coverage: unreachable — a time window holds buckets, never calls
        };
        FleetSeed { buckets }
    }

    /// Rule `fleet_report`: what the driver must publish now — the last
    /// local transition since the last acknowledged report (kept until a
    /// sync acknowledges it, so a failed sync loses nothing), the local
    /// break left, and the trial leases wanted.
    pub fn fleet_report(&self) -> FleetReport {
        let Some(fleet) = &self.fleet else {
            return FleetReport::default();
        };
        let _guard = self.lock();
        let mark = fleet.mark.load(Ordering::Acquire);
        let stored = self.stored();
        let open_remaining = match stored {
            CircuitState::Open => self.break_duration().saturating_sub(self.open_elapsed()),
            _ => Duration::ZERO,
        };
        let half_open =
            matches!(stored, CircuitState::HalfOpen) || (stored == CircuitState::Open && open_remaining.is_zero());
        FleetReport {
            mark: fleet.mark_seq.load(Ordering::Acquire),
            opened: (mark == MARK_OPENED && !open_remaining.is_zero()).then_some(open_remaining),
            closed: mark == MARK_CLOSED,
            open_remaining,
            leases_wanted: if half_open { self.config.half_open_max_calls } else { 0 },
        }
    }

    /// The driver could not sync (the store is down, slow or answered
    /// nonsense): decisions are local from now on, until the next
    /// [`apply_fleet`](Self::apply_fleet).
    pub fn fleet_lost(&self) {
        if let Some(fleet) = &self.fleet {
            fleet.flags.fetch_or(LOST, Ordering::AcqRel);
        }
    }

    /// Applies what the store answered to the sync that published `sent`.
    /// Rules, in order:
    ///
    /// - `remote_close`: the fleet's close count grew since the last view
    ///   (not at the first view, and not when it shrank: a store restarted
    ///   empty) → an open or half-open breaker closes — unless a local
    ///   opening waits to be published (the newer decision wins).
    /// - `remote_trip`: the fleet is open → a closed or half-open breaker
    ///   opens for what is left of the fleet's break; an open one whose
    ///   break ends sooner is extended; a fleet open never shortens a local
    ///   break; an isolated breaker ignores the fleet.
    /// - `fleet_totals_trip`: otherwise a closed breaker runs its trip rule
    ///   on the fleet's totals plus what it counted since this sync; a trip
    ///   is a local decision (published at the next sync).
    ///
    /// Returns the net transition (the listener hears each step).
    pub fn apply_fleet(&self, view: &FleetView, sent: &FleetReport) -> Option<Transition> {
        let fleet = self.fleet.as_ref()?;
        let mut steps: [Option<Transition>; 2] = [None, None];
        let before = {
            let _guard = self.lock();
            let before = self.state();
            let now = self.now_nanos();
            fleet.store_totals(view.totals);
            fleet.leases.store(view.leases, Ordering::Release);
            fleet.synced_at_nanos.store(now, Ordering::Release);
            let flags = fleet.flags.load(Ordering::Acquire);
            fleet.flags.store((flags | HAS_VIEW) & !LOST, Ordering::Release);
            if fleet.mark_seq.load(Ordering::Acquire) == sent.mark {
                fleet.mark.store(MARK_NONE, Ordering::Release);
            }
            let opening_unpublished = fleet.mark.load(Ordering::Acquire) == MARK_OPENED;

            // remote_close
            let seen = fleet.seen_closes.swap(view.closes, Ordering::AcqRel);
            let closed_elsewhere = flags & HAS_CLOSES != 0 && view.closes > seen;
            fleet.flags.fetch_or(HAS_CLOSES, Ordering::AcqRel);
            if closed_elsewhere
                && !opening_unpublished
                && matches!(self.stored(), CircuitState::Open | CircuitState::HalfOpen)
            {
                self.close_counts();
                // The view is newer than the close: keep its totals.
                fleet.store_totals(view.totals);
                steps[0] = self.enter(CircuitState::Closed);
                fleet.remote_closes.fetch_add(1, Ordering::Relaxed);
            }

            // remote_trip, else fleet_totals_trip
            if !view.open_remaining.is_zero() {
                steps[1] = self.remote_trip(fleet, view.open_remaining, now);
            } else if self.stored() == CircuitState::Closed && self.fleet_rate_trips(fleet, now) {
                steps[1] = self.open_now();
            }
            before
        };
        for t in steps {
            self.notify(t);
        }
        let after = self.state();
        (after != before).then_some(Transition {
            from: before,
            to: after,
        })
    }

    /// Rule `remote_trip` (under the lock).
    fn remote_trip(&self, fleet: &Fleet, remaining: Duration, now: u64) -> Option<Transition> {
        let stored = self.stored();
        let local_left = match stored {
            CircuitState::Open => self.break_duration().saturating_sub(self.open_elapsed()),
            _ => Duration::ZERO,
        };
        match stored {
            CircuitState::Isolated => None,
            CircuitState::Open if local_left >= remaining => None,
            CircuitState::Open if !local_left.is_zero() => {
                // Still open here, but the fleet's break ends later: extend.
                self.set_break(now, remaining);
                None
            }
            _ => {
                // Closed, half-open, or open with its break over: a new
                // opening, decided elsewhere (not published again).
                let opening = self.openings_in_a_row.load(Ordering::Acquire).saturating_add(1);
                self.openings_in_a_row.store(opening, Ordering::Release);
                self.set_break(now, remaining);
                self.openings.fetch_add(1, Ordering::Relaxed);
                fleet.remote_opens.fetch_add(1, Ordering::Relaxed);
                self.enter(CircuitState::Open)
            }
        }
    }

    /// Rule `fleet_totals_trip`: the trip rule on the fleet's totals plus
    /// the calls counted here since the last sync, while the view is live.
    pub(super) fn fleet_rate_trips(&self, fleet: &Fleet, now_ns: u64) -> bool {
        fleet.counts_calls && fleet.live(now_ns) && self.rate_trips(fleet.view_totals().plus(fleet.pending()).tally())
    }

    /// The half-open trial limit now: `half_open_max_calls`, or — shared,
    /// with a live view — no more than the fleet leases held (rule
    /// `fleet_leases`).
    pub(super) fn trial_limit(&self) -> u32 {
        let limit = self.config.half_open_max_calls;
        match &self.fleet {
            Some(fleet) if fleet.live(self.now_nanos()) => limit.min(fleet.leases.load(Ordering::Acquire)),
            _ => limit,
        }
    }

    /// The fleet as this breaker last saw it; `None` when not shared.
    pub fn fleet_status(&self) -> Option<FleetStatus> {
        let fleet = self.fleet.as_ref()?;
        let now = self.now_nanos();
        let has_view = fleet.flags.load(Ordering::Acquire) & HAS_VIEW != 0;
        Some(FleetStatus {
            live: fleet.live(now),
            totals: fleet.view_totals(),
            leases: fleet.leases.load(Ordering::Acquire),
            remote_opens: fleet.remote_opens.load(Ordering::Relaxed),
            remote_closes: fleet.remote_closes.load(Ordering::Relaxed),
            since_sync: has_view
                .then(|| Duration::from_nanos(now.saturating_sub(fleet.synced_at_nanos.load(Ordering::Acquire)))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_counts_spill_before_a_field_fills_and_stay_exact() {
        let fleet = Fleet::new(
            FleetConfig::default(),
            Some(Window::Time {
                sampling_duration: Duration::from_secs(1),
                buckets: 10,
            }),
        );
        let n = FIELD_MASK + 10;
        for i in 0..n {
            fleet.count(i % 2 == 0, i % 5 == 0);
        }
        let taken = fleet.take_pending();
        assert_eq!(taken.calls, n);
        assert_eq!(taken.failures, n.div_ceil(2));
        assert_eq!(taken.slow, n.div_ceil(5));
        assert_eq!(fleet.take_pending(), FleetCounts::default());
    }
}
