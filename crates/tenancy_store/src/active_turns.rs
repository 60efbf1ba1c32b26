//! Agent turns in flight per org, for the concurrent-turns quota. The Chat Controller marks a
//! turn when it starts and clears it when it ends; a row older than [`STALE_AFTER_MS`] (a turn
//! that died with its instance) no longer counts.

use crate::{first, int, run, stmt, text};
use domain::ids::OrgId;
use domain::ApiError;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// After this long a turn's row is presumed abandoned.
pub const STALE_AFTER_MS: i64 = 15 * 60 * 1000;

/// Marks the chat's turn as running.
pub async fn begin(db: &D1Database, org: &OrgId, chat_id: &str, turn_id: &str, now_ms: i64) -> Result<(), ApiError> {
    run(
        db,
        "INSERT INTO active_turns (org_id, chat_id, turn_id, started_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (org_id, chat_id) DO UPDATE SET turn_id = excluded.turn_id, started_at = excluded.started_at",
        &[text(org.as_str()), text(chat_id), text(turn_id), int(now_ms)],
    )
    .await
}

/// The statement that clears the chat's turn (only that turn: a newer one keeps its row).
pub fn end_statement(db: &D1Database, org: &OrgId, chat_id: &str, turn_id: &str) -> Result<D1PreparedStatement, ApiError> {
    stmt(db, "DELETE FROM active_turns WHERE org_id = ?1 AND chat_id = ?2 AND turn_id = ?3", &[text(org.as_str()), text(chat_id), text(turn_id)])
}

/// Turns running in the org's other chats.
pub async fn elsewhere(db: &D1Database, org: &OrgId, chat_id: &str, now_ms: i64) -> Result<i64, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        n: i64,
    }
    let row: Option<Row> = first(
        db,
        "SELECT COUNT(*) AS n FROM active_turns WHERE org_id = ?1 AND chat_id != ?2 AND started_at > ?3",
        &[text(org.as_str()), text(chat_id), int(now_ms - STALE_AFTER_MS)],
    )
    .await?;
    Ok(row.map_or(0, |r| r.n))
}
