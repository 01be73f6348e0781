//! Experiment 2: the AWS Architecture Blog's "Exponential Backoff and
//! Jitter" study, on resilience-core's backoff.
//!
//! N clients start together and each updates one row once with optimistic
//! concurrency: read the version, write it back conditionally; a write
//! whose version is stale fails, and the client backs off (capped
//! exponential, base 5 ms, cap 2 s, no attempt limit) and reads again. The
//! study sleeps `min(cap, base · 2^n)` after its n-th failure, n from 1: that
//! is core's exponential with `base_delay = 2 · base` (10, 20, 40 ms …);
//! decorrelated jitter takes `base` itself, its lower bound. The
//! network delays every message by |N(10 ms, 2 ms)|, as the study's
//! simulator does. *Work* is the number of writes the server received;
//! *time* is when the last client finished. Each point is the mean of
//! `runs` seeded runs.

use std::time::Duration;

use resilience_core::{BackoffStrategy, Jitter, JitterRng, RetryDecision, RetryPolicy, RetryState};

use crate::events::Queue;
use crate::random::{abs_normal, derive};

/// The backoff base of the study.
pub const BASE: Duration = Duration::from_millis(5);
/// The backoff cap of the study.
pub const CAP: Duration = Duration::from_secs(2);
/// Mean and standard deviation of the network delay, in ms.
pub const NETWORK_MS: (f64, f64) = (10.0, 2.0);

/// The modes compared: the study's four, then the original's default.
pub const MODES: [(Jitter, &str); 5] = [
    (Jitter::None, "no jitter"),
    (Jitter::Full, "full jitter"),
    (Jitter::Equal, "equal jitter"),
    (Jitter::Decorrelated, "decorrelated jitter"),
    (Jitter::Proportional, "proportional jitter"),
];

/// One point of the study.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The jitter mode's name.
    pub mode: &'static str,
    /// Clients contending.
    pub clients: u32,
    /// Mean writes the server received.
    pub work: f64,
    /// Mean time until the last client finished, in ms.
    pub time_ms: f64,
}

enum Ev {
    /// A read of client `c` reaches the server.
    Read(usize),
    /// The version read reaches client `c`.
    ReadAnswer(usize, u64),
    /// A write of client `c`, of the version it read, reaches the server.
    Write(usize, u64),
    /// The server's answer to client `c`'s write.
    WriteAnswer(usize, bool),
}

/// One run: (writes, completion time in ns).
fn run_once(seed: u64, clients: u32, jitter: Jitter) -> (u64, u64) {
    let net = JitterRng::from_seed(derive(seed, 0));
    let delay = || (abs_normal(&net, NETWORK_MS.0, NETWORK_MS.1) * 1e6).round() as u64;
    let policies: Vec<RetryPolicy> = (0..u64::from(clients))
        .map(|c| {
            let base = if jitter == Jitter::Decorrelated { BASE } else { BASE * 2 };
            RetryPolicy::builder()
                .max_attempts(u32::MAX)
                .backoff(BackoffStrategy::Exponential)
                .base_delay(base)
                .max_delay(CAP)
                .jitter(jitter)
                .seed(derive(seed, 1 + c))
                .build()
                .expect("valid policy")
        })
        .collect();
    let mut states: Vec<RetryState> = policies.iter().map(RetryPolicy::start).collect();
    let mut q = Queue::default();
    for c in 0..clients as usize {
        q.push(delay(), Ev::Read(c));
    }
    let (mut version, mut writes, mut end) = (0u64, 0u64, 0u64);
    while let Some((now, ev)) = q.pop() {
        end = now;
        match ev {
            Ev::Read(c) => q.push(now + delay(), Ev::ReadAnswer(c, version)),
            Ev::ReadAnswer(c, v) => q.push(now + delay(), Ev::Write(c, v)),
            Ev::Write(c, v) => {
                writes += 1;
                let ok = v == version;
                if ok {
                    version += 1;
                }
                q.push(now + delay(), Ev::WriteAnswer(c, ok));
            }
            Ev::WriteAnswer(_, true) => {}
            Ev::WriteAnswer(c, false) => match states[c].on_failure(&policies[c], true) {
                RetryDecision::Retry { delay: backoff, .. } => {
                    q.push(now + delay() + backoff.as_nanos() as u64, Ev::Read(c));
                }
                other => unreachable!("an unlimited policy always retries: {other:?}"),
            },
        }
    }
    (writes, end)
}

/// The mean of `runs` runs of `clients` clients under `jitter`.
pub fn point(seed: u64, clients: u32, (jitter, mode): (Jitter, &'static str), runs: u32) -> Point {
    let (mut work, mut time) = (0u64, 0u64);
    for r in 0..runs {
        let (w, t) = run_once(derive(seed, (u64::from(clients) << 32) | u64::from(r)), clients, jitter);
        work += w;
        time += t;
    }
    let runs_f = f64::from(runs.max(1));
    Point {
        mode,
        clients,
        work: work as f64 / runs_f,
        time_ms: time as f64 / runs_f / 1e6,
    }
}

/// The whole study: every mode for N = 10, 20, …, 50.
pub fn study(seed: u64, runs: u32) -> Vec<Point> {
    (1..=5)
        .flat_map(|n| MODES.iter().map(move |&m| point(seed, n * 10, m, runs)))
        .collect()
}
