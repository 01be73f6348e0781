//! Experiment 1: a fleet of clients, one server with finite capacity and a
//! queue, and an outage — through each strategy.
//!
//! Clients issue calls as Poisson processes. The server runs `workers`
//! requests at a time, `service_time` each, and queues up to `queue_limit`
//! more; a request beyond that is refused at once (a fast 503). During the
//! outage every request the server processes fails (a dependency is down),
//! at the same cost. A client waits `timeout` for an answer; a late answer
//! is wasted work. Every decision — the backoff delay, retry or give up,
//! the budget, the throttle, the breaker — is taken by resilience-core on
//! one virtual clock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, BackoffStrategy, BreakerConfig, CircuitBreaker, Jitter, JitterRng,
    ManualClock, PermitToken, RetryBudget, RetryBudgetConfig, RetryDecision, RetryPolicy, RetryState,
};

use crate::events::Queue;
use crate::random::{derive, exponential};

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;

/// The world the strategies are compared in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    /// The run's seed.
    pub seed: u64,
    /// Client processes (each has its own budget, throttle and breaker).
    pub clients: u32,
    /// Calls per second per client (Poisson).
    pub calls_per_sec: f64,
    /// The measured run (traffic goes on [`TAIL_MS`] longer).
    pub duration_ms: u64,
    /// The outage: `[start, end)`.
    pub outage_ms: (u64, u64),
    /// Requests the server serves at once.
    pub workers: u32,
    /// Time to serve one request, failed or not.
    pub service_ms: u64,
    /// Requests that may wait for a worker.
    pub queue_limit: usize,
    /// How long a client waits for an answer.
    pub timeout_ms: u64,
    /// One-way network delay.
    pub network_ms: u64,
    /// Attempts per call when retrying (the first included).
    pub max_attempts: u32,
    /// Backoff base (exponential, capped at `max_delay_ms`).
    pub base_delay_ms: u64,
    /// Backoff cap.
    pub max_delay_ms: u64,
    /// Breaker: consecutive failures that open it, and its open time.
    pub breaker: (u32, u64),
}

impl Scenario {
    /// The report's scenario: 20 clients × 50 calls/s = 1,000 calls/s
    /// against a server of 16 workers × 10 ms = 1,600 requests/s (1.6×
    /// headroom), a 10 s outage at 10 s, 60 s of traffic.
    pub fn standard(seed: u64) -> Self {
        Self {
            seed,
            clients: 20,
            calls_per_sec: 50.0,
            duration_ms: 60_000,
            outage_ms: (10_000, 20_000),
            workers: 16,
            service_ms: 10,
            queue_limit: 1_600,
            timeout_ms: 500,
            network_ms: 1,
            max_attempts: 3,
            base_delay_ms: 100,
            max_delay_ms: 2_000,
            breaker: (5, 5_000),
        }
    }

    /// A smaller world for quick tests (same shape, a fifth of the traffic).
    pub fn small(seed: u64) -> Self {
        Self {
            clients: 4,
            duration_ms: 15_000,
            outage_ms: (5_000, 8_000),
            workers: 3,
            queue_limit: 300,
            ..Self::standard(seed)
        }
    }
}

/// One way of calling the server.
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// Its name in the report.
    pub name: &'static str,
    /// Retry with this jitter (`None`: one attempt per call).
    pub retry: Option<Jitter>,
    /// A retry budget per client (core defaults).
    pub budget: bool,
    /// An adaptive throttle per client (core defaults).
    pub throttle: bool,
    /// A circuit breaker per client.
    pub breaker: bool,
}

/// The strategies compared, in report order.
pub fn strategies() -> Vec<Strategy> {
    let s = |name, retry, budget, throttle, breaker| Strategy {
        name,
        retry,
        budget,
        throttle,
        breaker,
    };
    vec![
        s("no retry", None, false, false, false),
        s("retry, no jitter", Some(Jitter::None), false, false, false),
        s(
            "retry, proportional jitter",
            Some(Jitter::Proportional),
            false,
            false,
            false,
        ),
        s("retry, full jitter", Some(Jitter::Full), false, false, false),
        s("retry, equal jitter", Some(Jitter::Equal), false, false, false),
        s(
            "retry, decorrelated jitter",
            Some(Jitter::Decorrelated),
            false,
            false,
            false,
        ),
        s("full jitter + budget", Some(Jitter::Full), true, false, false),
        s(
            "full jitter + adaptive throttle",
            Some(Jitter::Full),
            false,
            true,
            false,
        ),
        s("full jitter + breaker", Some(Jitter::Full), false, false, true),
        s("all together", Some(Jitter::Full), true, true, true),
    ]
}

