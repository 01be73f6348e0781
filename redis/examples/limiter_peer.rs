//! One process of a fleet sharing one rate limiter through Redis (the
//! four-process test `redis/tests/limiter_processes.rs` runs four).
//!
//! ```sh
//! cargo run -p resilience-redis --example limiter_peer -- redis://127.0.0.1:6379/0
//! ```
//!
//! It shares the limiter `search` (200 cells per second, a burst of 20,
//! the default lease of 5), prints `ready` once synced, then on each `go
//! <ms>` line on stdin asks for a cell every 200 µs for that long and
//! prints `admitted <n> slowest_us <µs> failed_syncs <n>`; `quit` (or the
//! end of stdin) ends it.

use std::io::BufRead;
use std::time::{Duration, Instant};

use resilience_core::{RateLimiterConfig, SystemClock};
use resilience_redis::RedisStore;

/// The limiter every peer shares.
pub const RATE: u32 = 200;
/// Its burst.
pub const BURST: u32 = 20;

/// Runs one peer against `url` until `quit`.
pub fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let store = RedisStore::builder(url)
        .prefix("peers")
        .sync_interval(Duration::from_millis(100))
        .sync_timeout(Duration::from_millis(250))
        .build()?;
    let config = RateLimiterConfig::builder().rate(RATE).burst(BURST).build()?;
    let search = store.limiter("search", config, SystemClock::new())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !search.lease_status().is_some_and(|s| s.live) {
        if Instant::now() > deadline {
            return Err("never synced".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("ready");
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let Some(ms) = line.strip_prefix("go ").and_then(|ms| ms.trim().parse::<u64>().ok()) else {
            break;
        };
        let until = Instant::now() + Duration::from_millis(ms);
        let (mut admitted, mut slowest) = (0u64, Duration::ZERO);
        while Instant::now() < until {
            let started = Instant::now();
            if search.try_acquire().is_ok() {
                admitted += 1;
            }
            slowest = slowest.max(started.elapsed());
            std::thread::sleep(Duration::from_micros(200));
        }
        println!(
            "admitted {admitted} slowest_us {} failed_syncs {}",
            slowest.as_micros(),
            store.metrics().failed_syncs
        );
    }
    store.close();
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".to_owned());
    run(&url)
}
