//! Hedging: see [`HedgingConfig`] for the rules.

pub(crate) mod driver;

pub use driver::Hedge;

use std::time::Duration;

use crate::error::ConfigError;
use crate::rules;
use crate::value::Value;

/// Default `hedge_delay`: 2 s (Polly's).
pub const DEFAULT_HEDGE_DELAY: Duration = Duration::from_secs(2);
/// Default `max_hedged_attempts`: 1 (Polly's): at most two copies.
pub const DEFAULT_MAX_HEDGED_ATTEMPTS: u32 = 1;
/// The most hedged attempts a configuration allows (Polly's bound).
pub const MAX_HEDGED_ATTEMPTS: u32 = 10;

/// A validated hedging configuration.
///
/// Hedging (Polly's hedging strategy, gRPC A6 hedging): when an attempt is
/// slow, start another copy of it and take the first acceptable answer.
///
/// The decisions live in [`HedgingState`], a small `Copy` state driven
/// with clock readings: when to start the next copy, which answer wins,
/// when every copy has failed. Drivers do the I/O — start the calls, keep
/// one timer, cancel the losers: the async driver [`Hedge`] in Rust,
/// asyncio tasks in Python, promises and `AbortSignal`s in JavaScript.
///
/// The rules, per Polly and gRPC:
/// - attempt 1 starts at once; while no answer is accepted, attempt n+1
///   starts `hedge_delay` after attempt n started, up to
///   1 + `max_hedged_attempts` attempts (`hedge_delay` zero: all at once);
/// - a failed attempt starts the next copy at once, without waiting for
///   the delay (gRPC: "shortcutting its hedging delay"; Polly does the
///   same), and the delay then counts from that start;
/// - the first acceptable answer wins and every other running copy is
///   cancelled;
/// - when every copy has failed, the *last* failure surfaces (gRPC; Polly
///   returns the primary's outcome — we keep the rule of our retry and
///   fallback, where the last error surfaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HedgingConfig {
    hedge_delay: Duration,
    max_hedged_attempts: u32,
}

impl Default for HedgingConfig {
    fn default() -> Self {
        Self {
            hedge_delay: DEFAULT_HEDGE_DELAY,
            max_hedged_attempts: DEFAULT_MAX_HEDGED_ATTEMPTS,
        }
    }
}

impl HedgingConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> HedgingConfigBuilder {
        HedgingConfigBuilder(Self::default())
    }
    /// How long an attempt may go unanswered before the next copy starts.
    pub fn hedge_delay(&self) -> Duration {
        self.hedge_delay
    }
    /// Copies started beyond the first.
    pub fn max_hedged_attempts(&self) -> u32 {
        self.max_hedged_attempts
    }
    /// Every attempt a hedge may start, the first included.
    pub fn total_attempts(&self) -> u32 {
        self.max_hedged_attempts.saturating_add(1)
    }
    /// A fresh hedge.
    pub fn start(&self) -> HedgingState {
        HedgingState::new(self)
    }
}

/// Builds a [`HedgingConfig`]; [`build`](HedgingConfigBuilder::build) validates.
#[derive(Debug, Clone, Copy)]
pub struct HedgingConfigBuilder(HedgingConfig);

impl HedgingConfigBuilder {
    /// At most [`rules::MAX_DURATION`]; zero starts every copy at once.
    pub fn hedge_delay(mut self, d: Duration) -> Self {
        self.0.hedge_delay = d;
        self
    }
    /// In `1..=10`.
    pub fn max_hedged_attempts(mut self, n: u32) -> Self {
        self.0.max_hedged_attempts = n;
        self
    }
    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] for `max_hedged_attempts` outside `1..=10` or a
    /// `hedge_delay` beyond [`rules::MAX_DURATION`].
    pub fn build(self) -> Result<HedgingConfig, ConfigError> {
        Ok(HedgingConfig {
            hedge_delay: rules::bounded_duration("hedge_delay", self.0.hedge_delay)?,
            max_hedged_attempts: rules::hedged_attempts(Value::from(self.0.max_hedged_attempts))?,
        })
    }
}

