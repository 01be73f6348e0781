//! Snapshots: a breaker's state as a versioned JSON document whose times are
//! relative to the moment it was taken (monotonic clocks do not survive a
//! restart), and a breaker built back from one — so a worker that restarts
//! while its dependency is down starts open (cockatiel's `toJSON` /
//! `initialState`).
//!
//! ```json
//! {"format":"resilience.circuit_breaker","version":1,"state":"open",
//!  "consecutive_failures":5,"openings_in_a_row":1,"break_ms":30000,"break_remaining_ms":12000,
//!  "window":{"kind":"time","bucket_ns":3000000000,"buckets":[[0,12,6,0],[3,4,1,0]]}}
//! ```
//! `buckets` are `[age in buckets, calls, failures, slow calls]`; a count
//! window is `{"kind":"count","size":100,"calls":"oofx"}` with one letter
//! per call, oldest first (`o` ok, `f` failed, `s` slow, `x` slow and failed).

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::config::Window;
use super::window::{Contents, Sample, Tally};
use super::{nanos_of, BreakerConfig, CircuitBreaker, CircuitState};
use crate::json::{self, Json};
use crate::rules::MAX_DURATION;
use crate::time::Clock;

/// The snapshot format this release writes (and the newest it reads).
pub const SNAPSHOT_VERSION: u64 = 1;
const FORMAT: &str = "resilience.circuit_breaker";

/// A snapshot could not be read. The breaker was not built.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// Not a breaker snapshot: not JSON, truncated, another format, or a
    /// field missing or out of range.
    Malformed {
        /// What is wrong, and where.
        reason: String,
    },
    /// Written by a newer release (a format this one does not know).
    UnsupportedVersion {
        /// The document's version.
        version: u64,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { reason } => write!(f, "malformed circuit breaker snapshot: {reason}"),
            Self::UnsupportedVersion { version } => write!(
                f,
                "circuit breaker snapshot version {version} is newer than this release reads ({SNAPSHOT_VERSION})"
            ),
        }
    }
}

impl std::error::Error for SnapshotError {}

fn malformed(reason: impl Into<String>) -> SnapshotError {
    SnapshotError::Malformed { reason: reason.into() }
}

/// Milliseconds, rounded up (a restored break never ends early).
fn ceil_ms(d: Duration) -> u128 {
    d.as_nanos().div_ceil(1_000_000)
}

fn sample_letter(s: Sample) -> char {
    match (s.failure, s.slow) {
        (false, false) => 'o',
        (true, false) => 'f',
        (false, true) => 's',
        (true, true) => 'x',
    }
}

fn letter_sample(c: char) -> Option<Sample> {
    let (failure, slow) = match c {
        'o' => (false, false),
        'f' => (true, false),
        's' => (false, true),
        'x' => (true, true),
        _ => return None,
    };
    Some(Sample { failure, slow })
}

