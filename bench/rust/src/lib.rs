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
