//! Four OS processes share one rate limiter: this test binary runs
//! `examples/limiter_peer.rs` four times (re-executing itself) against its
//! own `redis-server`, lets them all ask for cells far faster than the
//! limit, and checks the fleet stayed within the documented bound:
//! `burst + rate × t + processes × lease_size` (redis/README.md).

#[path = "../examples/limiter_peer.rs"]
#[allow(dead_code, unreachable_pub)]
mod peer;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use resilience_redis::testing::RedisServer;

const ROLE: &str = "RESILIENCE_LIMITER_PEER";
const PEERS: u64 = 4;
/// The default lease size: a quarter of the burst.
const LEASE: u64 = (peer::BURST as u64).div_ceil(4);

struct Peer {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

impl Peer {
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.from.read_line(&mut line).expect("a peer's line");
        line.trim().to_owned()
    }
}

fn field(line: &str, name: &str) -> u64 {
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == name {
            return words.next().and_then(|n| n.parse().ok()).expect("a number");
        }
    }
    panic!("no {name} in {line:?}")
}

fn main() -> ExitCode {
    if let Some(url) = std::env::var_os(ROLE) {
        return match peer::run(&url.to_string_lossy()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("peer: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let program = std::env::current_exe().expect("this test binary");
    let mut peers: Vec<Peer> = (0..PEERS)
        .map(|_| {
            let mut child = Command::new(&program)
                .env(ROLE, redis.url())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("a peer");
            let to = child.stdin.take().expect("stdin");
            let from = BufReader::new(child.stdout.take().expect("stdout"));
            Peer { child, to, from }
        })
        .collect();
    for p in &mut peers {
        assert_eq!(p.line(), "ready");
    }
    let run = Duration::from_secs(3);
    let started = Instant::now();
    for p in &mut peers {
        writeln!(p.to, "go {}", run.as_millis()).expect("go");
    }
    let lines: Vec<String> = peers.iter_mut().map(Peer::line).collect();
    let spread = started.elapsed().saturating_sub(run);
    for mut p in peers {
        writeln!(p.to, "quit").expect("quit");
        assert!(p.child.wait().expect("a peer's exit").success());
    }
    let admitted: u64 = lines.iter().map(|l| field(l, "admitted")).sum();
    let slowest = lines.iter().map(|l| field(l, "slowest_us")).max().unwrap_or(0);
    let failed: u64 = lines.iter().map(|l| field(l, "failed_syncs")).sum();
    // Each peer counts for `run`, starting within `spread` of the others.
    let window = (run + spread).as_secs_f64();
    let bound = f64::from(peer::BURST) + f64::from(peer::RATE) * window + (PEERS * LEASE) as f64;
    let unshared = PEERS as f64 * (f64::from(peer::BURST) + f64::from(peer::RATE) * run.as_secs_f64());
    println!(
        "4 processes admitted {admitted} cells in {window:.3} s (bound {bound:.0}; unshared they would \
         admit {unshared:.0}); slowest call {slowest} µs; failed syncs {failed}"
    );
    assert!(
        (admitted as f64) <= bound,
        "the fleet admitted {admitted}, above the bound {bound:.0}"
    );
    assert!(
        (admitted as f64) >= 0.5 * f64::from(peer::RATE) * run.as_secs_f64(),
        "the fleet admitted only {admitted}: the leases starve it"
    );
    println!("test four_processes_share_one_rate_limiter ... ok");
    ExitCode::SUCCESS
}
