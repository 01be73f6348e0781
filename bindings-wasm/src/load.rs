//! Load control: the retry budget, the adaptive throttle and the GCRA rate
//! limiter. Each is built from the options in one call to core
//! (`*Config::from_values`: core's rules, core's defaults), runs on a
//! [`HeldClock`] the glue sets with each call, and answers with plain numbers.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use resilience_core::rules::{self, Unit};
use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, ConfigError, Leased, PipelineError, RateLimitError, RateLimited,
    RateLimiter, RateLimiterConfig, RetryBudget, RetryBudgetConfig, Throttled,
};
use wasm_bindgen::prelude::*;

use crate::answers::{LimiterAnswer, ThrottleAnswer};
use crate::breaker::fleet::FleetConfigCore;
use crate::config::{config_error, flat_names, to_millis};
use crate::held::HeldClock;
use crate::value::{given, real_of, value_of};

/// The value the user gave for core's `parameter` among `options`.
fn got(options: &[(&str, &JsValue)], parameter: &str) -> JsValue {
    options
        .iter()
        .find(|(name, _)| *name == parameter)
        .map_or(JsValue::UNDEFINED, |(_, v)| (*v).clone())
}

/// Rule `lease_size` (with `requires_other`: only with a store) for a
/// limiter or budget `config`, as core's `lease_size` reads it.
fn lease_size(
    fleet: Option<&FleetConfigCore>,
    lease_size: &JsValue,
    size: impl FnOnce(Option<resilience_core::Value>) -> Result<u32, ConfigError>,
) -> Result<Option<u32>, JsValue> {
    let checked = rules::lease_size_needs_store(!lease_size.is_undefined(), fleet.is_some())
        .and_then(|()| size(given(lease_size)));
    match (checked, fleet) {
        (Ok(size), Some(_)) => Ok(Some(size)),
        (Ok(_), None) => Ok(None),
        (Err(e), _) => Err(config_error(&e, flat_names, lease_size)),
    }
}

/// A retry budget on its clock, shared by every policy built with it.
#[derive(Debug)]
struct Budget {
    budget: Arc<RetryBudget>,
    clock: HeldClock,
}

/// A handle on a retry budget. `share` gives another handle on the same
/// budget: that is what a retry policy takes (and keeps) when it is built.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct BudgetCore {
    inner: Rc<Budget>,
}

#[wasm_bindgen]
impl BudgetCore {
    /// Validates with core's rules (`RetryBudgetConfig::from_values`);
    /// `undefined` options take core's defaults. With `fleet` (a store's
    /// parameters) the budget is shared, leasing `lease_size` retries at a
    /// time (rule `lease_size`; `undefined`: core's default).
    #[wasm_bindgen(constructor)]
    pub fn new(
        ttl_ms: JsValue,
        min_retries_per_sec: JsValue,
        retry_ratio: JsValue,
        fleet: Option<FleetConfigCore>,
        lease_size_given: JsValue,
    ) -> Result<BudgetCore, JsValue> {
        let config = RetryBudgetConfig::from_values(
            given(&ttl_ms),
            given(&min_retries_per_sec),
            (!retry_ratio.is_undefined()).then(|| real_of(&retry_ratio)),
            Unit::Milliseconds,
        )
        .map_err(|e| {
            let options = [
                ("ttl", &ttl_ms),
                ("min_retries_per_sec", &min_retries_per_sec),
                ("retry_ratio", &retry_ratio),
            ];
            config_error(&e, flat_names, &got(&options, e.parameter()))
        })?;
        let size = lease_size(fleet.as_ref(), &lease_size_given, |v| config.lease_size(v))?;
        let clock = HeldClock::default();
        let mut budget = RetryBudget::new(config, clock.clone());
        if let (Some(fleet), Some(size)) = (&fleet, size) {
            budget = budget
                .in_fleet(fleet.config(), Some(size))
                .map_err(|e| config_error(&e, flat_names, &lease_size_given))?;
        }
        Ok(Self {
            inner: Rc::new(Budget {
                budget: Arc::new(budget),
                clock,
            }),
        })
    }

    /// Another handle on this budget.
    pub fn share(&self) -> BudgetCore {
        self.clone()
    }

    /// How long a first attempt or a retry counts, in ms.
    pub fn ttl_ms(&self) -> f64 {
        to_millis(self.inner.budget.config().ttl())
    }

    /// Retries allowed per second whatever the traffic.
    pub fn min_retries_per_sec(&self) -> u32 {
        self.inner.budget.config().min_retries_per_sec()
    }

