//! Single-use WebSocket tickets. Browsers cannot put a session token on a WebSocket upgrade,
//! so the app asks for a ticket over the authenticated API (`POST /v1/chats/{id}/ws-ticket`)
//! and connects with `?ticket=`. A ticket names its org, user and chat, lives 60 seconds, is
//! stored only as a SHA-256, and is deleted by the statement that redeems it, so it works once.

use super::json;
use crate::error::unavailable;
use crate::identity::Identity;
use auth::{looks_like_ticket, ticket_from_bytes, ticket_hash, Role, TICKET_TTL_MS};
use domain::ids::{ChatId, OrgId};
use domain::ApiError;
use runtime_support::random;
use serde::Deserialize;
use serde_json::json;
use tenancy_store::{int, text};
use worker::{D1Database, Response};

/// Issues a ticket for a chat of the caller's org (404 for any other chat).
pub async fn issue(db: &D1Database, who: &Identity, chat: &ChatId, now_ms: i64) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        #[allow(dead_code)]
        id: String,
    }
    let exists: Option<Row> = tenancy_store::first(db, "SELECT id FROM chats WHERE org_id = ?1 AND id = ?2", &[text(who.org.as_str()), text(chat.as_str())]).await?;
    if exists.is_none() {
        return Err(ApiError::UnknownChat);
    }
    let bytes: [u8; 32] = random::bytes().ok_or_else(|| unavailable("crypto", "no random source"))?;
    let ticket = ticket_from_bytes(&bytes);
    let expires_at = now_ms + TICKET_TTL_MS;
    tenancy_store::run(
        db,
        // Expired tickets are swept as new ones are issued, so the table stays small.
        "INSERT INTO ws_tickets (ticket_hash, org_id, user_id, chat_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[text(&ticket_hash(&ticket)), text(who.org.as_str()), text(&who.user_id), text(chat.as_str()), int(expires_at)],
    )
    .await?;
    tenancy_store::run(db, "DELETE FROM ws_tickets WHERE expires_at <= ?1", &[int(now_ms)]).await?;
    json(201, &json!({ "ticket": ticket, "expires_at": expires_at }))
}

/// Redeems a ticket for `chat`: the identity it was issued to, or a refusal. The ticket is
/// spent whatever the outcome.
pub async fn redeem(db: &D1Database, ticket: &str, chat: &ChatId, now_ms: i64) -> Result<Identity, ApiError> {
    let refused = || ApiError::AuthRefused { code: "ticket_invalid", message: "the WebSocket ticket is unknown, used or expired".into() };
    if !looks_like_ticket(ticket) {
        return Err(refused());
    }
    #[derive(Deserialize)]
    struct Row {
        org_id: String,
        user_id: String,
        chat_id: String,
        expires_at: i64,
    }
    let row: Option<Row> = tenancy_store::first(
        db,
        "DELETE FROM ws_tickets WHERE ticket_hash = ?1 RETURNING org_id, user_id, chat_id, expires_at",
        &[text(&ticket_hash(ticket))],
    )
    .await?;
    let row = row.filter(|r| r.expires_at > now_ms).ok_or_else(refused)?;
    if row.chat_id != chat.as_str() {
        return Err(refused());
    }
    let org = OrgId::parse(&row.org_id).ok_or_else(refused)?;
    // A socket only listens; the role is irrelevant to it, so the least one is given.
    Ok(Identity { org, user_id: row.user_id, role: Role::Member })
}
