//! Separate OS processes share one breaker: this test binary runs the
//! README's example (`examples/two_processes.rs`) against its own
//! `redis-server`, re-executing itself as the second process.

#[path = "../examples/two_processes.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;

use std::process::ExitCode;
use std::time::Duration;

use resilience_redis::testing::RedisServer;

fn main() -> ExitCode {
    if std::env::var_os(example::ROLE).is_some() {
        // The second process.
        return example::run(None);
    }
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let program = std::env::current_exe().expect("this test binary");
    let took = example::first(&redis.url(), &program).unwrap_or_else(|e| panic!("{e}"));
    // The default sync interval is 250 ms: the second process opens within
    // two of them (one, with the event subscription).
    let bound = Duration::from_millis(500);
    assert!(
        took <= bound,
        "the second process opened {took:?} after the trip (bound {bound:?})"
    );
    println!("test two_processes_share_one_breaker ... ok ({took:?})");
    ExitCode::SUCCESS
}
