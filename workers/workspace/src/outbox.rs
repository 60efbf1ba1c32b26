//! The outbox: every allowed send is recorded here, as what was sent (the outbox channel) or as
//! a send intent the webhook channel delivers (`crate::delivery`). It takes a [`SendPermit`] by
//! value, and only the send policy can make one, so nothing reaches the outbox (or any channel)
//! without a recorded decision that allowed it.

use policy::SendPermit;
use workspace::channel::Channel;
use worker::{Error, Result, SqlStorage};

/// Records the send (with the webhook channel, a send intent due for delivery now) and the
/// outbound message in the lead's history; returns the outbox id.
pub fn send(sql: &SqlStorage, permit: SendPermit, decision_id: i64, client_id: &str, content: &str, channel: &Channel) -> Result<i64> {
    let lead_id = permit.contact_id().to_owned();
    let at = permit.decided_at();
    let (url, state, next) = match channel {
        Channel::Outbox => (None, "recorded", None),
        Channel::Webhook { url } => (Some(url.clone()), "pending", Some(at)),
    };
    sql.exec(
        "INSERT INTO outbox (lead_id, decision_id, client_id, content, created_at, channel, channel_url, delivery_state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![lead_id.as_str().into(), decision_id.into(), client_id.into(), content.into(), at.into(), channel.name().into(), url.into(), state.into(), next.into()],
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
