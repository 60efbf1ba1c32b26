//! Org secrets in D1: AES-256-GCM under the master key (the `PARLEY_MASTER_KEY` Worker secret,
//! 32 bytes in base64), a fresh random nonce for every write, the org and name bound in as
//! associated data. Values go in and are never read back out through the API; only the Chat
//! Controller decrypts them, for the chat a grant covers. Every create, delete and use is a
//! security event, written in the same batch as the change it records.

use crate::{all, int, stmt, text, unavailable};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use domain::agent_protocol::TurnSecret;
use domain::ids::{ChatId, OrgId, SecretName};
use domain::secret::{associated_data, Grant, NewSecret, SecretView};
use domain::ApiError;
use runtime_support::{random, webcrypto};
use serde::Deserialize;
use std::collections::BTreeMap;
use worker::{D1Database, Env};

/// The master key, from the `PARLEY_MASTER_KEY` secret.
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// Reads and decodes the key; a missing or malformed key is a configuration error.
    pub fn from_env(env: &Env) -> Result<MasterKey, ApiError> {
        let raw = env.secret("PARLEY_MASTER_KEY").map(|s| s.to_string()).or_else(|_| env.var("PARLEY_MASTER_KEY").map(|v| v.to_string()));
        let bytes = raw.ok().and_then(|s| B64.decode(s.trim()).ok()).ok_or(ApiError::Misconfigured("PARLEY_MASTER_KEY"))?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| ApiError::Misconfigured("PARLEY_MASTER_KEY"))?;
        Ok(MasterKey(key))
    }
}

/// Creates or replaces a secret and its grant.
pub async fn put(db: &D1Database, key: &MasterKey, org: &OrgId, secret: &NewSecret, actor: &str, now_ms: i64) -> Result<SecretView, ApiError> {
    let nonce: [u8; 12] = random::bytes().ok_or_else(|| unavailable("no random source"))?;
    let aad = associated_data(org, &secret.name);
    let sealed = webcrypto::aes_gcm_encrypt(&key.0, &nonce, &aad, secret.value.as_bytes()).await.map_err(|e| {
        worker::console_error!("secret encryption failed: {e}");
        ApiError::Unavailable { dependency: "crypto" }
    })?;
    let (o, n) = (text(org.as_str()), text(secret.name.as_str()));
    let mut batch = vec![
        stmt(
            db,
            "INSERT INTO secrets (org_id, name, nonce, ciphertext, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (org_id, name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, created_by = excluded.created_by, created_at = excluded.created_at",
            &[o.clone(), n.clone(), text(&B64.encode(nonce)), text(&B64.encode(&sealed)), text(actor), int(now_ms)],
        )?,
        stmt(db, "DELETE FROM secret_grants WHERE org_id = ?1 AND secret_name = ?2", &[o.clone(), n.clone()])?,
    ];
    for chat in secret.grant.rows() {
        batch.push(stmt(db, "INSERT INTO secret_grants (org_id, secret_name, chat_id) VALUES (?1, ?2, ?3)", &[o.clone(), n.clone(), text(&chat)])?);
    }
    batch.push(stmt(
        db,
        "INSERT INTO security_events (org_id, actor, action, target, at) VALUES (?1, ?2, 'secret.created', ?3, ?4)",
        &[o, text(actor), n, int(now_ms)],
    )?);
    db.batch(batch).await.map_err(unavailable)?;
    Ok(SecretView { name: secret.name.as_str().to_owned(), grant: secret.grant.view(), created_by: actor.to_owned(), created_at: now_ms })
}

#[derive(Deserialize)]
struct ListRow {
    name: String,
    created_by: String,
    created_at: i64,
    chat_id: Option<String>,
}

