//! What a turn leaves in D1 when it ends or parks, written in one batch: its metric
//! increments, what it used (added to the usage period it started in), and, unless it is
//! parked waiting for a person, the end of its in-flight mark. One round trip instead of one
//! per table, and all of it or none.

use crate::{active_turns, metrics, unavailable, usage};
use billing::Period;
use domain::ids::OrgId;
use domain::ApiError;
use telemetry::metrics::Increment;
use worker::D1Database;

/// A turn's record, for [`write`].
pub struct TurnRecord<'a> {
    pub chat_id: &'a str,
    pub turn_id: &'a str,
    /// The usage period the turn started in (from `budget::spend`).
    pub period: Period,
    pub used: usage::Increment,
    pub metrics: &'a [Increment],
    /// A parked turn still counts as in flight for the concurrent-turns quota.
    pub parked: bool,
}

/// Writes `record` for the org in one batch.
pub async fn write(db: &D1Database, org: &OrgId, record: &TurnRecord<'_>) -> Result<(), ApiError> {
    let mut statements = record.metrics.iter().map(|i| metrics::add_statement(db, org.as_str(), i)).collect::<Result<Vec<_>, _>>()?;
    statements.push(usage::add_statement(db, org, &record.period, record.used)?);
    if !record.parked {
        statements.push(active_turns::end_statement(db, org, record.chat_id, record.turn_id)?);
    }
    db.batch(statements).await.map_err(unavailable)?;
    Ok(())
}
