//! A retry budget shared across processes: first attempts are counted
//! for the fleet and retries come from retries leased from the fleet's
//! budget in a store (see the [`crate::lease`] module docs).

use std::time::Duration;

use super::{RetryBudget, BUCKETS};
use crate::breaker::FleetConfig;
use crate::error::ConfigError;
use crate::lease::{Lease, LeaseGrant, LeaseKind, LeaseRequest, LeaseStatus, Leased};
use crate::time::nanos_u64;
use crate::value::Value;

impl RetryBudget {
    /// Opts this budget into shared (fleet) mode with a driver's sync
    /// parameters, leasing `lease_size` retries at a time (rule
    /// `lease_size`: at least 1; `None`:
    /// [`default_lease_size`](crate::RetryBudgetConfig::default_lease_size)).
    /// Until a driver syncs it, it decides locally; its first attempts are
    /// always counted locally too (for the fallback).
    ///
    /// ```
    /// use resilience_core::{FleetConfig, LeaseGrant, Leased, ManualClock, RetryBudget, RetryBudgetConfig};
    /// let budget = RetryBudget::new(RetryBudgetConfig::default(), ManualClock::new())
    ///     .in_fleet(FleetConfig::default(), Some(2))?;
    /// budget.deposit();
    /// let sent = budget.lease_request();
    /// assert_eq!((sent.want, sent.deposits), (2, 1));
    /// // The fleet has spent its budget: nothing granted, no retry here either.
    /// budget.apply_lease(&LeaseGrant { granted: 0, wait: None, available: 0, fleet_size: 3 }, &sent);
    /// assert!(!budget.try_withdraw());
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] naming `lease_size`.
    pub fn in_fleet(mut self, fleet: FleetConfig, lease_size: Option<u32>) -> Result<Self, ConfigError> {
        let size = self.config.lease_size(lease_size.map(Value::from))?;
        self.lease = Some(Box::new(Lease::new(fleet, size)));
        Ok(self)
    }

    /// Rule `lease_pool` for one retry: `None` when not live (rule
    /// `lease_fallback`: the local budget decides).
    pub(super) fn shared_withdraw(lease: &Lease, now: Duration) -> Option<bool> {
        let now = nanos_u64(now);
        if !lease.live(now) {
            return None;
        }
        if lease.take(1, now) {
            return Some(true);
        }
        lease.short(1, now);
        Some(false)
    }

    /// The pool, while live.
    pub(super) fn shared_available(&self, lease: &Lease) -> Option<u64> {
        lease.live(nanos_u64(self.clock.now())).then(|| lease.pool())
    }
}

impl Leased for RetryBudget {
    fn lease_kind(&self) -> LeaseKind {
        LeaseKind::Budget {
            ttl: self.config.ttl(),
            // In 0..=1e6 (a ratio in (0, 1]).
            per_deposit: u32::try_from(self.per_deposit).unwrap_or(u32::MAX),
            min_retries_per_sec: self.config.min_retries_per_sec(),
        }
    }

    fn lease_config(&self) -> Option<(FleetConfig, u32)> {
        self.lease.as_deref().map(Lease::config)
    }

    fn lease_request(&self) -> LeaseRequest {
        self.lease
            .as_deref()
            .map_or_else(LeaseRequest::default, |l| l.request(self.clock.now()))
    }

    /// After a partial grant no early lease is asked for before the next
    /// sync: the fleet's budget grows only with first attempts the store
    /// has not seen yet.
    fn apply_lease(&self, grant: &LeaseGrant, sent: &LeaseRequest) {
        if let Some(lease) = self.lease.as_deref() {
            lease.apply(grant, sent, nanos_u64(self.clock.now()), None);
        }
    }

    fn lease_lost(&self) {
        if let Some(lease) = self.lease.as_deref() {
            lease.lost();
        }
    }

    fn lease_status(&self) -> Option<LeaseStatus> {
        self.lease.as_deref().map(|l| l.status(nanos_u64(self.clock.now())))
    }

    /// The whole window plus a tenth, and at least four stale periods.
    fn lease_key_ttl(&self) -> Duration {
        let ttl = self.config.ttl();
        let window = ttl.saturating_add(ttl.checked_div(BUCKETS).unwrap_or(ttl));
        self.lease.as_deref().map_or(Duration::ZERO, |l| l.key_ttl(window))
    }

    fn lease_now(&self) -> Duration {
        self.clock.now()
    }

    fn set_lease_waker(&self, waker: Box<dyn Fn() + Send + Sync>) -> bool {
        self.lease.as_deref().is_some_and(|l| l.set_waker(waker))
    }
}
