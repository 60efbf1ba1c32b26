//! Writes an isolate's batched counts (`telemetry::write_behind::Flush`): metric series and
//! API rate windows, with the touched orgs' finished windows pruned, in D1 batches.

use crate::rate::{ADD_API_REQUESTS_SQL, PRUNE_API_WINDOWS_SQL};
use crate::{int, stmt, text, unavailable};
use domain::ApiError;
use telemetry::write_behind::Flush;
use worker::D1Database;

/// Statements per D1 batch: a flush of many series is written in several.
const BATCH: usize = 100;

/// Writes `flush`. `current_window` is the rate window now: older API windows are deleted.
pub async fn write(db: &D1Database, flush: &Flush, current_window: i64) -> Result<(), ApiError> {
    let mut statements = Vec::with_capacity(flush.metrics.len() + flush.rates.len() * 2);
    for (org, i) in &flush.metrics {
        statements.push(crate::metrics::add_statement(db, org, i)?);
    }
    for r in &flush.rates {
        statements.push(stmt(db, ADD_API_REQUESTS_SQL, &[text(&r.org), text(&r.bucket), int(r.window), int(r.count)])?);
    }
    for org in flush.rate_orgs() {
        statements.push(stmt(db, PRUNE_API_WINDOWS_SQL, &[text(org), int(current_window - 1)])?);
    }
    while !statements.is_empty() {
        let rest = statements.split_off(statements.len().min(BATCH));
        db.batch(statements).await.map_err(unavailable)?;
        statements = rest;
    }
    Ok(())
}
