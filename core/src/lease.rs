//! Leased tokens: the sans-IO half of a rate limiter or a retry budget
//! shared across processes through a store (Redis: the `resilience-redis`
//! crate and the Python and Node drivers).
//!
//! A shared limiter or budget still decides every call locally, lock-free
//! and without allocating; the store is never on the call path. The fleet's
//! GCRA (or retry budget) lives in the store; a process *leases* tokens
//! from it in batches into a local pool, and every call takes from the
//! pool. A driver runs a background loop that, every sync interval (and
//! early, at most once per lease, when a call finds the pool short):
//!
//! 1. takes [`Leased::lease_request`]: how many tokens would top the pool
//!    up to its `lease_size` (or to the most cells one call asked for), and
//!    — a budget — the first attempts deposited since the last take;
//! 2. sends it to the store in one atomic step, which grants what the
//!    fleet allows and counts the deposits;
//! 3. hands the answer to [`Leased::apply_lease`]: the tokens join the pool.
//!
//! When a sync fails the driver calls [`Leased::lease_lost`]; a view older
//! than [`FleetConfig::stale_after`] is ignored too. Either way the
//! decisions fall back to local state (rule `lease_fallback`): a limiter to
//! its own GCRA at `rate ÷` the fleet size it last saw, a budget to its
//! own budget — until a sync succeeds.
//!
//! Rules (pinned by `tests/conformance/fleet/lease.json`):
//! - `lease_pool`: live, a call takes its tokens from the pool or is
//!   refused (a limiter: with a wait hint — the fleet's wait, at least one
//!   emission interval); it never waits for the store;
//! - `lease_request`: the driver asks for `max(lease_size, largest refused
//!   n) − pool`, never more;
//! - `lease_early`: a call that leaves the pool below a quarter of its
//!   target (`lease_size / 4`, rounded down), or is refused by it, wakes the
//!   driver for an early lease, once per lease; after a partial grant, not
//!   before the fleet has refilled a lease's worth (a limiter) or the next
//!   sync (a budget);
//! - `lease_fallback`: not live (no sync yet, a failed one, or none within
//!   `stale_after`), the local decision.
//!
//! The error bound: tokens used in any interval are at most what the
//! fleet's own limit allows in it plus the tokens held in pools when it
//! began — at most `processes × lease_size` (`redis/README.md`).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::breaker::FleetConfig;
use crate::time::nanos_u64;

/// What a driver asks the store for in one sync (from
/// [`Leased::lease_request`]); give it back to [`Leased::apply_lease`] with
/// the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LeaseRequest {
    /// Tokens to lease: what tops the pool up to its target (zero: the
    /// pool is full).
    pub want: u32,
    /// First attempts deposited since the last take (a budget; zero for a
    /// limiter). Taken: a driver whose sync fails sends them again.
    pub deposits: u64,
    /// The clock when taken: a driver sends the deposits' age
    /// (`now − taken_at`), so the store counts them at the right time even
    /// when they are sent late.
    pub taken_at: Duration,
}

/// What the store answered to one [`LeaseRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LeaseGrant {
    /// Tokens granted (at most the request's `want`).
    pub granted: u32,
    /// How long until the fleet can grant one more token (a limiter), or
    /// `None` when the store cannot tell (a budget: it grows with the
    /// fleet's first attempts).
    pub wait: Option<Duration>,
    /// What the fleet could still grant right after this grant.
    pub available: u64,
    /// Processes sharing this name that the store saw recently (0 counts as 1).
    pub fleet_size: u32,
}

/// A shared limiter's or budget's view of its fleet (a copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseStatus {
    /// Whether decisions use the pool: a sync succeeded within
    /// [`FleetConfig::stale_after`] and none failed since.
    pub live: bool,
    /// Tokens in the local pool.
    pub pool: u64,
    /// The pool's target.
    pub lease_size: u32,
    /// Processes the store saw as of the last sync (at least 1).
    pub fleet_size: u32,
    /// What the fleet could still grant as of the last sync.
    pub available: u64,
    /// Syncs that granted at least one token.
    pub leases: u64,
    /// Tokens granted in total.
    pub granted: u64,
    /// Early leases asked for (rule `lease_early`: a call found the pool
    /// short): each costs the driver at most one script call beyond the
    /// one per sync interval.
    pub early_leases: u64,
    /// Time since the last successful sync (`None` before the first).
    pub since_sync: Option<Duration>,
}

