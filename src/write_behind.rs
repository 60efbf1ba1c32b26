//! The orchestrator isolate's write-behind counts (`telemetry::write_behind`): requests add
//! their metric increments and rate-limit counts here, and one flush, scheduled on the
//! request that found nothing scheduled (`ctx.wait_until`), writes them to D1 a moment later.
//! So the hot path makes no D1 write of its own for either (ADR 17).

use std::cell::RefCell;
use std::time::Duration;
use telemetry::metrics::Increment;
use telemetry::write_behind::{Schedule, WriteBehind, FLUSH_DELAY_MS};
use worker::{Context, D1Database, Delay, Env};

thread_local! {
    static PENDING: RefCell<WriteBehind> = RefCell::new(WriteBehind::new());
}

/// Adds a request's metric increments to `org`'s series ('' for platform-wide ones).
pub fn count_metrics(org: &str, increments: &[Increment]) {
    PENDING.with(|p| p.borrow_mut().add_metrics(org, increments));
}

/// Counts one API request in `org`'s `bucket` for the rate `window`.
pub fn count_request(org: &str, bucket: &str, window: i64) {
    PENDING.with(|p| p.borrow_mut().add_rate(org, bucket, window));
}

/// Requests this isolate counted in the window that D1 does not hold yet.
pub fn unwritten_requests(org: &str, bucket: &str, window: i64) -> i64 {
    PENDING.with(|p| p.borrow().unwritten_rate(org, bucket, window))
}

/// Arranges the write of what is waiting, if nothing else has: after the flush delay, or at
/// once when a lot is waiting. Runs after the response.
pub fn schedule(env: &Env, ctx: &Context, now_ms: i64) {
    let schedule = PENDING.with(|p| p.borrow_mut().schedule(now_ms));
    let Ok(db) = tenancy_store::db(env) else { return };
    match schedule {
        Schedule::Nothing => {}
        Schedule::Later => ctx.wait_until(async move {
            Delay::from(Duration::from_millis(FLUSH_DELAY_MS)).await;
            flush(&db).await;
        }),
        Schedule::Now => ctx.wait_until(async move { flush(&db).await }),
    }
}

/// Writes everything waiting now (`GET /metrics` does, so an admin sees this isolate's
/// latest counts). A failed write is logged and its counts dropped (ADR 17).
pub async fn flush(db: &D1Database) {
    let batch = PENDING.with(|p| p.borrow_mut().take());
    if batch.is_empty() {
        return;
    }
    let window = billing::rate_window(worker::Date::now().as_millis() as i64);
    if let Err(e) = tenancy_store::write_behind::write(db, &batch, window).await {
        worker::console_error!("counts not written: {e}");
    }
    PENDING.with(|p| p.borrow_mut().settled(&batch));
}
