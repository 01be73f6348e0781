//! The lease scripts (`redis/scripts/limiter_lease.lua`,
//! `redis/scripts/budget_lease.lua`, the one copy every driver loads), their
//! keys, arguments and answer, and the sync bookkeeping of one shared rate
//! limiter or retry budget without I/O ([`LeaseSync`]).
//!
//! Self-contained (it names nothing of this crate), so the Python and Node
//! bindings compile this very file with `#[path]`: one layout and one
//! bookkeeping for every driver.

use std::time::Duration;

use resilience_core::{LeaseGrant, LeaseKind, LeaseRequest, Leased};

/// The rate limiter lease script, as every driver loads it.
pub const LIMITER_LEASE: &str = include_str!("../scripts/limiter_lease.lua");
/// The retry budget lease script, as every driver loads it.
pub const BUDGET_LEASE: &str = include_str!("../scripts/budget_lease.lua");

/// The script's reply: `(granted, wait_us or −1, available, processes)`.
pub(crate) type LeaseReply = (i64, i64, i64, i64);

fn ms(d: Duration) -> u64 {
    // Rounded up, at least 1 ms.
    u64::try_from(d.as_nanos().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A deposit batch with its sequence number (counted once by the script).
#[derive(Debug, Clone, Copy)]
struct Batch {
    seq: u64,
    deposits: u64,
    taken_at: Duration,
}

/// A script call in flight.
#[derive(Debug, Clone, Copy)]
struct Inflight {
    request: LeaseRequest,
    batch: Option<Batch>,
}

/// One shared limiter's or budget's sync, without I/O: [`prepare`]
/// gives the next call's ARGV (its KEYS are [`keys`]), the driver runs the
/// script ([`script`]: `EVALSHA`, `EVAL` on `NOSCRIPT`) and hands the reply
/// to [`answer`], or calls [`failed`] when the call failed or timed out
/// (the deposits are sent again, counted once; a grant lost that way only
/// makes the fleet stricter).
///
/// [`prepare`]: LeaseSync::prepare
/// [`keys`]: LeaseSync::keys
/// [`script`]: LeaseSync::script
/// [`answer`]: LeaseSync::answer
/// [`failed`]: LeaseSync::failed
#[derive(Debug)]
pub(crate) struct LeaseSync {
    name: String,
    instance: String,
    limiter: bool,
    keys: Vec<String>,
    seq: u64,
    /// Deposits sent without an answer: sent again (same seq) until counted.
    unacked: Option<Batch>,
    inflight: Option<Inflight>,
}

impl LeaseSync {
    /// The sync of `member` (a shared limiter or budget) under `name`, for
    /// this process's `instance` id. Keys go under
    /// `<prefix>:rl:{<name>}:…` (a limiter) or `<prefix>:rb:{<name>}:…`.
    pub(crate) fn new(prefix: &str, name: &str, instance: &str, member: &dyn Leased) -> Self {
        let limiter = matches!(member.lease_kind(), LeaseKind::Limiter { .. });
        let (tag, parts): (&str, &[&str]) = if limiter {
            ("rl", &["gcra", "procs"])
        } else {
            ("rb", &["meta", "window", "seq", "procs"])
        };
        let keys = parts.iter().map(|k| format!("{prefix}:{tag}:{{{name}}}:{k}")).collect();
        Self {
            name: name.to_owned(),
            instance: instance.to_owned(),
            limiter,
            keys,
            seq: 0,
            unacked: None,
            inflight: None,
        }
    }

    /// The name it is shared under.
    #[allow(dead_code)] // the Python and Node drivers read it
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// This registration's id in the fleet.
    #[allow(dead_code)] // the Python and Node drivers read it
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// KEYS of every call.
    pub(crate) fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The script this sync runs: `(file name without .lua, text)`.
    pub(crate) fn script(&self) -> (&'static str, &'static str) {
        if self.limiter {
            ("limiter_lease", LIMITER_LEASE)
        } else {
            ("budget_lease", BUDGET_LEASE)
        }
    }

    /// ARGV of the next call: the tokens to lease (core's
    /// `lease_request`) and, for a budget, the deposits not yet
    /// acknowledged or taken since.
    pub(crate) fn prepare(&mut self, member: &dyn Leased) -> Vec<String> {
        let request = member.lease_request();
        let (fleet, key_ttl) = (member.lease_config().map(|(f, _)| f), member.lease_key_ttl());
        let window = fleet.map_or(Duration::from_secs(1), |f| f.lease_ttl());
        let mut args = vec![
            self.instance.clone(),
            request.want.to_string(),
            ms(key_ttl).to_string(),
            ms(window).to_string(),
        ];
        let mut batch = None;
        match member.lease_kind() {
            LeaseKind::Limiter {
                emission_interval,
                burst,
            } => {
                args.extend([nanos(emission_interval).max(1).to_string(), burst.to_string()]);
            }
            LeaseKind::Budget {
                ttl,
                per_deposit,
                min_retries_per_sec,
            } => {
                batch = self.unacked.take().or_else(|| {
                    (request.deposits > 0).then(|| {
                        self.seq = self.seq.saturating_add(1);
                        Batch {
                            seq: self.seq,
                            deposits: request.deposits,
                            taken_at: request.taken_at,
                        }
                    })
                });
                let (seq, deposits, age) = batch.map_or((0, 0, 0), |b| {
                    (b.seq, b.deposits, us(member.lease_now().saturating_sub(b.taken_at)))
                });
                args.extend([
                    us(ttl).to_string(),
                    per_deposit.to_string(),
                    min_retries_per_sec.to_string(),
                    seq.to_string(),
                    deposits.to_string(),
                    age.to_string(),
                ]);
            }
        }
        self.inflight = Some(Inflight { request, batch });
        args
    }

    /// The script's reply to the call [`prepare`](Self::prepare) gave;
    /// with `apply`, the member takes the grant (core's `apply_lease`).
    ///
    /// # Errors
    /// No call in flight, or a reply that is not the script's (as a failed
    /// call: the deposits are sent again).
    pub(crate) fn answer(&mut self, member: &dyn Leased, reply: LeaseReply, apply: bool) -> Result<LeaseGrant, String> {
        let inflight = self
            .inflight
            .take()
            .ok_or_else(|| "no sync in flight: prepare first".to_owned())?;
        let (granted, wait_us, available, processes) = reply;
        let grant = match (
            u32::try_from(granted),
            u64::try_from(available),
            u32::try_from(processes),
        ) {
            (Ok(granted), Ok(available), Ok(fleet_size)) if granted <= inflight.request.want => LeaseGrant {
                granted,
                wait: u64::try_from(wait_us).ok().map(Duration::from_micros),
                available,
                fleet_size,
            },
            _ => {
                self.unacked = inflight.batch;
                member.lease_lost();
                return Err(format!("the lease script answered {reply:?}"));
            }
        };
        if apply {
            member.apply_lease(&grant, &inflight.request);
        }
        Ok(grant)
    }

    /// The call [`prepare`](Self::prepare) gave failed or timed out: its
    /// deposits are sent again by the next call; the member decides
    /// locally until a sync succeeds.
    pub(crate) fn failed(&mut self, member: &dyn Leased) {
        if let Some(inflight) = self.inflight.take() {
            self.unacked = inflight.batch;
        }
        member.lease_lost();
    }
}
