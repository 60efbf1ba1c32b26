//! The agents worker's circuit breakers (`provider::breaker`): one for the model provider and
//! one per HTTP host (the HTTP tool's endpoints and webhook channels).
//!
//! They live in the isolate's memory. A breaker protects this isolate's callers from waiting
//! on a dependency that is failing, and each isolate learns that on its own within
//! `BREAKER_FAILURE_THRESHOLD` calls, so sharing state through storage would add a round trip
//! to every call to save a handful of failed ones; a fresh isolate starts closed, which is
//! the safe default.

use provider::breaker::{Admission, Breaker, BreakerConfig, Breakers};
use std::cell::RefCell;
use telemetry::{Level, LogLine};
use worker::{Date, Env};

thread_local! {
    static PROVIDER: RefCell<Breaker> = RefCell::new(Breaker::default());
    static HOSTS: RefCell<Breakers> = RefCell::new(Breakers::default());
}

/// Which breaker.
#[derive(Clone, Copy)]
pub enum Dependency<'a> {
    Provider,
    Host(&'a str),
}

fn with<T>(dep: Dependency<'_>, f: impl FnOnce(&mut Breaker) -> T) -> T {
    match dep {
        Dependency::Provider => PROVIDER.with(|b| f(&mut b.borrow_mut())),
        Dependency::Host(host) => HOSTS.with(|all| f(all.borrow_mut().get(host))),
    }
}

/// The breakers' settings.
pub fn config(env: &Env) -> BreakerConfig {
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    BreakerConfig::from_settings(var("BREAKER_FAILURE_THRESHOLD").as_deref(), var("BREAKER_COOL_DOWN_MS").as_deref())
}

fn now() -> i64 {
    Date::now().as_millis() as i64
}

/// Whether a call may go out; `Err(seconds)` until a probe may, when the circuit is open.
pub fn admit(config: &BreakerConfig, dep: Dependency<'_>) -> Result<(), i64> {
    match with(dep, |b| b.admit(config, now())) {
        Admission::Rejected { retry_in_ms } => Err((retry_in_ms + 999) / 1000),
        Admission::Allowed | Admission::Probe => Ok(()),
    }
}

/// Records how a call went, and logs a circuit that opens.
pub fn record(config: &BreakerConfig, dep: Dependency<'_>, ok: bool, trace: Option<&str>) {
    if ok {
        with(dep, Breaker::on_success);
        return;
    }
    let at = now();
    if with(dep, |b| b.on_failure(config, at)) {
        let host = match dep {
            Dependency::Provider => "provider",
            Dependency::Host(h) => h,
        };
        worker::console_warn!("{}", LogLine::new(at, Level::Warn, "circuit.opened").trace(trace).text("dependency", Some(host)).number("cool_down_ms", config.cool_down_ms).render());
    }
}
