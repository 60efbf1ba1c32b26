//! Durable metric counts (`metric_counts`), per org: increments are added in one batch of
//! upserts, written off the response path by the callers (the orchestrator's write-behind
//! flush, or a Durable Object after its work), and read back for `GET /metrics`.

use crate::{all, int, stmt, text, unavailable};
use domain::ApiError;
use serde::Deserialize;
use telemetry::metrics::{Increment, Series};
use worker::{D1Database, D1PreparedStatement};

const ADD_SQL: &str = "INSERT INTO metric_counts (org_id, name, labels, value) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (org_id, name, labels) DO UPDATE SET value = value + excluded.value";

/// The statement that adds one increment to an org's series.
pub fn add_statement(db: &D1Database, org: &str, i: &Increment) -> Result<D1PreparedStatement, ApiError> {
    stmt(db, ADD_SQL, &[text(org), text(&i.name), text(&i.labels), int(i.value)])
}

/// Adds `increments` to the org's series (`org` '' for platform-wide series), in one batch.
pub async fn add(db: &D1Database, org: &str, increments: &[Increment]) -> Result<(), ApiError> {
    let statements = increments.iter().map(|i| add_statement(db, org, i)).collect::<Result<Vec<_>, _>>()?;
    if !statements.is_empty() {
        db.batch(statements).await.map_err(unavailable)?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct Row {
    name: String,
    labels: String,
    value: i64,
}

/// Every series the org has.
pub async fn read(db: &D1Database, org: &str) -> Result<Vec<Series>, ApiError> {
    let rows: Vec<Row> = all(db, "SELECT name, labels, value FROM metric_counts WHERE org_id = ?1 ORDER BY name, labels", &[text(org)]).await?;
    Ok(rows.into_iter().map(|r| Series { name: r.name, labels: r.labels, value: r.value }).collect())
}
