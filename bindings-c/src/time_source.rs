//! Time injection: a C struct of callbacks becomes core's `Clock` / `Sleeper`.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use resilience_core::{rules, Clock, Sleeper, SystemClock, SystemSleeper};

use crate::boundary::nanos;

/// Virtual (or custom) time for the library, wasmtime-style: callbacks plus
/// the `user_data` they receive, and an optional finalizer.
///
/// Every callback may be NULL: a NULL `now_ns` means the system monotonic
/// clock, a NULL `sleep_ns` means the system sleep (`nanosleep`).
///
/// Ownership: an object created with a time source (a circuit breaker) takes
/// ownership of `user_data` when its `*_new` returns RESILIENCE_OK, and calls
/// `free_user_data(user_data)` (if not NULL) exactly once, from its `*_free`.
/// Functions that only borrow a time source for one call
/// (`resilience_retry_execute`, `resilience_rate_limiter_acquire`) never
/// call the finalizer.
///
/// A breaker shared by several threads calls `now_ns` from all of them:
/// make it thread-safe (an atomic counter is enough).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_time_source_t {
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// Monotonic "now" in nanoseconds since an arbitrary fixed origin (e.g.
    /// `tv_sec * 1000000000 + tv_nsec` of `CLOCK_MONOTONIC`). A reading is
    /// never an error: a negative one counts as 0. A clock that jumps back
    /// below the moment a breaker opened restarts that open period from the
    /// new reading, so a jump delays recovery by at most one
    /// recovery_timeout_ns, never forever.
    pub now_ns: Option<unsafe extern "C" fn(user_data: *mut c_void) -> i64>,
    /// Blocks (or, for virtual time, advances the clock) for `ns` nanoseconds.
    pub sleep_ns: Option<unsafe extern "C" fn(user_data: *mut c_void, ns: u64)>,
    /// Called once with `user_data` when the owning object is freed.
    pub free_user_data: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

/// The system time source: all callbacks NULL, no user data.
#[no_mangle]
pub extern "C" fn resilience_time_source_system() -> resilience_time_source_t {
    resilience_time_source_t::SYSTEM
}

impl resilience_time_source_t {
    pub(crate) const SYSTEM: Self = Self {
        user_data: std::ptr::null_mut(),
        now_ns: None,
        sleep_ns: None,
        free_user_data: None,
    };
}

/// A time source owned by a library object; runs the finalizer on drop
/// once it owns `user_data`.
#[derive(Debug)]
pub(crate) struct OwnedClock {
    source: resilience_time_source_t,
    system: SystemClock,
    /// Whether `user_data` is ours to finalize: set when the object that
    /// holds this clock has been built, so a clock dropped by a failed build
    /// leaves `user_data` with the caller.
    owns_user_data: AtomicBool,
}

// SAFETY: the documented contract makes the caller's callbacks and
// `user_data` usable from any thread that uses the owning object.
unsafe impl Send for OwnedClock {}
// SAFETY: as above.
unsafe impl Sync for OwnedClock {}

impl OwnedClock {
    /// A clock that does not own `source.user_data` (yet): dropping it runs
    /// no finalizer until [`OwnedClock::adopt`].
    pub(crate) fn lent(source: resilience_time_source_t) -> Self {
        Self {
            source,
            system: SystemClock::new(),
            owns_user_data: AtomicBool::new(false),
        }
    }

    /// Takes ownership of `user_data`: the finalizer runs on drop.
    pub(crate) fn adopt(&self) {
        self.owns_user_data.store(true, Ordering::Release);
    }
}

impl Clock for OwnedClock {
    #[inline]
    fn now(&self) -> Duration {
        match self.source.now_ns {
            // SAFETY: the caller supplied a valid callback for this user_data.
            Some(now) => rules::clock_reading_nanos(unsafe { now(self.source.user_data) }),
            None => self.system.now(),
        }
    }
}

impl Drop for OwnedClock {
    fn drop(&mut self) {
        if !*self.owns_user_data.get_mut() {
            return;
        }
        if let Some(free) = self.source.free_user_data {
            // SAFETY: ownership of user_data was passed to us; called once.
            unsafe { free(self.source.user_data) };
        }
    }
}

/// A time source borrowed for one call: sleeps and reads the clock, never
/// runs the finalizer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BorrowedTime(pub(crate) resilience_time_source_t);

impl BorrowedTime {
    /// `time`, or the system's when NULL.
    ///
    /// # Safety
    /// `time` is NULL or valid for a read.
    pub(crate) unsafe fn from_ptr(time: *const resilience_time_source_t) -> Self {
        // SAFETY: the caller's promise.
        Self(
            unsafe { time.as_ref() }
                .copied()
                .unwrap_or(resilience_time_source_t::SYSTEM),
        )
    }
}

impl Sleeper for BorrowedTime {
    fn sleep(&self, duration: Duration) {
        match self.0.sleep_ns {
            // SAFETY: the caller supplied a valid callback for this user_data.
            Some(sleep) => unsafe { sleep(self.0.user_data, nanos(duration)) },
            None => SystemSleeper.sleep(duration),
        }
    }
}

/// A borrowed time source by reference (one word to carry through a retry
/// loop as its sleeper and its clock).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeRef<'a>(pub(crate) &'a resilience_time_source_t);

/// The all-NULL time source, for a NULL `time` argument.
pub(crate) static SYSTEM_TIME: SystemTime = SystemTime(resilience_time_source_t::SYSTEM);

/// [`resilience_time_source_t::SYSTEM`] as a static.
pub(crate) struct SystemTime(pub(crate) resilience_time_source_t);

// SAFETY: all-NULL: no callback, no user data to share.
unsafe impl Sync for SystemTime {}

impl<'a> TimeRef<'a> {
    /// `time`, or the system's when NULL.
    ///
    /// # Safety
    /// `time` is NULL or valid for reads for `'a`.
    pub(crate) unsafe fn from_ptr(time: *const resilience_time_source_t) -> Self {
        // SAFETY: the caller's promise.
        Self(unsafe { time.as_ref() }.unwrap_or(&SYSTEM_TIME.0))
    }
}

impl Sleeper for TimeRef<'_> {
    #[inline]
    fn sleep(&self, duration: Duration) {
        BorrowedTime(*self.0).sleep(duration);
    }
}

impl Clock for TimeRef<'_> {
    #[inline]
    fn now(&self) -> Duration {
        BorrowedTime(*self.0).now()
    }
}

/// The system clock of borrowed time sources: one origin for the process,
/// set on first use (so a call that never reads the clock never makes it).
static SYSTEM_ORIGIN: OnceLock<SystemClock> = OnceLock::new();

impl Clock for BorrowedTime {
    fn now(&self) -> Duration {
        match self.0.now_ns {
            // SAFETY: the caller supplied a valid callback for this user_data.
            Some(now) => rules::clock_reading_nanos(unsafe { now(self.0.user_data) }),
            None => SYSTEM_ORIGIN.get_or_init(SystemClock::new).now(),
        }
    }
}