/// Traffic goes on this long after the measured run, so the last bins are
/// measured under load like the others (not while the fleet winds down).
pub const TAIL_MS: u64 = 5_000;
/// Width of the load chart's bins.
pub const LOAD_BIN_MS: u64 = 100;
/// Width of the bins the success rate (and so recovery) is measured in.
pub const SUCCESS_BIN_MS: u64 = 500;
/// A bin counts as recovered at this success rate of the calls started in it.
pub const RECOVERED: f64 = 0.95;

/// What one strategy did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The strategy's name.
    pub strategy: &'static str,
    /// Requests that reached the server (attempts, refused ones included).
    pub total_calls: u64,
    /// Logical calls the clients made.
    pub calls: u64,
    /// Calls that succeeded.
    pub succeeded: u64,
    /// Calls refused on the client (breaker open, throttled) at least once.
    pub shed: u64,
    /// Peak server load (requests per second, 1 s bins, from the outage on)
    /// over the mean load before the outage.
    pub peak_load_ratio: f64,
    /// Mean server load during the outage over the mean load before it.
    pub outage_load_ratio: f64,
    /// Succeeded / calls.
    pub goodput: f64,
    /// From the outage's end until every later bin of calls succeeds at
    /// [`RECOVERED`] or better; `None`: not within the run.
    pub recovery_ms: Option<u64>,
    /// Server arrivals per [`LOAD_BIN_MS`].
    pub load: Vec<u32>,
    /// Success rate of the calls started in each [`SUCCESS_BIN_MS`].
    pub success: Vec<f64>,
}

enum Ev {
    /// Client `c` starts a call.
    CallStart(usize),
    /// Call `k` sends its next attempt.
    Send(usize),
    /// Attempt `a` reaches the server.
    Arrive(usize),
    /// A worker finished attempt `a`.
    Served(usize),
    /// The server's answer to attempt `a` reaches its client.
    Answer(usize, bool),
    /// Attempt `a`'s client stops waiting.
    Timeout(usize),
}

struct Client {
    policy: RetryPolicy,
    throttle: Option<AdaptiveThrottle<ManualClock>>,
    breaker: Option<CircuitBreaker<ManualClock>>,
    arrivals: JitterRng,
}

struct Call {
    client: usize,
    start: u64,
    state: RetryState,
    shed: bool,
}

struct Attempt {
    call: usize,
    resolved: bool,
    permit: Option<PermitToken>,
}

struct Server {
    queue: VecDeque<usize>,
    busy: u32,
}

struct World<'a> {
    sc: &'a Scenario,
    clock: ManualClock,
    q: Queue<Ev>,
    clients: Vec<Client>,
    calls: Vec<Call>,
    attempts: Vec<Attempt>,
    server: Server,
    load: Vec<u32>,
    started: Vec<u32>,
    ok: Vec<u32>,
    shed: Vec<u32>,
}

fn client(sc: &Scenario, st: &Strategy, clock: &ManualClock, i: u64) -> Client {
    let mut policy = RetryPolicy::builder()
        .max_attempts(if st.retry.is_some() { sc.max_attempts } else { 1 })
        .backoff(BackoffStrategy::Exponential)
        .base_delay(Duration::from_millis(sc.base_delay_ms))
        .max_delay(Duration::from_millis(sc.max_delay_ms))
        .jitter(st.retry.unwrap_or(Jitter::None))
        .seed(derive(sc.seed, 1_000 + i));
    if st.budget {
        let budget = RetryBudget::new(RetryBudgetConfig::default(), clock.clone());
        policy = policy.budget(Arc::new(budget));
    }
    let throttle = st.throttle.then(|| {
        let config = AdaptiveThrottleConfig::builder()
            .seed(derive(sc.seed, 2_000 + i))
            .build()
            .expect("valid throttle");
        AdaptiveThrottle::new(config, clock.clone())
    });
    let breaker = st.breaker.then(|| {
        let config = BreakerConfig::builder()
            .failure_threshold(sc.breaker.0)
            .recovery_timeout(Duration::from_millis(sc.breaker.1))
            .build()
            .expect("valid breaker");
        CircuitBreaker::new(config, clock.clone())
    });
    Client {
        policy: policy.build().expect("valid policy"),
        throttle,
        breaker,
        arrivals: JitterRng::from_seed(derive(sc.seed, i)),
    }
}

