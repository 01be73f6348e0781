//! Helpers shared by the Redis tests: a real `redis-server` per test, and
//! waiting for a condition with a deadline (never a fixed sleep that
//! assumes a speed).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use resilience_redis::testing::RedisServer;

/// A fresh server for one test (fails with how to install it when missing).
pub(crate) fn server() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("{e}"))
}

/// Polls `condition` until it holds; panics with `what` after `within`.
pub(crate) fn wait_until(within: Duration, what: &str, mut condition: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if condition() {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}
