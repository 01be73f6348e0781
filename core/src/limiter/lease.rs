//! A rate limiter shared across processes: cells come from tokens leased
//! from the fleet's GCRA in a store (see the [`crate::lease`] module docs).

use std::time::Duration;

use super::{RateLimited, RateLimiter};
use crate::breaker::FleetConfig;
use crate::error::ConfigError;
use crate::lease::{Lease, LeaseGrant, LeaseKind, LeaseRequest, LeaseStatus, Leased};
use crate::time::{nanos_u64, Clock};
use crate::value::Value;

impl<C: Clock> RateLimiter<C> {
    /// Opts this limiter into shared (fleet) mode with a driver's sync
    /// parameters, leasing `lease_size` tokens at a time (rule
    /// `lease_size`: `1..=burst`; `None`:
    /// [`default_lease_size`](crate::RateLimiterConfig::default_lease_size)).
    /// Until a driver syncs it, it decides locally.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience_core::{FleetConfig, LeaseGrant, Leased, ManualClock, RateLimiter, RateLimiterConfig};
    /// let config = RateLimiterConfig::builder().rate(100).burst(20).build()?;
    /// let limiter = RateLimiter::new(config, ManualClock::new()).in_fleet(FleetConfig::default(), Some(5))?;
    /// let sent = limiter.lease_request();
    /// assert_eq!(sent.want, 5);
    /// // The store granted 2 of the fleet's cells: two calls pass, the third waits for the next lease.
    /// limiter.apply_lease(&LeaseGrant { granted: 2, wait: Some(Duration::from_millis(10)), available: 0, fleet_size: 4 }, &sent);
    /// assert!(limiter.try_acquire().is_ok() && limiter.try_acquire().is_ok());
    /// assert!(limiter.try_acquire().is_err());
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

    /// Rules `lease_pool` and `lease_fallback` for `n` cells (`1..=burst`).
    pub(super) fn shared_cells(&self, lease: &Lease, n: u32) -> Result<(), RateLimited> {
        let now = nanos_u64(self.clock.now());
        if lease.live(now) {
            if lease.take(n, now) {
                return Ok(());
            }
            lease.short(n, now);
            return Err(RateLimited {
                retry_after: lease.hint(now, self.config.emission_interval()),
            });
        }
        // The fleet's rate shared among the processes last seen: each takes
        // rate ÷ k, a burst of burst ÷ k (rounded up, and at least the n
        // cells asked for, which the whole fleet could grant).
        let k = lease.fleet_size();
        let t = self.config.interval_ns().saturating_mul(u64::from(k));
        let share = self.config.burst().div_ceil(k).max(n);
        self.gcra_n(now, n, t, share)
    }

    fn lease(&self) -> Option<&Lease> {
        self.lease.as_deref()
    }
}

impl<C: Clock + Send + Sync> Leased for RateLimiter<C> {
    fn lease_kind(&self) -> LeaseKind {
        LeaseKind::Limiter {
            emission_interval: self.config.emission_interval(),
            burst: self.config.burst(),
        }
    }

    fn lease_config(&self) -> Option<(FleetConfig, u32)> {
        self.lease().map(Lease::config)
    }

    fn lease_request(&self) -> LeaseRequest {
        self.lease()
            .map_or_else(LeaseRequest::default, |l| l.request(self.clock.now()))
    }

    /// After a partial grant the next early lease waits until the fleet
    /// has refilled a lease's worth: the wait for one cell, then
    /// `lease_size − 1` emission intervals.
    fn apply_lease(&self, grant: &LeaseGrant, sent: &LeaseRequest) {
        if let Some(lease) = self.lease() {
            let (_, size) = lease.config();
            let rest = self.config.emission_interval().saturating_mul(size.saturating_sub(1));
            let refill = grant.wait.unwrap_or(Duration::ZERO).saturating_add(rest);
            lease.apply(grant, sent, nanos_u64(self.clock.now()), Some(refill));
        }
    }

    fn lease_lost(&self) {
        if let Some(lease) = self.lease() {
            lease.lost();
        }
    }

    fn lease_status(&self) -> Option<LeaseStatus> {
        self.lease().map(|l| l.status(nanos_u64(self.clock.now())))
    }

    fn lease_key_ttl(&self) -> Duration {
        self.lease().map_or(Duration::ZERO, |l| l.key_ttl(Duration::ZERO))
    }

    fn lease_now(&self) -> Duration {
        self.clock.now()
    }

    fn set_lease_waker(&self, waker: Box<dyn Fn() + Send + Sync>) -> bool {
        self.lease().is_some_and(|l| l.set_waker(waker))
    }
}
