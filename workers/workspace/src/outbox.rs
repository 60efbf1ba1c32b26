//! The outbox channel: records what would have been sent (the default channel for local runs).
//! It takes a [`SendPermit`] by value, and only the send policy can make one, so nothing reaches
//! the outbox without a recorded decision that allowed it.

use policy::SendPermit;
use worker::{Error, Result, SqlStorage};

/// Records the send and the outbound message in the lead's history; returns the outbox id.
pub fn send(sql: &SqlStorage, permit: SendPermit, decision_id: i64, client_id: &str, content: &str) -> Result<i64> {
    let lead_id = permit.contact_id().to_owned();
    let at = permit.decided_at();
    sql.exec(
        "INSERT INTO outbox (lead_id, decision_id, client_id, content, created_at) VALUES (?, ?, ?, ?, ?)",
        vec![lead_id.as_str().into(), decision_id.into(), client_id.into(), content.into(), at.into()],
    )?;
    sql.exec("INSERT INTO contact_events (lead_id, direction, at) VALUES (?, 'outbound', ?)", vec![lead_id.as_str().into(), at.into()])?;
    #[derive(serde::Deserialize)]
    struct Row {
        id: i64,
    }
    sql.exec("SELECT id FROM outbox WHERE client_id = ?", vec![client_id.into()])?
        .one::<Row>()
        .map(|r| r.id)
        .map_err(|e| Error::RustError(format!("outbox row missing after insert: {e}")))
}