/// The org's secrets with their grants, by name; never a value.
pub async fn list(db: &D1Database, org: &OrgId) -> Result<Vec<SecretView>, ApiError> {
    let rows: Vec<ListRow> = all(
        db,
        "SELECT s.name, s.created_by, s.created_at, g.chat_id FROM secrets s \
         LEFT JOIN secret_grants g ON g.org_id = s.org_id AND g.secret_name = s.name WHERE s.org_id = ?1 ORDER BY s.name, g.chat_id",
        &[text(org.as_str())],
    )
    .await?;
    let mut by_name: BTreeMap<String, (String, i64, Vec<String>)> = BTreeMap::new();
    for row in rows {
        let entry = by_name.entry(row.name).or_insert((row.created_by, row.created_at, Vec::new()));
        entry.2.extend(row.chat_id);
    }
    Ok(by_name
        .into_iter()
        .map(|(name, (created_by, created_at, chats))| SecretView {
            name,
            grant: Grant::from_rows(chats.iter().map(String::as_str)).view(),
            created_by,
            created_at,
        })
        .collect())
}

/// Deletes a secret and its grants; `UnknownSecret` if the org has no such secret.
pub async fn delete(db: &D1Database, org: &OrgId, name: &SecretName, actor: &str, now_ms: i64) -> Result<(), ApiError> {
    let (o, n) = (text(org.as_str()), text(name.as_str()));
    let results = db
        .batch(vec![
            stmt(db, "DELETE FROM secrets WHERE org_id = ?1 AND name = ?2", &[o.clone(), n.clone()])?,
            // Recorded only if the statement before it deleted a row (`changes()` is per statement).
            stmt(
                db,
                "INSERT INTO security_events (org_id, actor, action, target, at) SELECT ?1, ?2, 'secret.deleted', ?3, ?4 WHERE changes() > 0",
                &[o.clone(), text(actor), n.clone(), int(now_ms)],
            )?,
            stmt(db, "DELETE FROM secret_grants WHERE org_id = ?1 AND secret_name = ?2", &[o, n])?,
        ])
        .await
        .map_err(unavailable)?;
    let deleted = results.first().and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0);
    if deleted == 0 {
        return Err(ApiError::UnknownSecret);
    }
    Ok(())
}

#[derive(Deserialize)]
struct SealedRow {
    name: String,
    nonce: String,
    ciphertext: String,
}

/// Decrypts the secrets granted to `chat` (org-wide grants and grants naming the chat) and
/// records each use. A row that fails to decrypt is skipped and logged by name.
pub async fn granted_for_chat(db: &D1Database, key: &MasterKey, org: &OrgId, chat: &ChatId, actor: &str, now_ms: i64) -> Result<Vec<TurnSecret>, ApiError> {
    let rows: Vec<SealedRow> = all(
        db,
        "SELECT DISTINCT s.name, s.nonce, s.ciphertext FROM secrets s JOIN secret_grants g ON g.org_id = s.org_id AND g.secret_name = s.name \
         WHERE s.org_id = ?1 AND (g.chat_id = '' OR g.chat_id = ?2) ORDER BY s.name",
        &[text(org.as_str()), text(chat.as_str())],
    )
    .await?;
    let mut out = Vec::new();
    let mut events = Vec::new();
    for row in rows {
        let Some(name) = SecretName::parse(&row.name) else { continue };
        let (Ok(nonce), Ok(sealed)) = (B64.decode(&row.nonce), B64.decode(&row.ciphertext)) else { continue };
        let Ok(nonce) = <[u8; 12]>::try_from(nonce) else { continue };
        match webcrypto::aes_gcm_decrypt(&key.0, &nonce, &associated_data(org, &name), &sealed).await {
            Ok(plain) => match String::from_utf8(plain) {
                Ok(value) => {
                    events.push(stmt(
                        db,
                        "INSERT INTO security_events (org_id, actor, action, target, at) VALUES (?1, ?2, 'secret.used', ?3, ?4)",
                        &[text(org.as_str()), text(actor), text(name.as_str()), int(now_ms)],
                    )?);
                    out.push(TurnSecret { name: row.name, value });
                }
                Err(_) => worker::console_error!("secret {} is not UTF-8 after decryption", row.name),
            },
            Err(_) => worker::console_error!("secret {} did not decrypt (wrong master key or altered row)", row.name),
        }
    }
    if !events.is_empty() {
        db.batch(events).await.map_err(unavailable)?;
    }
    Ok(out)
}
