//! Two processes share one breaker through Redis.
//!
//! ```sh
//! cargo run -p resilience-redis --example two_processes -- redis://127.0.0.1:6379/0
//! ```
//!
//! The first process starts a second one (this same program), waits until
//! both have synced with Redis, then sees the dependency fail and trips its
//! breaker. The second process made no call that failed, yet its breaker
//! opens too — within one sync interval — and rejects calls for what is
//! left of the fleet's break. `redis/tests/processes.rs` runs this file.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use resilience_core::{BreakerConfig, CircuitState, SystemClock};
use resilience_redis::RedisStore;

/// Set in the second process's environment.
pub const ROLE: &str = "RESILIENCE_EXAMPLE_ROLE";
/// The Redis URL, passed to the second process.
pub const URL: &str = "RESILIENCE_EXAMPLE_URL";

fn config() -> Result<BreakerConfig, String> {
    BreakerConfig::builder()
        .failure_rate(0.5, 10)
        .time_window(Duration::from_secs(30), 10)
        .recovery_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

/// The first process: starts the second, trips, and returns how long the
/// second took to open after the trip (as the second measured it on its
/// side of a pipe: an upper bound).
pub fn first(url: &str, program: &std::path::Path) -> Result<Duration, String> {
    let store = RedisStore::from_url(url).map_err(|e| e.to_string())?;
    let payments = store
        .breaker("payments", config()?, SystemClock::new())
        .map_err(|e| e.to_string())?;
    let mut second = Command::new(program)
        .env(ROLE, "second")
        .env(URL, url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the second process: {e}"))?;
    let mut to_second = second.stdin.take().ok_or("no stdin")?;
    let mut from_second = BufReader::new(second.stdout.take().ok_or("no stdout")?).lines();
    let mut expect = |word: &str| match from_second.next() {
        Some(Ok(line)) if line.starts_with(word) => Ok(line),
        other => Err(format!("the second process said {other:?}, not {word}")),
    };
    expect("ready")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !payments.fleet_status().is_some_and(|s| s.live) {
        if Instant::now() > deadline {
            return Err("the first process never synced".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("first: both synced; the dependency fails ten times");
    for _ in 0..10 {
        let _ = payments.call(|| Err::<(), _>("connection refused"));
    }
    println!("first: {:?}", payments.state());
    // Tell the second process the trip happened; it reports when it opened.
    writeln!(to_second, "tripped").map_err(|e| e.to_string())?;
    let line = expect("open")?;
    let status = second.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("the second process failed: {status}"));
    }
    let ms: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unreadable: {line}"))?;
    store.close();
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// The second process: syncs, waits for the word, then for its breaker to
/// open (it never sees a failure itself).
pub fn second(url: &str) -> Result<(), String> {
    let store = RedisStore::from_url(url).map_err(|e| e.to_string())?;
    let payments = store
        .breaker("payments", config()?, SystemClock::new())
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !payments.fleet_status().is_some_and(|s| s.live) {
        if Instant::now() > deadline {
            return Err("the second process never synced".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // A call that works: this process has no failure of its own.
    let _ = payments.call(|| Ok::<_, ()>(()));
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| e.to_string())?;
    let told = Instant::now();
    while payments.state() != CircuitState::Open {
        if told.elapsed() > Duration::from_secs(10) {
            return Err("the second process never opened".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let left = payments.try_acquire().map(drop).err().map(|r| r.retry_after);
    println!(
        "open {:.1} (rejecting for {left:?} more)",
        told.elapsed().as_secs_f64() * 1000.0
    );
    eprintln!("second: opened by the fleet; {:?}", payments.fleet_status());
    store.close();
    Ok(())
}

/// Runs the role this process was started for.
pub fn run(url_argument: Option<String>) -> ExitCode {
    let result = if std::env::var_os(ROLE).is_some() {
        let url = std::env::var(URL).unwrap_or_default();
        second(&url)
    } else {
        let url = url_argument.unwrap_or_else(|| "redis://127.0.0.1:6379/0".to_owned());
        std::env::current_exe()
            .map_err(|e| e.to_string())
            .and_then(|program| first(&url, &program))
            .map(|took| println!("first: the second process opened {took:?} after the trip"))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[allow(dead_code)]
fn main() -> ExitCode {
    run(std::env::args().nth(1))
}