/// What a hedging driver does next.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HedgeStep {
    /// Start attempt `attempt` (1-based) now, then ask again.
    Launch {
        /// The attempt to start.
        attempt: u32,
    },
    /// Nothing to start now: wait until an attempt ends or the clock reads
    /// `until` (`None`: only an attempt ending can change anything), then
    /// ask again.
    Wait {
        /// The clock reading at which the next copy is due.
        until: Option<Duration>,
    },
    /// The hedge is over: nothing more to start.
    Finished,
}

/// What became of the hedge after an attempt ended.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HedgeOutcome {
    /// This attempt's answer wins: return it and cancel every other
    /// running attempt.
    Won {
        /// The winner.
        attempt: u32,
    },
    /// The failure is noted; ask [`HedgingState::next`] (the next copy may
    /// be due at once).
    Continue,
    /// Every attempt has failed and this one ended last: surface its failure.
    AllFailed {
        /// How many attempts ran.
        attempts: u32,
    },
    /// Not a running attempt (reported twice, never started, or after the
    /// end): nothing changed.
    Ignored,
}

/// Where a hedge stands: copies started, copies running, when the next is due.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{HedgeOutcome, HedgeStep, HedgingConfig};
/// let config = HedgingConfig::builder().hedge_delay(Duration::from_millis(100))
///     .max_hedged_attempts(2).build()?;
/// let ms = Duration::from_millis;
/// let mut hedge = config.start();
/// assert_eq!(hedge.next(ms(0)), HedgeStep::Launch { attempt: 1 });
/// assert_eq!(hedge.next(ms(0)), HedgeStep::Wait { until: Some(ms(100)) });
/// assert_eq!(hedge.next(ms(100)), HedgeStep::Launch { attempt: 2 });  // attempt 1 is slow
/// assert_eq!(hedge.on_outcome(2, false, ms(150)), HedgeOutcome::Continue); // attempt 2 failed…
/// assert_eq!(hedge.next(ms(150)), HedgeStep::Launch { attempt: 3 });  // …so 3 starts at once
/// assert_eq!(hedge.next(ms(150)), HedgeStep::Wait { until: None });    // no copy left
/// assert_eq!(hedge.on_outcome(1, true, ms(180)), HedgeOutcome::Won { attempt: 1 }); // cancel 3
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HedgingState {
    delay: Duration,
    total: u32,
    launched: u32,
    /// Bit `n - 1` set: attempt `n` is running (at most 11 attempts).
    running: u16,
    /// When the next copy is due; `None` once every copy has started.
    next_at: Option<Duration>,
    finished: bool,
}

impl HedgingState {
    /// A hedge about to start its first attempt.
    pub fn new(config: &HedgingConfig) -> Self {
        Self {
            delay: config.hedge_delay,
            // Validated to 1..=10 hedges; a hand-made config is clamped so
            // the running set fits.
            total: config.total_attempts().min(MAX_HEDGED_ATTEMPTS.saturating_add(1)),
            launched: 0,
            running: 0,
            next_at: Some(Duration::ZERO),
            finished: false,
        }
    }

    /// Attempts started so far.
    pub fn launched(&self) -> u32 {
        self.launched
    }

    /// Attempts running now.
    pub fn running(&self) -> u32 {
        self.running.count_ones()
    }

