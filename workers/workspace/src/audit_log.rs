//! Writing and reading the audit log. The only statements that touch the `audit` table are the
//! INSERT and SELECTs below: there is no path that updates or deletes an entry.

use serde::Deserialize;
use workspace::audit::{hash, AuditEntry, GENESIS};
use worker::{Result, SqlStorage};

/// Appends an entry chained to the last one. Call inside the transaction that makes the change.
pub fn append(sql: &SqlStorage, at: i64, actor: &str, action: &str, lead_id: Option<&str>, detail: &serde_json::Value) -> Result<()> {
    #[derive(Deserialize)]
    struct Last {
        seq: i64,
        hash: String,
    }
    let last: Vec<Last> = sql.exec("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", None)?.to_array()?;
    let (seq, prev) = last.into_iter().next().map_or((1, GENESIS.to_owned()), |l| (l.seq + 1, l.hash));
    let detail = detail.to_string();
    let h = hash(&prev, seq, at, actor, action, lead_id, &detail);
    sql.exec(
        "INSERT INTO audit (seq, at, actor, action, lead_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![seq.into(), at.into(), actor.into(), action.into(), lead_id.map(str::to_owned).into(), detail.into(), prev.into(), h.into()],
    )?;
    Ok(())
}

/// Every entry in order (the whole chain, so it can be verified).
pub fn all(sql: &SqlStorage) -> Result<Vec<AuditEntry>> {
    #[derive(Deserialize)]
    struct Row {
        seq: i64,
        at: i64,
        actor: String,
        action: String,
        lead_id: Option<String>,
        detail: String,
        prev_hash: String,
        hash: String,
    }
    let rows: Vec<Row> = sql.exec("SELECT seq, at, actor, action, lead_id, detail, prev_hash, hash FROM audit ORDER BY seq", None)?.to_array()?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry { seq: r.seq, at: r.at, actor: r.actor, action: r.action, lead_id: r.lead_id, detail: r.detail, prev_hash: r.prev_hash, hash: r.hash })
        .collect())
}
