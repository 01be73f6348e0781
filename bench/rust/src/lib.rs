//! Helpers shared by the benchmarks: the operation under test and a tiny
//! executor for futures that never wait.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls a future to completion; the benchmarked futures are always ready.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// The operation every scenario wraps: cheap, but not optimised away.
#[inline(never)]
pub fn work(x: u64) -> Result<u64, u64> {
    Ok(std::hint::black_box(x).wrapping_mul(31).wrapping_add(7))
}

/// Fails twice, then succeeds, then starts over (scenario S2).
#[derive(Debug, Default)]
pub struct TwoFailuresThenOk(u32);

impl TwoFailuresThenOk {
    /// The next outcome.
    pub fn call(&mut self, x: u64) -> Result<u64, u64> {
        self.0 = (self.0 + 1) % 3;
        if self.0 == 0 {
            work(x)
        } else {
            Err(x)
        }
    }
}

/// The async retry rows' error: core's async executor can time attempts
/// out, so its errors must be buildable from a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkError(pub u64);

impl From<resilience_core::TimedOut> for WorkError {
    fn from(_: resilience_core::TimedOut) -> Self {
        Self(u64::MAX)
    }
}

/// W1 (issue 9): the failure-rate windows measured in criterion
/// (`benches/breaker_windows.rs`) and counted in `src/bin/icount.rs`, built
/// in one place so both measure the same breakers.
pub mod w1 {
    use std::time::Duration;

    use resilience_core::BreakerConfig;

    /// Trips at a failure ratio of 0.5 over 100 calls in a 30 s window of 10 buckets.
    pub fn time_window() -> BreakerConfig {
        BreakerConfig::builder()
            .failure_rate(0.5, 100)
            .time_window(Duration::from_secs(30), 10)
            .build()
            .expect("valid config")
    }

    /// Trips at a failure ratio of 0.5 over the last 100 calls.
    pub fn count_window() -> BreakerConfig {
        BreakerConfig::builder()
            .failure_rate(0.5, 100)
            .count_window(100)
            .build()
            .expect("valid config")
    }

    /// failsafe's twin of [`time_window`]: it trips below a success rate,
    /// so 0.5 is our failure ratio 0.5.
    pub fn failsafe_window() -> impl failsafe::CircuitBreaker {
        failsafe::Config::new()
            .failure_policy(failsafe::failure_policy::success_rate_over_time_window(
                0.5,
                100,
                Duration::from_secs(30),
                failsafe::backoff::constant(Duration::from_secs(30)),
            ))
            .build()
    }
}