/// What every process sharing one name must agree on; a store refuses a
/// process whose parameters differ from the fleet's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseKind {
    /// A GCRA rate limiter.
    Limiter {
        /// `per / rate`, rounded up to the nanosecond.
        emission_interval: Duration,
        /// Cells that may be taken at once.
        burst: u32,
    },
    /// A retry budget.
    Budget {
        /// How long a first attempt or a retry counts.
        ttl: Duration,
        /// What one first attempt earns, in millionths of a retry
        /// (`retry_ratio` rounded to the millionth).
        per_deposit: u32,
        /// Retries allowed per second of `ttl` whatever the traffic.
        min_retries_per_sec: u32,
    },
}

/// The hooks a driver calls on a shared rate limiter or retry budget
/// (object-safe: one store holds both kinds, of any clock).
pub trait Leased: Send + Sync {
    /// What the store must hold fixed for this name.
    fn lease_kind(&self) -> LeaseKind;
    /// The fleet parameters and the lease size; `None` when not shared.
    fn lease_config(&self) -> Option<(FleetConfig, u32)>;
    /// Rule `lease_request`: what to ask the store for now (nothing when
    /// not shared).
    fn lease_request(&self) -> LeaseRequest;
    /// Applies the store's answer to the sync that sent `sent`: the granted
    /// tokens join the pool, and decisions use it (live) until
    /// [`FleetConfig::stale_after`] without another.
    fn apply_lease(&self, grant: &LeaseGrant, sent: &LeaseRequest);
    /// The driver could not sync: decisions are local (rule
    /// `lease_fallback`) until the next [`apply_lease`](Self::apply_lease).
    fn lease_lost(&self);
    /// The fleet as last seen; `None` when not shared.
    fn lease_status(&self) -> Option<LeaseStatus>;
    /// How long a store keeps this name's keys without a sync.
    fn lease_key_ttl(&self) -> Duration;
    /// The clock now (a driver ages deposits with it).
    fn lease_now(&self) -> Duration;
    /// Registers what a driver wants called when a call finds the pool
    /// short (rule `lease_early`): called from that call's thread, so keep
    /// it short (set a flag, unpark a thread). `false` if one is set
    /// already or not shared.
    fn set_lease_waker(&self, waker: Box<dyn Fn() + Send + Sync>) -> bool;
}

/// The default lease size of a limiter (a quarter of its burst, rounded
/// up) or a budget (a quarter of its floor per second, rounded up): four
/// processes with full pools hold one burst (one second's floor).
pub(crate) fn quarter(n: u32) -> u32 {
    n.div_ceil(4).max(1)
}

// `Lease::flags` bits.
const HAS_VIEW: u8 = 1;
const LOST: u8 = 1 << 1;
/// `early_at` when no early lease may be asked for before the next sync.
const NEVER: u64 = u64::MAX;

/// A counter on its own cache line (written by calls; the rest of the
/// lease state is written by the driver).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Line(AtomicU64);

type Waker = Box<dyn Fn() + Send + Sync>;

/// A shared limiter's or budget's lease state; lock-free.
pub(crate) struct Lease {
    config: FleetConfig,
    stale_ns: u64,
    size: u32,
    /// Below this many tokens left, ask for an early lease.
    low_water: u64,
    /// Tokens leased and not yet used.
    pool: Line,
    /// Deposits not yet taken (a budget).
    pending: Line,
    /// The most tokens one refused call asked for since the last request.
    demand: AtomicU32,
    flags: AtomicU8,
    synced_at: AtomicU64,
    /// When the fleet can grant again, as of the last sync (ns).
    wait_until: AtomicU64,
    /// No early lease before this (ns).
    early_at: AtomicU64,
    /// An early lease was asked for since the last sync.
    woken: AtomicBool,
    fleet_size: AtomicU32,
    available: AtomicU64,
    leases: AtomicU64,
    granted: AtomicU64,
    early: AtomicU64,
    waker: OnceLock<Waker>,
}

impl Lease {
    pub(crate) fn new(config: FleetConfig, size: u32) -> Self {
        Self {
            config,
            stale_ns: nanos_u64(config.stale_after()),
            size,
            low_water: u64::from(size / 4),
            pool: Line::default(),
            pending: Line::default(),
            demand: AtomicU32::new(0),
            flags: AtomicU8::new(0),
            synced_at: AtomicU64::new(0),
            wait_until: AtomicU64::new(0),
            early_at: AtomicU64::new(0),
            woken: AtomicBool::new(false),
            fleet_size: AtomicU32::new(1),
            available: AtomicU64::new(0),
            leases: AtomicU64::new(0),
            granted: AtomicU64::new(0),
            early: AtomicU64::new(0),
            waker: OnceLock::new(),
        }
    }

    pub(crate) fn config(&self) -> (FleetConfig, u32) {
        (self.config, self.size)
    }

