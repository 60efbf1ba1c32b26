//! The `schedule` table behind a Durable Object's one alarm: one row per kind of work, with
//! when it is due. The alarm runs what is due (`domain::schedule::due`) and is re-armed for the
//! earliest entry left (`domain::schedule::next_alarm`).

use domain::schedule::ScheduleEntry;
use serde::Deserialize;
use worker::{Result, SqlStorage};

/// Every entry.
pub fn all(sql: &SqlStorage) -> Result<Vec<ScheduleEntry>> {
    #[derive(Deserialize)]
    struct Row {
        kind: String,
        due_at: i64,
    }
    let rows: Vec<Row> = sql.exec("SELECT kind, due_at FROM schedule", None)?.to_array()?;
    Ok(rows.into_iter().map(|r| ScheduleEntry { kind: r.kind, due_at: r.due_at }).collect())
}

/// Schedules `kind` at `due_at`, or earlier if it is already due sooner.
pub fn set_earliest(sql: &SqlStorage, kind: &str, due_at: i64) -> Result<()> {
    sql.exec(
        "INSERT INTO schedule (kind, due_at) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET due_at = MIN(due_at, excluded.due_at)",
        vec![kind.into(), due_at.into()],
    )?;
    Ok(())
}

/// Schedules `kind` at exactly `due_at`.
pub fn set(sql: &SqlStorage, kind: &str, due_at: i64) -> Result<()> {
    sql.exec("INSERT INTO schedule (kind, due_at) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET due_at = excluded.due_at", vec![kind.into(), due_at.into()])?;
    Ok(())
}

pub fn remove(sql: &SqlStorage, kind: &str) -> Result<()> {
    sql.exec("DELETE FROM schedule WHERE kind = ?", vec![kind.into()])?;
    Ok(())
}
