//! The sync bookkeeping of one shared breaker without I/O
//! ([`BreakerSync`]): the store generation its counts are in, the batch
//! sequence, the batch re-sent until counted, seeding a new generation, the
//! script's ARGV, and what its reply does.
//!
//! It names nothing of this crate but its sibling module `script`
//! (`script.rs`), so the Python and Node bindings compile this very file
//! with `#[path]`, next to `script.rs`: one bookkeeping for every driver.

use std::time::Duration;

use resilience_core::{CircuitBreaker, Clock, FleetReport, FleetSeed, FleetView};

use super::script::{answer, Batch, Call, Keys, Reply, Status};

/// A script call in flight: what it published and counted.
#[derive(Debug)]
struct Inflight {
    report: FleetReport,
    batch: Option<Batch>,
    seeding: bool,
}

/// One shared breaker's sync, without I/O: [`prepare`] gives the next
/// call's ARGV (its KEYS are [`keys`]), the driver runs the script
/// (`EVALSHA`, `EVAL` on `NOSCRIPT`) and hands the reply, or the call's
/// error, to [`answer`], or calls [`failed`] when it gave up on the call
/// (either way the batch is sent again, counted once). The breaker is
/// never told here: the driver applies the [`Answered`] view, or tells it
/// it is lost, once it holds no lock of its own (a listener may call back).
///
/// [`prepare`]: BreakerSync::prepare
/// [`keys`]: BreakerSync::keys
/// [`answer`]: BreakerSync::answer
/// [`failed`]: BreakerSync::failed
#[derive(Debug)]
pub(crate) struct BreakerSync {
    name: String,
    instance: String,
    keys: Keys,
    lease_ttl: Duration,
    /// The store generation this breaker's counts are in (`None`: seed next).
    generation: Option<String>,
    seq: u64,
    /// A batch sent without an answer: sent again (same seq) until counted.
    unacked: Option<Batch>,
    inflight: Option<Inflight>,
}

/// What [`BreakerSync::answer`] made of a reply.
#[derive(Debug)]
pub(crate) struct Answered {
    /// Counted, seeded, or `Reseed`: the store lost this breaker's counts,
    /// nothing was done; prepare again (it seeds).
    pub(crate) status: Status,
    /// This call published an opening or a closing.
    pub(crate) published: bool,
    /// The fleet's view and the report it answers (`None` on `Reseed`).
    fleet: Option<(FleetView, FleetReport)>,
}

impl Answered {
    /// The breaker takes the fleet's view (core's `apply_fleet`).
    pub(crate) fn apply<C: Clock>(&self, breaker: &CircuitBreaker<C>) {
        if let Some((view, sent)) = &self.fleet {
            breaker.apply_fleet(view, sent);
        }
    }
}

/// Why [`BreakerSync::answer`] took no answer.
#[derive(Debug)]
pub(crate) enum AnswerError<E> {
    /// No call in flight ([`NOT_IN_FLIGHT`]).
    NotInFlight,
    /// The call failed, or its reply could not be read: the driver's own
    /// error, given back unchanged.
    Reply(E),
    /// The reply is not the script's (an unknown status).
    Script(String),
}

/// The message of [`AnswerError::NotInFlight`].
pub(crate) const NOT_IN_FLIGHT: &str = "no sync in flight: call prepare() first";

impl BreakerSync {
    /// The sync of `breaker` under `name`, for this process's `instance`
    /// id (`None` when the breaker is not shared). Keys go under
    /// `<prefix>:cb:{<name>}:…`.
    pub(crate) fn new<C: Clock>(prefix: &str, name: &str, instance: &str, breaker: &CircuitBreaker<C>) -> Option<Self> {
        let fleet = breaker.fleet_config()?;
        Some(Self {
            name: name.to_owned(),
            instance: instance.to_owned(),
            keys: Keys::new(prefix, name, breaker.config().half_open_max_calls()),
            lease_ttl: fleet.lease_ttl(),
            generation: None,
            seq: 0,
            unacked: None,
            inflight: None,
        })
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
        &self.keys.all
    }

    /// The store's event channel (`<prefix>:cb:events`).
    #[allow(dead_code)] // the Python and Node drivers read it
    pub(crate) fn channel(&self) -> &str {
        &self.keys.channel
    }