    /// Retries allowed per first attempt.
    pub fn retry_ratio(&self) -> f64 {
        self.inner.budget.config().retry_ratio()
    }

    /// Counts a first attempt at clock reading `now_ms`.
    pub fn deposit(&self, now_ms: f64) {
        self.inner.clock.set_ms(now_ms);
        self.inner.budget.deposit();
    }

    /// Claims one retry at `now_ms` if the budget allows it.
    pub fn try_withdraw(&self, now_ms: f64) -> bool {
        self.inner.clock.set_ms(now_ms);
        self.inner.budget.try_withdraw()
    }

    /// Retries the budget would grant at `now_ms`.
    pub fn available(&self, now_ms: f64) -> f64 {
        self.inner.clock.set_ms(now_ms);
        self.inner.budget.available() as f64
    }
}

impl BudgetCore {
    /// The core budget, for a policy's builder.
    pub(crate) fn budget(&self) -> Arc<RetryBudget> {
        Arc::clone(&self.inner.budget)
    }

    /// The budget's clock, which a policy sets before each decision.
    pub(crate) fn clock(&self) -> HeldClock {
        self.inner.clock.clone()
    }

    /// The shared budget's lease hooks and clock, for its store's sync.
    pub(crate) fn leased(&self) -> (Arc<dyn Leased>, HeldClock) {
        (self.budget() as Arc<dyn Leased>, self.clock())
    }
}

/// An adaptive throttle (Google SRE book) on a held clock.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ThrottleCore {
    throttle: AdaptiveThrottle<HeldClock>,
    last: Cell<Option<Throttled>>,
}

#[wasm_bindgen]
impl ThrottleCore {
    /// Validates with core's rules (`AdaptiveThrottleConfig::from_values`);
    /// `undefined` options take core's defaults (`seed`: from the OS).
    #[wasm_bindgen(constructor)]
    pub fn new(k: JsValue, window_ms: JsValue, seed: JsValue) -> Result<ThrottleCore, JsValue> {
        let config = AdaptiveThrottleConfig::from_values(
            (!k.is_undefined()).then(|| real_of(&k)),
            given(&window_ms),
            given(&seed),
            Unit::Milliseconds,
        )
        .map_err(|e| {
            let options = [("k", &k), ("window", &window_ms), ("seed", &seed)];
            config_error(&e, flat_names, &got(&options, e.parameter()))
        })?;
        Ok(Self {
            throttle: AdaptiveThrottle::new(config, HeldClock::default()),
            last: Cell::new(None),
        })
    }

    /// The multiplier K.
    pub fn k(&self) -> f64 {
        self.throttle.config().k()
    }

    /// The window of history, in ms.
    pub fn window_ms(&self) -> f64 {
        to_millis(self.throttle.config().window())
    }

    /// A request is about to be sent at `now_ms`: `ThrottleAnswer::Admitted`,
    /// or the suggested wait in ms of a shed request (then
    /// `last_probability` is the probability it was drawn against).
    pub fn try_admit(&self, now_ms: f64) -> f64 {
        self.throttle.clock().set_ms(now_ms);
        match self.throttle.try_admit() {
            Ok(()) => ThrottleAnswer::Admitted.as_f64(),
            Err(throttled) => {
                self.last.set(Some(throttled));
                to_millis(throttled.retry_after)
            }
        }
    }

    /// The rejection probability of the last shed request.
    pub fn last_probability(&self) -> f64 {
        self.last.get().map_or(0.0, |t| t.probability)
    }

    /// Rule `rejection_hint`: the wait in ms a retry honours after the last
    /// shed request, or NaN for none (a throttle's suggestion is never one:
    /// the retry's own backoff paces a shed request).
    pub fn rejection_hint_ms(&self) -> f64 {
        hint_ms(self.last.get().map(PipelineError::<()>::Throttled))
    }

    /// The backend answered an admitted request at `now_ms`.
    pub fn record(&self, accepted: bool, now_ms: f64) {
        self.throttle.clock().set_ms(now_ms);
        self.throttle.record(accepted);
    }

    /// `[requests, accepts, probability]` of the window at `now_ms`.
    pub fn stats(&self, now_ms: f64) -> Vec<f64> {
        self.throttle.clock().set_ms(now_ms);
        let s = self.throttle.stats();
        vec![s.requests as f64, s.accepts as f64, s.probability]
    }
}

