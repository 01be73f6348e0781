//! Waiting for cells: blocking and async loops over
//! [`RateLimiter::try_acquire_n`], sleeping through the injected sleeper.

use crate::limiter::{ExceedsBurst, RateLimitError, RateLimiter};
use crate::time::{AsyncSleeper, Clock, Sleeper};

impl<C: Clock> RateLimiter<C> {
    /// Takes `n` cells, sleeping through `sleeper` for as long as the
    /// limiter says and asking again (another caller may have taken the
    /// cells meanwhile). Returns at once with an error when `n` exceeds the
    /// burst — never a hang on a request that can never conform.
    ///
    /// # Errors
    /// [`ExceedsBurst`] when `n` is above the burst.
    pub fn acquire(&self, n: u32, sleeper: &impl Sleeper) -> Result<(), ExceedsBurst> {
        loop {
            match self.try_acquire_n(n) {
                Ok(()) => return Ok(()),
                Err(RateLimitError::Limited(limited)) => sleeper.sleep(limited.retry_after),
                Err(RateLimitError::ExceedsBurst(e)) => return Err(e),
            }
        }
    }

    /// The async twin of [`acquire`](Self::acquire).
    ///
    /// # Errors
    /// [`ExceedsBurst`] when `n` is above the burst.
    pub async fn acquire_async(&self, n: u32, sleeper: &impl AsyncSleeper) -> Result<(), ExceedsBurst> {
        loop {
            match self.try_acquire_n(n) {
                Ok(()) => return Ok(()),
                Err(RateLimitError::Limited(limited)) => sleeper.sleep(limited.retry_after).await,
                Err(RateLimitError::ExceedsBurst(e)) => return Err(e),
            }
        }
    }
}