    /// Whether the next [`prepare`](Self::prepare) seeds (no store
    /// generation known yet).
    #[allow(dead_code)] // the Python driver reads it
    pub(crate) fn seeding(&self) -> bool {
        self.generation.is_none()
    }

    /// ARGV of the next call, publishing `report` (core's
    /// `fleet_report()`, taken by the driver: the Rust driver publishes
    /// one report per sync, also when it re-seeds): the whole window when
    /// the store's generation is not known yet, else the batch not yet
    /// acknowledged or the calls counted since the last take.
    pub(crate) fn prepare<C: Clock>(&mut self, breaker: &CircuitBreaker<C>, report: FleetReport) -> Vec<String> {
        let (args, batch) = match self.generation.clone() {
            // First call with this store generation: the whole window.
            None => {
                self.unacked = None;
                let seed = breaker.fleet_seed();
                self.seq = self.seq.saturating_add(1);
                (self.args(breaker, &report, "", None, Some((self.seq, &seed))), None)
            }
            Some(generation) => {
                let batch = self.unacked.take().or_else(|| {
                    let delta = breaker.take_delta();
                    (!delta.counts.is_zero()).then(|| {
                        self.seq = self.seq.saturating_add(1);
                        Batch { seq: self.seq, delta }
                    })
                });
                let now = breaker.clock().now();
                let aged = batch.map(|b| (b, now.saturating_sub(b.delta.taken_at)));
                (self.args(breaker, &report, &generation, aged, None), batch)
            }
        };
        self.inflight = Some(Inflight {
            report,
            batch,
            seeding: self.generation.is_none(),
        });
        args
    }

    fn args<C: Clock>(
        &self,
        breaker: &CircuitBreaker<C>,
        report: &FleetReport,
        generation: &str,
        batch: Option<(Batch, Duration)>,
        seed: Option<(u64, &FleetSeed)>,
    ) -> Vec<String> {
        Call {
            instance: &self.instance,
            name: &self.name,
            channel: &self.keys.channel,
            generation,
            window: breaker.fleet_window(),
            key_ttl: breaker.fleet_key_ttl(),
            lease_ttl: self.lease_ttl,
            batch,
            report,
            seed,
        }
        .args()
    }

    /// The reply to the call [`prepare`](Self::prepare) gave: `Err` when
    /// the call failed or its reply could not be read (the driver's error).
    ///
    /// # Errors
    /// No call in flight; the driver's error; a reply that is not the
    /// script's. Each but the first as a failed call: the batch is sent
    /// again.
    pub(crate) fn answer<E>(&mut self, reply: Result<Reply, E>) -> Result<Answered, AnswerError<E>> {
        let inflight = self.inflight.take().ok_or(AnswerError::NotInFlight)?;
        let parsed = match reply {
            Ok(r) => answer(r).map_err(AnswerError::Script),
            Err(e) => Err(AnswerError::Reply(e)),
        };
        let a = match parsed {
            Ok(a) => a,
            Err(e) => {
                self.resend(inflight);
                return Err(e);
            }
        };
        if a.status == Status::Reseed {
            // The store lost this breaker's counts (a restart): the next
            // call seeds the whole window, which holds the batch too.
            self.generation = None;
            self.unacked = None;
            return Ok(Answered {
                status: Status::Reseed,
                published: false,
                fleet: None,
            });
        }
        self.generation = Some(a.generation);
        Ok(Answered {
            status: a.status,
            published: a.published,
            fleet: Some((a.view, inflight.report)),
        })
    }

    /// The driver gave up on the call [`prepare`](Self::prepare) gave (it
    /// failed or timed out): its batch is sent again, and counted once, by
    /// the next call. The driver tells the breaker it is lost.
    #[allow(dead_code)] // the Python and Node drivers call it (the Rust driver hands its error to `answer`)
    pub(crate) fn failed(&mut self) {
        if let Some(inflight) = self.inflight.take() {
            self.resend(inflight);
        }
    }

    /// A seed needs no re-sending: the next call seeds again.
    fn resend(&mut self, inflight: Inflight) {
        if !inflight.seeding {
            self.unacked = inflight.batch;
        }
    }
}
