//! The Lua script (`redis/scripts/breaker_sync.lua`, the one copy every
//! driver loads), its key layout, its arguments and its answer.

use std::time::Duration;

use resilience_core::{FleetCounts, FleetDelta, FleetReport, FleetSeed, FleetView};

/// The breaker sync script, as every driver loads it.
pub const BREAKER_SYNC: &str = include_str!("../scripts/breaker_sync.lua");

/// The breaker script, for [`crate::link::Link::run`].
pub(crate) static BREAKER_SCRIPT: Script = Script {
    name: "breaker_sync",
    text: BREAKER_SYNC,
};

/// A Lua script of `redis/scripts/` (one per kind of shared state).
#[derive(Debug)]
pub(crate) struct Script {
    /// Its file name, without `.lua` (also its key in a link's cache).
    pub(crate) name: &'static str,
    pub(crate) text: &'static str,
}

/// `status` in the script's answer: the batch was counted (now or before).
const COUNTED: i64 = 0;
/// The caller's window replaced its batch (a generation it had not seen).
const SEEDED: i64 = 2;
/// A generation the caller has not seen: nothing done, call again seeding.
const RESEED: i64 = 3;

/// A shared breaker's keys: `<prefix>:cb:{<name>}:…` (the braces are a
/// cluster hash tag: one breaker, one slot).
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// meta, window, open, seq, then one lease slot per half-open trial.
    pub(crate) all: Vec<String>,
    pub(crate) channel: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str, name: &str, lease_slots: u32) -> Self {
        let base = format!("{prefix}:cb:{{{name}}}");
        let mut all: Vec<String> = ["meta", "window", "open", "seq"]
            .iter()
            .map(|k| format!("{base}:{k}"))
            .collect();
        all.extend((0..lease_slots).map(|i| format!("{base}:lease:{i}")));
        Self {
            all,
            channel: events_channel(prefix),
        }
    }
}

/// The channel a store's openings and closings are published on.
pub(crate) fn events_channel(prefix: &str) -> String {
    format!("{prefix}:cb:events")
}

/// A batch of counts with its sequence number (counted once by the script).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    pub(crate) seq: u64,
    pub(crate) delta: FleetDelta,
}

/// What one call of the script sends.
pub(crate) struct Call<'a> {
    pub(crate) instance: &'a str,
    pub(crate) name: &'a str,
    pub(crate) channel: &'a str,
    pub(crate) generation: &'a str,
    /// Bucket width and count of the breaker's time window, if any.
    pub(crate) window: Option<(Duration, u32)>,
    pub(crate) key_ttl: Duration,
    pub(crate) lease_ttl: Duration,
    pub(crate) batch: Option<(Batch, Duration)>,
    pub(crate) report: &'a FleetReport,
    pub(crate) seed: Option<(u64, &'a FleetSeed)>,
}

fn ms(d: Duration) -> u64 {
    // Rounded up: a break or ttl is never cut short; at least 1 ms.
    u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Call<'_> {
    /// ARGV, in the script's order.
    pub(crate) fn args(&self) -> Vec<String> {
        let (bucket_us, buckets) = self.window.map_or((0, 0), |(w, n)| (us(w).max(1), n));
        let (seq, counts, age) = match (&self.seed, &self.batch) {
            (Some((seq, _)), _) => (*seq, FleetCounts::default(), 0),
            (None, Some((batch, age))) => (batch.seq, batch.delta.counts, us(*age)),
            (None, None) => (0, FleetCounts::default(), 0),
        };
        let mut args = vec![
            self.instance.to_owned(),
            self.generation.to_owned(),
            bucket_us.to_string(),
            buckets.to_string(),
            ms(self.key_ttl).max(1).to_string(),
            ms(self.lease_ttl).max(1).to_string(),
            self.channel.to_owned(),
            self.name.to_owned(),
            seq.to_string(),
            counts.calls.to_string(),
            counts.failures.to_string(),
            counts.slow.to_string(),
            age.to_string(),
            self.report.opened.map_or(0, ms).to_string(),
            u8::from(self.report.closed).to_string(),
            ms(self.report.open_remaining).to_string(),
            self.report.leases_wanted.to_string(),
            u8::from(self.seed.is_some()).to_string(),
        ];
        if let Some((_, seed)) = self.seed {
            for (age, c) in &seed.buckets {
                args.extend([
                    us(*age).to_string(),
                    c.calls.to_string(),
                    c.failures.to_string(),
                    c.slow.to_string(),
                ]);
            }
        }
        args
    }
}

/// The script's answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) generation: String,
    pub(crate) status: Status,
    pub(crate) view: FleetView,
    pub(crate) published: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Counted,
    Seeded,
    Reseed,
}

impl Status {
    /// Its number in the script's answer (0, 2 or 3), as the Python and
    /// Node drivers' `answer` gives it.
    #[allow(dead_code)] // the Python and Node drivers read it
    pub(crate) fn code(self) -> u8 {
        let code = match self {
            Self::Counted => COUNTED,
            Self::Seeded => SEEDED,
            Self::Reseed => RESEED,
        };
        code as u8
    }
}

pub(crate) type Reply = (String, i64, u64, u64, u64, u64, u64, u32, i64);

pub(crate) fn answer(reply: Reply) -> Result<Answer, String> {
    let (generation, status, calls, failures, slow, open_ms, closes, leases, published) = reply;
    let status = match status {
        COUNTED => Status::Counted,
        SEEDED => Status::Seeded,
        RESEED => Status::Reseed,
        other => return Err(format!("the sync script answered an unknown status {other}")),
    };
    Ok(Answer {
        generation,
        status,
        view: FleetView {
            totals: FleetCounts { calls, failures, slow },
            open_remaining: Duration::from_millis(open_ms),
            closes,
            leases,
        },
        published: published == 1,
    })
}
