//! Runner for the shared limiter and budget vectors (`fleet/lease.json`,
//! kind `lease`; see tests/README.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::{FleetConfig, LeaseGrant, LeaseRequest, Leased, ManualClock, RateLimiter, RetryBudget};
use serde_json::Value;

use super::load::{answer, budget_config, limiter_config};
use super::{str_of, u64_of, value_of};

fn fleet_of(c: &Value) -> FleetConfig {
    let value = |key: &str| c.get(key).map_or(resilience_core::Value::Absent, value_of);
    FleetConfig::builder()
        .values(Unit::Milliseconds, value("sync_interval_ms"), value("sync_timeout_ms"))
        .build()
        .expect("fleet parameters")
}

fn grant_of(g: &Value) -> LeaseGrant {
    let n = |key: &str| g.get(key).and_then(Value::as_u64).unwrap_or(0);
    LeaseGrant {
        granted: u32::try_from(n("granted")).expect("fits"),
        wait: g.get("wait_ms").and_then(Value::as_u64).map(Duration::from_millis),
        available: n("available"),
        fleet_size: u32::try_from(n("fleet_size")).expect("fits"),
    }
}

fn lease_size_of(case: &Value) -> Option<u32> {
    case.get("lease_size")
        .map(|v| u32::try_from(v.as_u64().expect("a size")).expect("fits"))
}

pub(crate) fn run_lease(case: &Value, name: &str) {
    let clock = ManualClock::new();
    let fleet = fleet_of(&case["fleet"]);
    let (limiter, budget): (Option<RateLimiter<ManualClock>>, Option<RetryBudget>) = match case.get("limiter") {
        Some(c) => {
            let config = limiter_config(c).unwrap_or_else(|e| panic!("{name}: {e}"));
            let l = RateLimiter::new(config, clock.clone()).in_fleet(fleet, lease_size_of(case));
            (Some(l.unwrap_or_else(|e| panic!("{name}: {e}"))), None)
        }
        None => {
            let config = budget_config(&case["budget"]).unwrap_or_else(|e| panic!("{name}: {e}"));
            let b = RetryBudget::new(config, clock.clone()).in_fleet(fleet, lease_size_of(case));
            (None, Some(b.unwrap_or_else(|e| panic!("{name}: {e}"))))
        }
    };
    let hooks: &dyn Leased = match (&limiter, &budget) {
        (Some(l), _) => l,
        (_, Some(b)) => b,
        _ => unreachable!(),
    };
    let wakes = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&wakes);
    assert!(hooks.set_lease_waker(Box::new(move || {
        counted.fetch_add(1, Ordering::Relaxed);
    })));
    let mut sent: HashMap<String, LeaseRequest> = HashMap::new();
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}: step {i} {step}");
        match str_of(step, "op") {
            "advance" => clock.advance(Duration::from_millis(u64_of(step, "ms"))),
            "acquire" => {
                let n = rules::cells(value_of(&step["n"])).expect("a valid n");
                let l = limiter.as_ref().expect("a limiter");
                assert_eq!(answer(l.try_acquire_n(n)), step["expect"], "{at}");
            }
            "deposit" => {
                let b = budget.as_ref().expect("a budget");
                for _ in 0..step.get("times").map_or(1, |t| t.as_u64().expect("times")) {
                    b.deposit();
                }
            }
            "withdraw" => {
                let b = budget.as_ref().expect("a budget");
                for want in step["expect"].as_array().expect("expect") {
                    assert_eq!(Some(b.try_withdraw()), want.as_bool(), "{at}");
                }
            }
            "check" => {
                let b = budget.as_ref().expect("a budget");
                assert_eq!(b.available(), u64_of(step, "available"), "{at}");
            }
            "request" => {
                let r = hooks.lease_request();
                if let Some(expect) = step.get("expect") {
                    let got = serde_json::json!({ "want": r.want, "deposits": r.deposits });
                    for (key, w) in expect.as_object().expect("fields") {
                        assert_eq!(&got[key], w, "{at}: {key}");
                    }
                }
                if let Some(id) = step.get("id").and_then(Value::as_str) {
                    sent.insert(id.to_owned(), r);
                }
            }
            "apply" => {
                let r = sent.get(str_of(step, "sent")).copied().expect("a request id");
                hooks.apply_lease(&grant_of(&step["grant"]), &r);
            }
            "lost" => hooks.lease_lost(),
            "wakes" => assert_eq!(wakes.load(Ordering::Relaxed), u64_of(step, "expect"), "{at}"),
            "status" => {
                let s = hooks.lease_status().expect("shared");
                let got = serde_json::json!({
                    "live": s.live, "pool": s.pool, "lease_size": s.lease_size, "fleet_size": s.fleet_size,
                    "available": s.available, "leases": s.leases, "granted": s.granted,
                    "early_leases": s.early_leases,
                    "since_sync_ms": s.since_sync.map(|d| u64::try_from(d.as_millis()).expect("fits")),
                });
                for (key, w) in step["expect"].as_object().expect("fields") {
                    assert_eq!(&got[key], w, "{at}: {key}");
                }
            }
            other => panic!("{at}: unknown op {other}"),
        }
    }
}

/// Rules `lease_size` and `shared_name` (`fleet_rules`): the result as JSON.
pub(crate) fn lease_rule(case: &Value, name: &str) -> Result<Value, resilience_core::ConfigError> {
    match str_of(case, "rule") {
        "lease_size" => {
            let value = case.get("value").map(value_of);
            let store = case.get("store").is_none_or(|s| s.as_bool() == Some(true));
            rules::lease_size_needs_store(value.is_some(), store)?;
            let size = match str_of(case, "component") {
                "limiter" => limiter_config(&case["config"]).and_then(|c| c.lease_size(value)),
                "budget" => budget_config(&case["config"]).and_then(|c| c.lease_size(value)),
                other => panic!("{name}: unknown component {other}"),
            };
            size.map(Value::from)
        }
        "shared_name" => {
            let store = case["store"].as_bool().expect("store");
            let given = case.get("value").map(|v| match v {
                Value::String(s) => resilience_core::Value::Text(s.clone()),
                other => value_of(other),
            });
            rules::shared_name(store, given).map(|n| n.map_or(Value::Null, Value::String))
        }
        other => panic!("{name}: unknown rule {other}"),
    }
}