impl<C: Clock> CircuitBreaker<C> {
    /// The breaker's state as a versioned JSON document, times relative to
    /// now. Half-open trials in flight are not part of it: a restored
    /// half-open breaker admits new trials.
    pub fn snapshot(&self) -> String {
        let now = self.clock.now();
        let state = self.state();
        let break_duration = self.reported_break();
        let remaining = match state {
            CircuitState::Open => self.break_duration().saturating_sub(self.open_elapsed()),
            _ => Duration::ZERO,
        };
        let window = match (&self.window, self.window.as_ref().map(|w| w.contents(now))) {
            (Some(w), Some(Contents::Buckets(buckets))) => {
                let width = w.bucket_width().unwrap_or(Duration::ZERO).as_nanos();
                let items: Vec<String> = buckets
                    .iter()
                    .map(|(age, t)| format!("[{age},{},{},{}]", t.calls, t.failures, t.slow))
                    .collect();
                format!(
                    "{{\"kind\":\"time\",\"bucket_ns\":{width},\"buckets\":[{}]}}",
                    items.join(",")
                )
            }
            (Some(_), Some(Contents::Calls(calls))) => {
                let size = match self.config.window() {
                    Some(Window::Count { size }) => size,
                    _ => 0, // coverage: unreachable — only a count window holds calls
                };
                let letters: String = calls.iter().map(|s| sample_letter(*s)).collect();
                format!(
                    "{{\"kind\":\"count\",\"size\":{size},\"calls\":{}}}",
                    json::quote(&letters)
                )
            }
            _ => "null".to_owned(),
        };
        format!(
            "{{\"format\":\"{FORMAT}\",\"version\":{SNAPSHOT_VERSION},\"state\":\"{}\",\"consecutive_failures\":{},\
             \"openings_in_a_row\":{},\"break_ms\":{},\"break_remaining_ms\":{},\"window\":{window}}}",
            state.as_str(),
            self.failure_count(),
            self.openings_in_a_row.load(Ordering::Acquire),
            ceil_ms(break_duration),
            ceil_ms(remaining),
        )
    }

    /// A breaker restored from [`CircuitBreaker::snapshot`]'s document, as
    /// of now on `clock`: an open breaker stays open for the rest of its
    /// break, an isolated one stays isolated, counts and window come back.
    /// The window comes back only when `config` has a window of the same
    /// shape; otherwise it starts empty.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ManualClock};
    /// let config = BreakerConfig::builder().failure_threshold(1).build()?;
    /// let breaker = CircuitBreaker::new(config, ManualClock::new());
    /// let _ = breaker.call(|| Err::<(), _>("down"));
    /// let document = breaker.snapshot();
    /// // A new process, a new clock: still open for the rest of the 30 s break.
    /// let clock = ManualClock::starting_at(Duration::from_secs(5_000));
    /// let restored = CircuitBreaker::from_snapshot(config, clock.clone(), &document).unwrap();
    /// assert_eq!(restored.state(), CircuitState::Open);
    /// clock.advance(Duration::from_secs(30));
    /// assert_eq!(restored.state(), CircuitState::HalfOpen);
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`SnapshotError`] for a document that is not a breaker snapshot of a
    /// version this release reads. Never a panic, never a silently closed
    /// breaker.
    pub fn from_snapshot(config: BreakerConfig, clock: C, document: &str) -> Result<Self, SnapshotError> {
        let doc = json::parse(document).map_err(|e| malformed(e.to_string()))?;
        if doc.get("format").and_then(Json::as_str) != Some(FORMAT) {
            return Err(malformed(format!("\"format\" is not \"{FORMAT}\"")));
        }
        match doc.get("version").and_then(Json::as_u64) {
            Some(SNAPSHOT_VERSION) => {}
            Some(version) if version > SNAPSHOT_VERSION => return Err(SnapshotError::UnsupportedVersion { version }),
            _ => return Err(malformed("\"version\" is missing or not a version")),
        }
        let state = doc
            .get("state")
            .and_then(Json::as_str)
            .and_then(CircuitState::from_name)
            .ok_or_else(|| malformed("\"state\" is not a breaker state"))?;
        let count = |key: &str| -> Result<u32, SnapshotError> {
            doc.get(key)
                .and_then(Json::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| malformed(format!("\"{key}\" is not a count")))
        };
        let millis = |key: &str| -> Result<Duration, SnapshotError> {
            doc.get(key)
                .and_then(Json::as_u64)
                .map(|ms| Duration::from_millis(ms).min(MAX_DURATION))
                .ok_or_else(|| malformed(format!("\"{key}\" is not a number of milliseconds")))
        };
        let consecutive = count("consecutive_failures")?;
        let openings_in_a_row = count("openings_in_a_row")?;
        let break_duration = millis("break_ms")?;
        let remaining = millis("break_remaining_ms")?.min(break_duration);
        let window = read_window(doc.get("window").ok_or_else(|| malformed("\"window\" is missing"))?)?;

        let breaker = Self::new(config, clock);
        let now = breaker.now_nanos();
        breaker.failures.store(consecutive, Ordering::Release);
        breaker.openings_in_a_row.store(openings_in_a_row, Ordering::Release);
        if let (Some(counter), Some(contents)) = (&breaker.window, window) {
            if breaker.window_matches(&contents) {
                counter.restore(breaker.clock.now(), &contents.contents);
            }
        }
        match state {
            CircuitState::Closed => {}
            CircuitState::Open | CircuitState::HalfOpen => {
                // Half-open restores as a break that has just ended: new trials decide.
                let remaining = if state == CircuitState::Open {
                    remaining
                } else {
                    Duration::ZERO
                };
                let served = nanos_of(break_duration.saturating_sub(remaining));
                match now.checked_sub(served) {
                    Some(opened_at) => breaker.set_break(opened_at, break_duration),
                    None => {
                        // A clock that starts near zero: what is left counts
                        // from now; the served part is still reported.
                        breaker.set_break(now, remaining);
                        breaker.break_served_nanos.store(served, Ordering::Release);
                    }
                }
                breaker.state.store(CircuitState::Open.to_u8(), Ordering::Release);
            }
            _ => breaker.state.store(state.to_u8(), Ordering::Release),
        }
        breaker.entered_at_nanos.store(now, Ordering::Release);
        Ok(breaker)
    }

    fn window_matches(&self, saved: &SavedWindow) -> bool {
        match (self.config.window(), &saved.contents) {
            (Some(Window::Time { .. }), Contents::Buckets(_)) => {
                let width = self.window.as_ref().and_then(|w| w.bucket_width());
                width.map(|w| w.as_nanos()) == Some(saved.shape)
            }
            (Some(Window::Count { size }), Contents::Calls(_)) => saved.shape == u128::from(size),
            _ => false,
        }
    }
}

