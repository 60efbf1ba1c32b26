//! Helpers the worker shells share for the Workers runtime: timers, randomness, and the
//! Durable Object SQLite plumbing (the `meta` table and migrations, transactions, responses).

pub mod meta;
pub mod query;
pub mod random;
pub mod responses;
pub mod schedule;
pub mod snapshot;
pub mod trace;
pub mod transaction;
pub mod webcrypto;
pub mod zones;

use futures::future::{select, Either};
use std::time::Duration;
use worker::Delay;

/// `None` when `fut` has not finished within `limit` (raced against the runtime's timer).
pub async fn timeout<F: std::future::Future>(fut: F, limit: Duration) -> Option<F::Output> {
    let fut = std::pin::pin!(fut);
    let delay = std::pin::pin!(Delay::from(limit));
    match select(fut, delay).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    }
}

/// Sleeps on the runtime's timer.
pub async fn sleep(ms: u64) {
    if ms > 0 {
        Delay::from(Duration::from_millis(ms)).await;
    }
}

/// An alarm time as an absolute instant. (workers-rs reads a bare `i64` as an offset from now,
/// so absolute times always go through here.)
pub fn alarm_at(ms_since_epoch: i64) -> worker::ScheduledTime {
    worker::ScheduledTime::new(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms_since_epoch as f64)))
}