impl World<'_> {
    fn in_outage(&self, t: u64) -> bool {
        t >= self.sc.outage_ms.0 * MS && t < self.sc.outage_ms.1 * MS
    }

    fn next_arrival(&mut self, c: usize, now: u64) {
        let mean = SEC as f64 / self.sc.calls_per_sec;
        let at = now + exponential(&self.clients[c].arrivals, mean);
        if at < (self.sc.duration_ms + TAIL_MS) * MS {
            self.q.push(at, Ev::CallStart(c));
        }
    }

    fn call_start(&mut self, c: usize, now: u64) {
        self.next_arrival(c, now);
        // The budget's deposit happens here, in core.
        let state = self.clients[c].policy.start();
        let k = self.calls.len();
        self.calls.push(Call {
            client: c,
            start: now,
            state,
            shed: false,
        });
        bump(&mut self.started, (now / (SUCCESS_BIN_MS * MS)) as usize);
        self.send(k, now);
    }

    fn send(&mut self, k: usize, now: u64) {
        let client = &self.clients[self.calls[k].client];
        if let Some(t) = &client.throttle {
            if t.try_admit().is_err() {
                return self.shed(k);
            }
        }
        let permit = match &client.breaker {
            Some(b) => match b.acquire_token() {
                Ok(token) => Some(token),
                Err(_) => {
                    // Shed requests count as requests the backend did not accept.
                    if let Some(t) = &client.throttle {
                        t.record(false);
                    }
                    return self.shed(k);
                }
            },
            None => None,
        };
        let a = self.attempts.len();
        self.attempts.push(Attempt {
            call: k,
            resolved: false,
            permit,
        });
        self.q.push(now + self.sc.network_ms * MS, Ev::Arrive(a));
        self.q.push(now + self.sc.timeout_ms * MS, Ev::Timeout(a));
    }

    /// Refused on the client: the call fails at once (not retried).
    fn shed(&mut self, k: usize) {
        if !std::mem::replace(&mut self.calls[k].shed, true) {
            bump(&mut self.shed, (self.calls[k].start / (SUCCESS_BIN_MS * MS)) as usize);
        }
    }

    fn arrive(&mut self, a: usize, now: u64) {
        bump(&mut self.load, (now / (LOAD_BIN_MS * MS)) as usize);
        if self.server.busy < self.sc.workers {
            self.server.busy += 1;
            self.q.push(now + self.sc.service_ms * MS, Ev::Served(a));
        } else if self.server.queue.len() < self.sc.queue_limit {
            self.server.queue.push_back(a);
        } else {
            // Refused at once: a fast 503.
            self.q.push(now + self.sc.network_ms * MS, Ev::Answer(a, false));
        }
    }

    fn served(&mut self, a: usize, now: u64) {
        let ok = !self.in_outage(now);
        self.q.push(now + self.sc.network_ms * MS, Ev::Answer(a, ok));
        match self.server.queue.pop_front() {
            Some(next) => self.q.push(now + self.sc.service_ms * MS, Ev::Served(next)),
            None => self.server.busy -= 1,
        }
    }

    /// Attempt `a` ended: answered (`Some(ok)`) or timed out (`None`).
    fn resolve(&mut self, a: usize, answer: Option<bool>, now: u64) {
        if std::mem::replace(&mut self.attempts[a].resolved, true) {
            return; // a late answer, or the timeout of an answered attempt
        }
        let ok = answer == Some(true);
        let k = self.attempts[a].call;
        let client = &self.clients[self.calls[k].client];
        if let Some(t) = &client.throttle {
            t.record(ok);
        }
        if let (Some(b), Some(token)) = (&client.breaker, self.attempts[a].permit) {
            let _ = if ok {
                b.record_success(token)
            } else {
                b.record_failure(token)
            };
        }
        if ok {
            let start = self.calls[k].start;
            bump(&mut self.ok, (start / (SUCCESS_BIN_MS * MS)) as usize);
            return;
        }
        let policy = &self.clients[self.calls[k].client].policy;
        if let RetryDecision::Retry { delay, .. } = self.calls[k].state.on_failure(policy, true) {
            self.q.push(now + delay.as_nanos() as u64, Ev::Send(k));
        }
    }
}

fn bump(bins: &mut Vec<u32>, i: usize) {
    if bins.len() <= i {
        bins.resize(i + 1, 0);
    }
    bins[i] += 1;
}