    /// Rule `lease_fallback`: whether the pool decides at `now_ns`.
    #[inline]
    pub(crate) fn live(&self, now_ns: u64) -> bool {
        self.flags.load(Ordering::Acquire) == HAS_VIEW
            && now_ns.saturating_sub(self.synced_at.load(Ordering::Acquire)) <= self.stale_ns
    }

    /// Rule `lease_pool`: takes `n` tokens at `now_ns` if the pool holds
    /// them (rule `lease_early` when that leaves it low).
    #[inline]
    pub(crate) fn take(&self, n: u32, now_ns: u64) -> bool {
        let n = u64::from(n);
        match self
            .pool
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |pool| pool.checked_sub(n))
        {
            Ok(before) => {
                if before.saturating_sub(n) < self.low_water {
                    self.early(now_ns);
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Rule `lease_early`: a call found the pool short of `n` at `now_ns`.
    #[cold]
    pub(crate) fn short(&self, n: u32, now_ns: u64) {
        self.demand.fetch_max(n, Ordering::AcqRel);
        self.early(now_ns);
    }

    /// Rule `lease_early`: wakes the driver, once per lease, when allowed.
    #[cold]
    fn early(&self, now_ns: u64) {
        if now_ns >= self.early_at.load(Ordering::Acquire) && !self.woken.swap(true, Ordering::AcqRel) {
            self.early.fetch_add(1, Ordering::Relaxed);
            if let Some(waker) = self.waker.get() {
                waker();
            }
        }
    }

    /// How long a refused call should wait: until the fleet can grant
    /// again, as of the last sync, and at least `floor`.
    pub(crate) fn hint(&self, now_ns: u64, floor: Duration) -> Duration {
        Duration::from_nanos(self.wait_until.load(Ordering::Acquire).saturating_sub(now_ns)).max(floor)
    }

    /// Counts a deposit for the fleet (one relaxed add on its own line).
    #[inline]
    pub(crate) fn deposit(&self) {
        self.pending.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn pool(&self) -> u64 {
        self.pool.0.load(Ordering::Acquire)
    }

    pub(crate) fn fleet_size(&self) -> u32 {
        self.fleet_size.load(Ordering::Acquire)
    }

    /// Rule `lease_request`.
    pub(crate) fn request(&self, now: Duration) -> LeaseRequest {
        let target = u64::from(self.size.max(self.demand.swap(0, Ordering::AcqRel)));
        let want = target.saturating_sub(self.pool());
        LeaseRequest {
            // At most the target, a u32.
            want: u32::try_from(want).unwrap_or(u32::MAX),
            deposits: self.pending.0.swap(0, Ordering::AcqRel),
            taken_at: now,
        }
    }

    /// Applies a grant at `now_ns`; `refill` is how long after a partial
    /// grant the fleet has a lease's worth again (`None`: unknown, wait for
    /// the next sync).
    pub(crate) fn apply(&self, grant: &LeaseGrant, sent: &LeaseRequest, now_ns: u64, refill: Option<Duration>) {
        self.pool.0.fetch_add(u64::from(grant.granted), Ordering::AcqRel);
        self.fleet_size.store(grant.fleet_size.max(1), Ordering::Release);
        self.available.store(grant.available, Ordering::Release);
        if grant.granted > 0 {
            self.leases.fetch_add(1, Ordering::Relaxed);
            self.granted.fetch_add(u64::from(grant.granted), Ordering::Relaxed);
        }
        let wait = grant.wait.map_or(0, nanos_u64);
        self.wait_until.store(now_ns.saturating_add(wait), Ordering::Release);
        let early_at = if grant.granted >= sent.want {
            now_ns
        } else {
            refill.map_or(NEVER, |d| now_ns.saturating_add(nanos_u64(d)))
        };
        self.early_at.store(early_at, Ordering::Release);
        self.woken.store(false, Ordering::Release);
        self.synced_at.store(now_ns, Ordering::Release);
        self.flags.store(HAS_VIEW, Ordering::Release);
    }

    pub(crate) fn lost(&self) {
        self.flags.fetch_or(LOST, Ordering::AcqRel);
    }

    pub(crate) fn set_waker(&self, waker: Waker) -> bool {
        self.waker.set(waker).is_ok()
    }

    pub(crate) fn status(&self, now_ns: u64) -> LeaseStatus {
        let has_view = self.flags.load(Ordering::Acquire) & HAS_VIEW != 0;
        LeaseStatus {
            live: self.live(now_ns),
            pool: self.pool(),
            lease_size: self.size,
            fleet_size: self.fleet_size(),
            available: self.available.load(Ordering::Acquire),
            leases: self.leases.load(Ordering::Relaxed),
            granted: self.granted.load(Ordering::Relaxed),
            early_leases: self.early.load(Ordering::Relaxed),
            since_sync: has_view
                .then(|| Duration::from_nanos(now_ns.saturating_sub(self.synced_at.load(Ordering::Acquire)))),
        }
    }

    /// How long a store keeps the keys: four stale periods, and at least
    /// `at_least` (a budget's window).
    pub(crate) fn key_ttl(&self, at_least: Duration) -> Duration {
        self.config.stale_after().saturating_mul(4).max(at_least)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    use super::*;
    use crate::budget::{RetryBudget, RetryBudgetConfig};
    use crate::limiter::{RateLimiter, RateLimiterConfig};
    use crate::time::ManualClock;

    fn limiter(clock: &ManualClock) -> RateLimiter<ManualClock> {
        let config = RateLimiterConfig::builder().rate(10).burst(8).build().unwrap();
        RateLimiter::new(config, clock.clone())
    }

    #[test]
    fn unshared_objects_answer_the_hooks_with_nothing() {
        let clock = ManualClock::new();
        let budget = RetryBudget::new(RetryBudgetConfig::default(), clock.clone());
        let l = limiter(&clock);
        for hooks in [&l as &dyn Leased, &budget as &dyn Leased] {
            assert_eq!(hooks.lease_config(), None);
            assert_eq!(hooks.lease_request(), LeaseRequest::default());
            hooks.apply_lease(&LeaseGrant::default(), &LeaseRequest::default());
            hooks.lease_lost();
            assert_eq!(hooks.lease_status(), None);
            assert_eq!(hooks.lease_key_ttl(), Duration::ZERO);
            assert!(!hooks.set_lease_waker(Box::new(|| {})));
        }
        assert!(l.try_acquire().is_ok(), "an unshared limiter is unchanged");
    }

    #[test]
    fn kinds_parameters_and_key_lifetimes() {
        let clock = ManualClock::starting_at(Duration::from_secs(3));
        let fleet = FleetConfig::default();
        let l = limiter(&clock).in_fleet(fleet, None).unwrap();
        assert_eq!(
            l.lease_kind(),
            LeaseKind::Limiter {
                emission_interval: Duration::from_millis(100),
                burst: 8
            }
        );
        assert_eq!(l.lease_config(), Some((fleet, 2)));
        assert_eq!(l.lease_key_ttl(), fleet.stale_after() * 4);
        assert_eq!(l.lease_now(), Duration::from_secs(3));
        let config = RetryBudgetConfig::builder()
            .ttl(Duration::from_secs(20))
            .retry_ratio(0.25)
            .min_retries_per_sec(7)
            .build()
            .unwrap();
        let b = RetryBudget::new(config, clock.clone())
            .in_fleet(fleet, Some(9))
            .unwrap();
        assert_eq!(
            b.lease_kind(),
            LeaseKind::Budget {
                ttl: Duration::from_secs(20),
                per_deposit: 250_000,
                min_retries_per_sec: 7
            }
        );
        assert_eq!(b.lease_config(), Some((fleet, 9)));
        assert_eq!(b.lease_key_ttl(), Duration::from_secs(22), "the window and a tenth");
        assert_eq!(b.lease_now(), Duration::from_secs(3));
        let err = limiter(&clock).in_fleet(fleet, Some(9)).unwrap_err();
        assert_eq!((err.parameter(), err.kind().as_str()), ("lease_size", "too_large"));
    }

    #[test]
    fn a_waker_is_set_once_and_called_once_per_lease() {
        let clock = ManualClock::new();
        let l = limiter(&clock).in_fleet(FleetConfig::default(), Some(1)).unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        assert!(l.set_lease_waker(Box::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        })));
        assert!(!l.set_lease_waker(Box::new(|| {})), "one waker");
        let sent = l.lease_request();
        l.apply_lease(
            &LeaseGrant {
                granted: 1,
                ..LeaseGrant::default()
            },
            &sent,
        );
        assert!(l.try_acquire().is_ok());
        for _ in 0..3 {
            assert!(l.try_acquire().is_err());
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn concurrent_callers_never_take_more_than_the_pool() {
        let clock = ManualClock::new();
        let l = limiter(&clock).in_fleet(FleetConfig::default(), Some(8)).unwrap();
        let sent = l.lease_request();
        l.apply_lease(
            &LeaseGrant {
                granted: 8,
                ..LeaseGrant::default()
            },
            &sent,
        );
        let taken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..100 {
                        if l.try_acquire().is_ok() {
                            taken.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(taken.load(Ordering::Relaxed), 8);
        assert_eq!(l.lease_status().map(|s| s.pool), Some(0));
    }
}
