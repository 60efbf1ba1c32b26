//! Security-relevant events (secret created, deleted, used; admin routes refused): append-only,
//! never with a secret's value.

use crate::{int, run, text};
use domain::ids::OrgId;
use domain::ApiError;
use worker::D1Database;

/// Appends one event.
pub async fn record(db: &D1Database, org: &OrgId, actor: &str, action: &str, target: &str, now_ms: i64) -> Result<(), ApiError> {
    run(
        db,
        "INSERT INTO security_events (org_id, actor, action, target, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[text(org.as_str()), text(actor), text(action), text(target), int(now_ms)],
    )
    .await
}
