//! The retry budget (Finagle's `RetryBudget`, tower's `TpsBudget`): over the
//! last `ttl`, retries may be at most `retry_ratio` × first attempts plus
//! `min_retries_per_sec` × `ttl`.
//!
//! The window is the current tenth of `ttl` and the nine before it. First
//! attempts (*deposits*) are counted per tenth in tagged atomic buckets.
//! Retries (*withdrawals*) are serialised through one atomic word holding
//! the newest tenth and its retry count: a withdrawal checks the whole
//! window and claims its retry in a single compare-and-swap, so concurrent
//! callers can never overdraw the budget (tower's `TpsBudget` checks, then
//! adds, and can). When a withdrawal moves the word to a new tenth, it first
//! publishes the closed tenth's final count; readers who see the new tenth
//! see that count too. No lock anywhere; deposits are one compare-and-swap
//! on their bucket.
//!
//! Every imprecision under concurrency errs on the strict side: a deposit
//! whose bucket was already reused by a newer tenth is dropped, and a
//! withdrawal may not yet see a deposit made at the same moment.

mod config;
mod lease;

pub use config::{
    RetryBudgetConfig, RetryBudgetConfigBuilder, BUDGET_TTL_RANGE, DEFAULT_BUDGET_TTL, DEFAULT_MIN_RETRIES_PER_SEC,
    DEFAULT_RETRY_RATIO,
};

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::buckets::{pack, unpack, Buckets, Epochs, Late, COUNT_MAX};
use crate::lease::Lease;
use crate::time::Clock;

/// Tenths of `ttl` in the window.
const BUCKETS: u32 = 10;
/// One retry, in the budget's fixed-point units (a millionth of a retry).
const RETRY: u128 = 1_000_000;

/// A retry budget, shared by every policy and executor that calls one
/// downstream (wrap it in an [`Arc`]).
///
/// A [`RetryPolicy`](crate::RetryPolicy) built with
/// [`budget`](crate::RetryPolicyBuilder::budget) deposits when a sequence
/// starts ([`RetryPolicy::start`](crate::RetryPolicy::start)) and withdraws
/// before each retry; a denied retry gives up with
/// [`GiveUpReason::Budget`](crate::GiveUpReason::Budget). Loops of one's own
/// call [`deposit`](Self::deposit) and [`try_withdraw`](Self::try_withdraw).
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{ManualClock, RetryBudget, RetryBudgetConfig};
/// let clock = ManualClock::new();
/// let config = RetryBudgetConfig::builder().min_retries_per_sec(0).retry_ratio(0.5).build()?;
/// let budget = RetryBudget::new(config, clock.clone());
/// for _ in 0..4 { budget.deposit(); }
/// assert_eq!(budget.available(), 2);
/// assert!(budget.try_withdraw() && budget.try_withdraw());
/// assert!(!budget.try_withdraw()); // half of four first attempts
/// clock.advance(Duration::from_secs(10));
/// assert_eq!(budget.available(), 0); // everything expired after ttl
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
pub struct RetryBudget {
    config: RetryBudgetConfig,
    clock: Arc<dyn Clock + Send + Sync>,
    epochs: Epochs,
    /// `min_retries_per_sec × ttl`, in millionths of a retry.
    reserve: u128,
    /// What one first attempt earns, in millionths of a retry.
    per_deposit: u128,
    deposits: Buckets,
    /// Final retry counts of closed tenths.
    closed: Buckets,
    /// The newest tenth and its retry count.
    head: AtomicU64,
    /// Shared mode: the leased pool of retries.
    lease: Option<Box<Lease>>,
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("config", &self.config)
            .field("available", &self.available())
            .finish_non_exhaustive()
    }
}

