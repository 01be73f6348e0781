//! One process of the cross-language test (`redis/tests/cross/`): the Rust
//! peer, next to a Python and a Node peer sharing the same breakers.
//!
//! ```sh
//! cargo run -p resilience-redis --example fleet_peer -- redis://127.0.0.1:6379/0
//! ```
//!
//! It shares two breakers and answers a line protocol on stdin/stdout (the
//! same in the three peers): `ready` once both breakers synced, then
//! `fail <name> <n>` → `state <state>`; `await-open <name>` → `open <ms>`
//! (ms from the command to the breaker open, as seen here: an upper bound);
//! `probe <name> <port>` → `closed <calls>` (two callers probe the dependency
//! at 127.0.0.1:<port> through the breaker until it closes); `quit`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use resilience_core::{BreakerConfig, CircuitState, SystemClock};
use resilience_redis::RedisStore;

const INTERVAL: Duration = Duration::from_millis(200);

fn state_name(s: CircuitState) -> &'static str {
    s.as_str()
}

/// One call of the dependency: `ok` or an error.
fn dependency(port: u16) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.write_all(b"probe\n").map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).map_err(|e| e.to_string())?;
    if line.trim() == "ok" {
        Ok(())
    } else {
        Err(line)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".to_owned());
    let store = RedisStore::builder(&url)
        .prefix("cross")
        .sync_interval(INTERVAL)
        .sync_timeout(Duration::from_millis(250))
        .build()?;
    let payments = store.breaker(
        "payments",
        BreakerConfig::builder()
            .failure_rate(0.5, 10)
            .time_window(Duration::from_secs(20), 10)
            .recovery_timeout(Duration::from_secs(30))
            .build()?,
        SystemClock::new(),
    )?;
    let inventory = store.breaker(
        "inventory",
        BreakerConfig::builder()
            .failure_threshold(1)
            .recovery_timeout(Duration::from_millis(400))
            .half_open_max_calls(2)
            .build()?,
        SystemClock::new(),
    )?;
    let live = |b: &resilience_redis::SharedBreaker<SystemClock>| b.fleet_status().is_some_and(|s| s.live);
    let started = Instant::now();
    while !(live(&payments) && live(&inventory)) {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("never synced".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("ready");
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let breaker = match words.get(1) {
            Some(&"payments") => &payments,
            Some(&"inventory") => &inventory,
            _ => &payments,
        };
        match words.first().copied() {
            Some("fail") => {
                let n: u32 = words.get(2).and_then(|w| w.parse().ok()).unwrap_or(1);
                for _ in 0..n {
                    let _ = breaker.call(|| Err::<(), _>("down"));
                }
                println!("state {}", state_name(breaker.state()));
            }
            Some("await-open") => {
                let told = Instant::now();
                while breaker.state() != CircuitState::Open && told.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                println!("open {:.1}", told.elapsed().as_secs_f64() * 1000.0);
            }
            Some("probe") => {
                let port: u16 = words.get(2).and_then(|w| w.parse().ok()).ok_or("probe <name> <port>")?;
                let deadline = Instant::now() + Duration::from_secs(20);
                let calls = std::sync::atomic::AtomicU64::new(0);
                std::thread::scope(|scope| {
                    for _ in 0..2 {
                        scope.spawn(|| {
                            while breaker.state() != CircuitState::Closed && Instant::now() < deadline {
                                match breaker.call(|| dependency(port)) {
                                    Err(resilience_core::BreakerError::Open(_)) => {
                                        std::thread::sleep(Duration::from_millis(3));
                                    }
                                    _ => {
                                        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                    }
                                }
                            }
                        });
                    }
                });
                println!("{} {}", state_name(breaker.state()), calls.into_inner());
            }
            Some("quit") | None => break,
            Some(other) => println!("unknown {other}"),
        }
    }
    store.close();
    Ok(())
}