/// A window read from a snapshot, with its shape (bucket width in ns, or size).
struct SavedWindow {
    shape: u128,
    contents: Contents,
}

fn read_window(window: &Json) -> Result<Option<SavedWindow>, SnapshotError> {
    if *window == Json::Null {
        return Ok(None);
    }
    let number = |key: &str| {
        window
            .get(key)
            .and_then(Json::as_u64)
            .ok_or_else(|| malformed(format!("window \"{key}\" is not a whole number")))
    };
    match window.get("kind").and_then(Json::as_str) {
        Some("time") => {
            let shape = u128::from(number("bucket_ns")?);
            let items = window
                .get("buckets")
                .and_then(Json::as_array)
                .ok_or_else(|| malformed("window \"buckets\" is not a list"))?;
            let buckets = items
                .iter()
                .map(|item| {
                    let n: Vec<u64> = item
                        .as_array()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Json::as_u64)
                        .collect();
                    match n.as_slice() {
                        [age, calls, failures, slow] if failures <= calls && slow <= calls => Ok((
                            *age,
                            Tally {
                                calls: *calls,
                                failures: *failures,
                                slow: *slow,
                            },
                        )),
                        _ => Err(malformed("a window bucket is not [age, calls, failures, slow]")),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(SavedWindow {
                shape,
                contents: Contents::Buckets(buckets),
            }))
        }
        Some("count") => {
            let shape = u128::from(number("size")?);
            let letters = window
                .get("calls")
                .and_then(Json::as_str)
                .ok_or_else(|| malformed("window \"calls\" is not a string"))?;
            let calls = letters
                .chars()
                .map(|c| letter_sample(c).ok_or_else(|| malformed("window \"calls\" holds an unknown letter")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(SavedWindow {
                shape,
                contents: Contents::Calls(calls),
            }))
        }
        _ => Err(malformed("window \"kind\" is neither \"time\" nor \"count\"")),
    }
}