/// Runs `strategy` through `scenario`.
pub fn run(sc: &Scenario, st: &Strategy) -> Outcome {
    let clock = ManualClock::new();
    let clients = (0..sc.clients).map(|i| client(sc, st, &clock, u64::from(i))).collect();
    let mut w = World {
        sc,
        clock: clock.clone(),
        q: Queue::default(),
        clients,
        calls: Vec::new(),
        attempts: Vec::new(),
        server: Server {
            queue: VecDeque::new(),
            busy: 0,
        },
        load: Vec::new(),
        started: Vec::new(),
        ok: Vec::new(),
        shed: Vec::new(),
    };
    for c in 0..w.clients.len() {
        w.next_arrival(c, 0);
    }
    while let Some((now, ev)) = w.q.pop() {
        w.clock.set(Duration::from_nanos(now));
        match ev {
            Ev::CallStart(c) => w.call_start(c, now),
            Ev::Send(k) => w.send(k, now),
            Ev::Arrive(a) => w.arrive(a, now),
            Ev::Served(a) => w.served(a, now),
            Ev::Answer(a, ok) => w.resolve(a, Some(ok), now),
            Ev::Timeout(a) => w.resolve(a, None, now),
        }
    }
    summarize(sc, st, w)
}

fn summarize(sc: &Scenario, st: &Strategy, w: World<'_>) -> Outcome {
    let per_sec = |from_ms: u64, to_ms: u64| -> Vec<f64> {
        let bins_per_sec = (1_000 / LOAD_BIN_MS) as usize;
        let (from, to) = ((from_ms / LOAD_BIN_MS) as usize, (to_ms / LOAD_BIN_MS) as usize);
        (from..to)
            .step_by(bins_per_sec)
            .map(|b| {
                (b..b + bins_per_sec)
                    .map(|i| f64::from(*w.load.get(i).unwrap_or(&0)))
                    .sum()
            })
            .collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let normal = mean(&per_sec(0, sc.outage_ms.0)).max(1.0);
    let after = per_sec(sc.outage_ms.0, sc.duration_ms);
    let peak = after.iter().copied().fold(0.0, f64::max);
    let during = mean(&per_sec(sc.outage_ms.0, sc.outage_ms.1));
    let bins = (sc.duration_ms / SUCCESS_BIN_MS) as usize;
    let success: Vec<f64> = (0..bins)
        .map(|b| {
            let started = f64::from(*w.started.get(b).unwrap_or(&0));
            let ok = f64::from(*w.ok.get(b).unwrap_or(&0));
            if started == 0.0 {
                1.0
            } else {
                ok / started
            }
        })
        .collect();
    let end_bin = (sc.outage_ms.1 / SUCCESS_BIN_MS) as usize;
    // The first bin from which every later bin is recovered.
    let recovered_from = (end_bin..bins).rev().take_while(|&b| success[b] >= RECOVERED).last();
    let recovery_ms = recovered_from.map(|b| b as u64 * SUCCESS_BIN_MS - sc.outage_ms.1);
    let mut load = w.load.clone();
    load.resize((sc.duration_ms / LOAD_BIN_MS) as usize, 0);
    let sum = |v: &Vec<u32>| v.iter().take(bins).map(|&n| u64::from(n)).sum::<u64>();
    let (calls, succeeded) = (sum(&w.started), sum(&w.ok));
    Outcome {
        strategy: st.name,
        total_calls: load.iter().map(|&n| u64::from(n)).sum(),
        calls,
        succeeded,
        shed: sum(&w.shed),
        peak_load_ratio: peak / normal,
        outage_load_ratio: during / normal,
        goodput: succeeded as f64 / calls.max(1) as f64,
        recovery_ms,
        load,
        success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_name<'a>(outcomes: &'a [Outcome], name: &str) -> &'a Outcome {
        outcomes.iter().find(|o| o.strategy == name).expect("strategy")
    }

    /// The small world already shows the story the report tells: retries
    /// amplify the outage's load, a budget bounds them, a throttle and a
    /// breaker shed load, and without a bound the server does not recover.
    #[test]
    fn load_control_bounds_the_retry_storm() {
        let sc = Scenario::small(7);
        let outcomes: Vec<Outcome> = strategies().iter().map(|st| run(&sc, st)).collect();
        let none = by_name(&outcomes, "no retry");
        let retry = by_name(&outcomes, "retry, full jitter");
        let budget = by_name(&outcomes, "full jitter + budget");
        let throttle = by_name(&outcomes, "full jitter + adaptive throttle");
        let breaker = by_name(&outcomes, "full jitter + breaker");
        assert!(none.outage_load_ratio < 1.3, "{}", none.outage_load_ratio);
        assert!(retry.outage_load_ratio > 2.0, "{}", retry.outage_load_ratio);
        assert!(budget.outage_load_ratio < retry.outage_load_ratio);
        assert!(throttle.outage_load_ratio < retry.outage_load_ratio);
        assert!(breaker.outage_load_ratio < 1.0);
        assert_eq!(none.recovery_ms, Some(0));
        assert!(budget.recovery_ms.is_some() && budget.goodput > retry.goodput);
        for o in &outcomes {
            assert!(o.succeeded <= o.calls && o.goodput <= 1.0, "{o:?}");
        }
    }
}