    /// Whether the hedge is over.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn bit(attempt: u32) -> Option<u16> {
        let index = attempt.checked_sub(1)?;
        1u16.checked_shl(index).filter(|_| index < 16)
    }

    /// Rule `hedge_timing`: what to do at clock reading `now`. The first
    /// call starts attempt 1; later calls start the next copy once it is
    /// due. Call it after starting, after every attempt that ended with
    /// [`HedgeOutcome::Continue`], and when the timer fires — until it
    /// answers `Wait` or `Finished`.
    pub fn next(&mut self, now: Duration) -> HedgeStep {
        if self.finished {
            return HedgeStep::Finished;
        }
        match self.next_at {
            Some(due) if due <= now || self.launched == 0 => {
                let attempt = self.launched.saturating_add(1);
                self.launched = attempt;
                if let Some(bit) = Self::bit(attempt) {
                    self.running |= bit;
                }
                self.next_at = (attempt < self.total).then(|| now.saturating_add(self.delay));
                HedgeStep::Launch { attempt }
            }
            until => HedgeStep::Wait { until },
        }
    }

    /// Rule `hedge_outcome`: attempt `attempt` ended at clock reading `now`;
    /// `accepted` says whether its answer is acceptable (a success, or an
    /// error the driver treats as final). The first acceptable answer wins;
    /// a failure makes the next copy due at once; when the last running
    /// attempt fails with no copy left, every attempt has failed.
    pub fn on_outcome(&mut self, attempt: u32, accepted: bool, now: Duration) -> HedgeOutcome {
        let Some(bit) = Self::bit(attempt) else {
            return HedgeOutcome::Ignored;
        };
        if self.finished || self.running & bit == 0 {
            return HedgeOutcome::Ignored;
        }
        self.running &= !bit;
        if accepted {
            self.finished = true;
            self.next_at = None;
            return HedgeOutcome::Won { attempt };
        }
        if let Some(due) = self.next_at {
            // A copy is left: it starts at once.
            self.next_at = Some(due.min(now));
            return HedgeOutcome::Continue;
        }
        if self.running == 0 {
            self.finished = true;
            return HedgeOutcome::AllFailed {
                attempts: self.launched,
            };
        }
        HedgeOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn config(delay: u64, hedges: u32) -> HedgingConfig {
        HedgingConfig::builder()
            .hedge_delay(ms(delay))
            .max_hedged_attempts(hedges)
            .build()
            .unwrap()
    }

    #[test]
    fn a_zero_delay_starts_every_copy_at_once() {
        let mut h = config(0, 2).start();
        for attempt in 1..=3 {
            assert_eq!(h.next(ms(5)), HedgeStep::Launch { attempt });
        }
        assert_eq!(h.next(ms(5)), HedgeStep::Wait { until: None });
        assert_eq!(h.running(), 3);
    }

    #[test]
    fn every_copy_failing_surfaces_the_last() {
        let mut h = config(10, 1).start();
        assert_eq!(h.next(ms(0)), HedgeStep::Launch { attempt: 1 });
        assert_eq!(h.on_outcome(1, false, ms(3)), HedgeOutcome::Continue);
        assert_eq!(h.next(ms(3)), HedgeStep::Launch { attempt: 2 });
        assert_eq!(h.on_outcome(2, false, ms(4)), HedgeOutcome::AllFailed { attempts: 2 });
        assert_eq!(h.next(ms(4)), HedgeStep::Finished);
    }

    #[test]
    fn bad_reports_change_nothing() {
        let mut h = config(10, 1).start();
        assert_eq!(h.on_outcome(1, true, ms(0)), HedgeOutcome::Ignored, "not started");
        let _ = h.next(ms(0));
        for attempt in [0, 2, 17, u32::MAX] {
            assert_eq!(h.on_outcome(attempt, true, ms(1)), HedgeOutcome::Ignored);
        }
        assert_eq!(h.on_outcome(1, true, ms(1)), HedgeOutcome::Won { attempt: 1 });
        assert_eq!(h.on_outcome(1, true, ms(1)), HedgeOutcome::Ignored, "twice");
    }

    #[test]
    fn the_builder_validates() {
        let err = HedgingConfig::builder().max_hedged_attempts(0).build().unwrap_err();
        assert_eq!(err.parameter(), "max_hedged_attempts");
        assert_eq!(HedgingConfig::builder().build(), Ok(HedgingConfig::default()));
        assert_eq!(HedgingConfig::default().total_attempts(), 2);
    }

    #[test]
    fn a_clock_at_the_end_of_its_range_saturates() {
        let mut h = config(10, 2).start();
        let _ = h.next(Duration::MAX);
        assert_eq!(h.next(Duration::MAX), HedgeStep::Launch { attempt: 2 });
    }
}
