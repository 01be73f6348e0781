//! The fleet simulator: deterministic discrete-event simulations on
//! resilience-core and virtual time (`make sim`).
//!
//! - [`fleet`]: N clients, a server with finite capacity and a queue, and an
//!   outage, through each strategy — no retry; retry without jitter; each
//!   jitter mode; + retry budget; + adaptive throttle; + breaker; all
//!   together.
//! - [`occ`]: the AWS "Exponential Backoff and Jitter" contention study.
//! - [`report`]: the table, `results.json` and `report.html` (inline SVG).

pub mod events;
pub mod fleet;
pub mod occ;
pub mod random;
pub mod report;

/// Everything one run of the simulator produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// The seed.
    pub seed: u64,
    /// The fleet scenario.
    pub scenario: fleet::Scenario,
    /// One outcome per strategy, in report order.
    pub fleet: Vec<fleet::Outcome>,
    /// Runs averaged per point of the AWS study.
    pub occ_runs: u32,
    /// The AWS study's points.
    pub occ: Vec<occ::Point>,
}

/// Runs both experiments.
pub fn run(scenario: fleet::Scenario, occ_runs: u32) -> Results {
    Results {
        seed: scenario.seed,
        scenario,
        fleet: fleet::strategies().iter().map(|st| fleet::run(&scenario, st)).collect(),
        occ_runs,
        occ: occ::study(scenario.seed, occ_runs),
    }
}