impl RetryBudget {
    /// A budget over `clock` with nothing deposited yet (the floor is
    /// available at once).
    pub fn new(config: RetryBudgetConfig, clock: impl Clock + Send + Sync + 'static) -> Self {
        let ttl_ns = config.ttl().as_nanos();
        // ttl <= 60 s and the floor fits u32: the product fits u128 many times over.
        let reserve = u128::from(config.min_retries_per_sec())
            .saturating_mul(ttl_ns)
            .checked_div(1000)
            .unwrap_or(0);
        // A ratio in (0, 1], so the product is in 0..=1e6 and rounds exactly.
        let per_deposit = (config.retry_ratio() * RETRY as f64).round() as u128;
        Self {
            config,
            clock: Arc::new(clock),
            epochs: Epochs::new(config.ttl(), BUCKETS),
            reserve,
            per_deposit,
            deposits: Buckets::new(BUCKETS),
            closed: Buckets::new(BUCKETS),
            head: AtomicU64::new(pack(0, 0)),
            lease: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RetryBudgetConfig {
        &self.config
    }

    /// Counts a first attempt (shared: for the fleet too).
    pub fn deposit(&self) {
        self.deposit_at(self.clock.now());
        if let Some(lease) = &self.lease {
            lease.deposit();
        }
    }

    /// Claims one retry if the budget allows it (`false`: don't retry).
    /// Shared and synced, from the retries leased from the fleet.
    pub fn try_withdraw(&self) -> bool {
        let now = self.clock.now();
        if let Some(decided) = self
            .lease
            .as_deref()
            .and_then(|lease| Self::shared_withdraw(lease, now))
        {
            return decided;
        }
        self.withdraw_at(now).is_some()
    }

    /// How many retries the budget would allow now (shared and synced:
    /// the retries leased and not yet used).
    pub fn available(&self) -> u64 {
        if let Some(pool) = self.lease.as_deref().and_then(|lease| self.shared_available(lease)) {
            return pool;
        }
        let (he, hc) = unpack(self.head.load(Ordering::Acquire));
        let e = self.epochs.of(self.clock.now()).max(he);
        let current = if e == he { hc } else { 0 };
        let spent = self.past_withdrawals(e, he, hc).saturating_add(current);
        let allowed = self.allowed(e).checked_div(RETRY).unwrap_or(0);
        let allowed = u64::try_from(allowed).unwrap_or(u64::MAX);
        allowed.saturating_sub(spent).min(COUNT_MAX.saturating_sub(current))
    }

    pub(crate) fn deposit_at(&self, now: Duration) -> bool {
        self.deposits.add(self.epochs.of(now), Late::Drop)
    }

    /// The oldest tenth of the window ending at `e`.
    fn oldest(e: u64) -> u64 {
        e.saturating_sub(u64::from(BUCKETS - 1))
    }

    /// What the window ending at `e` allows, in millionths of a retry.
    fn allowed(&self, e: u64) -> u128 {
        let deposits = self.deposits.sum(Self::oldest(e), e, None);
        self.reserve
            .saturating_add(self.per_deposit.saturating_mul(u128::from(deposits)))
    }

    /// Retries of the window ending at `e` in tenths before `e`, given the
    /// head `(he, hc)` read before.
    fn past_withdrawals(&self, e: u64, he: u64, hc: u64) -> u64 {
        let oldest = Self::oldest(e);
        let Some(newest) = e.checked_sub(1) else {
            return 0;
        };
        // The head's tenth counts from the head until a withdrawal moves on.
        let closed = self.closed.sum(oldest, newest, Some(he));
        let head_tenth = if he < e && he >= oldest { hc } else { 0 };
        closed.saturating_add(head_tenth)
    }

    /// One withdrawal at `now`: `Some((tenth, its retry count after))` if
    /// granted. The tenth is the newest the budget has seen (never earlier
    /// than `now`'s), so the budget's time only moves forward.
    pub(crate) fn withdraw_at(&self, now: Duration) -> Option<(u64, u64)> {
        let reading = self.epochs.of(now);
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let (he, hc) = unpack(head);
            let e = reading.max(he);
            let current = if e == he { hc } else { 0 };
            if current >= COUNT_MAX {
                return None;
            }
            let spent = self.past_withdrawals(e, he, hc).saturating_add(current);
            let need = u128::from(spent).saturating_add(1).saturating_mul(RETRY);
            if need > self.allowed(e) {
                return None;
            }
            if e > he {
                // Publish the closed tenth before moving on, so whoever sees
                // the new tenth also sees the old one's retries.
                self.closed.publish(he, hc);
            }
            let next = pack(e, current.saturating_add(1));
            match self
                .head
                .compare_exchange_weak(head, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some((e, current.saturating_add(1))),
                Err(seen) => head = seen, // coverage: race — another withdrawal moved the head first
            }
        }
    }
}

#[cfg(test)]
mod tests;