/// A GCRA rate limiter on a held clock.
#[wasm_bindgen]
#[derive(Debug)]
pub struct LimiterCore {
    limiter: Arc<RateLimiter<HeldClock>>,
    last: Cell<Option<RateLimited>>,
}

#[wasm_bindgen]
impl LimiterCore {
    /// Validates with core's rules (`RateLimiterConfig::from_values`);
    /// `undefined` options take core's defaults. With `fleet` (a store's
    /// parameters) the limiter is shared, leasing `lease_size` cells at a
    /// time (rule `lease_size`: up to the burst; `undefined`: core's default).
    #[wasm_bindgen(constructor)]
    pub fn new(
        rate: JsValue,
        per_ms: JsValue,
        burst: JsValue,
        fleet: Option<FleetConfigCore>,
        lease_size_given: JsValue,
    ) -> Result<LimiterCore, JsValue> {
        let config = RateLimiterConfig::from_values(given(&rate), given(&per_ms), given(&burst), Unit::Milliseconds)
            .map_err(|e| {
                let options = [("rate", &rate), ("per", &per_ms), ("burst", &burst)];
                config_error(&e, flat_names, &got(&options, e.parameter()))
            })?;
        let size = lease_size(fleet.as_ref(), &lease_size_given, |v| config.lease_size(v))?;
        let mut limiter = RateLimiter::new(config, HeldClock::default());
        if let (Some(fleet), Some(size)) = (&fleet, size) {
            limiter = limiter
                .in_fleet(fleet.config(), Some(size))
                .map_err(|e| config_error(&e, flat_names, &lease_size_given))?;
        }
        Ok(Self {
            limiter: Arc::new(limiter),
            last: Cell::new(None),
        })
    }

    /// Whether the limiter is shared (created with a store).
    pub fn shared(&self) -> bool {
        self.limiter.lease_config().is_some()
    }

    /// Cells per `per`.
    pub fn rate(&self) -> u32 {
        self.limiter.config().rate()
    }

    /// The period, in ms.
    pub fn per_ms(&self) -> f64 {
        to_millis(self.limiter.config().per())
    }

    /// Cells that may be taken at once.
    pub fn burst(&self) -> u32 {
        self.limiter.config().burst()
    }

    /// One cell at `now_ms`: `LimiterAnswer::Acquired`, or the exact wait in
    /// ms until it conforms.
    pub fn try_acquire(&self, now_ms: f64) -> f64 {
        self.limiter.clock().set_ms(now_ms);
        let result = self.limiter.try_acquire();
        if let Err(RateLimitError::Limited(limited)) = result {
            self.last.set(Some(limited));
        }
        answer(result)
    }

    /// Rule `rejection_hint`: the wait in ms a retry honours after the last
    /// refusal of one cell (the limiter's exact wait), or NaN for none.
    pub fn rejection_hint_ms(&self) -> f64 {
        hint_ms(self.last.get().map(PipelineError::<()>::RateLimited))
    }

    /// `n` cells at `now_ms` (`n` through core's rule `cells`: a count from
    /// 0, else a ConfigError naming `n`): `LimiterAnswer::Acquired`,
    /// `LimiterAnswer::ExceedsBurst`, or the exact wait in ms.
    pub fn try_acquire_n(&self, n: JsValue, now_ms: f64) -> Result<f64, JsValue> {
        let cells = rules::cells(value_of(&n)).map_err(|e| config_error(&e, flat_names, &n))?;
        self.limiter.clock().set_ms(now_ms);
        Ok(answer(self.limiter.try_acquire_n(cells)))
    }
}

impl LimiterCore {
    /// The shared limiter's lease hooks and clock, for its store's sync.
    pub(crate) fn leased(&self) -> (Arc<dyn Leased>, HeldClock) {
        (
            Arc::clone(&self.limiter) as Arc<dyn Leased>,
            self.limiter.clock().clone(),
        )
    }
}

/// Rule `rejection_hint` on a library error, in ms (NaN: no hint).
fn hint_ms(error: Option<PipelineError<()>>) -> f64 {
    error.and_then(|e| e.retry_after()).map_or(f64::NAN, to_millis)
}

fn answer(result: Result<(), RateLimitError>) -> f64 {
    match result {
        Ok(()) => LimiterAnswer::Acquired.as_f64(),
        Err(RateLimitError::Limited(limited)) => to_millis(limited.retry_after),
        // ExceedsBurst, or a refusal this release does not know: never a wait.
        Err(_) => LimiterAnswer::ExceedsBurst.as_f64(),
    }
}
