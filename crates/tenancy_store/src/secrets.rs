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
use domain::master_key::{MasterKeyError, MasterKeys};
use domain::secret::{associated_data, Grant, NewSecret, SecretView};
use domain::ApiError;
use runtime_support::{random, webcrypto};
use serde::Deserialize;
use std::collections::BTreeMap;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// Reads the master keys: `PARLEY_MASTER_KEY` (32 bytes in base64; it seals every write) and,
/// during a rotation, `PARLEY_MASTER_KEY_PREVIOUS` (it only opens rows sealed before).
/// A missing or malformed key is a configuration error.
pub fn master_keys(env: &Env) -> Result<MasterKeys, ApiError> {
    let read = |name: &str| env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok().filter(|v| !v.trim().is_empty());
    let current = read("PARLEY_MASTER_KEY").and_then(|s| B64.decode(s.trim()).ok()).ok_or(ApiError::Misconfigured("PARLEY_MASTER_KEY"))?;
    let previous = match read("PARLEY_MASTER_KEY_PREVIOUS") {
        Some(s) => Some(B64.decode(s.trim()).map_err(|_| ApiError::Misconfigured("PARLEY_MASTER_KEY_PREVIOUS"))?),
        None => None,
    };
    MasterKeys::new(&current, previous.as_deref()).map_err(|e| match e {
        MasterKeyError::WrongLength(name) => ApiError::Misconfigured(name),
        MasterKeyError::PreviousIsCurrent => ApiError::Misconfigured("PARLEY_MASTER_KEY_PREVIOUS"),
    })
}

/// Seals `value` under the current key with a fresh nonce: `(nonce, ciphertext)` in base64.
async fn seal(keys: &MasterKeys, org: &OrgId, name: &SecretName, value: &[u8]) -> Result<(String, String), ApiError> {
    let nonce: [u8; 12] = random::bytes().ok_or_else(|| unavailable("no random source"))?;
    let sealed = webcrypto::aes_gcm_encrypt(keys.current().bytes(), &nonce, &associated_data(org, name), value).await.map_err(|e| {
        worker::console_error!("secret encryption failed: {e}");
        ApiError::Unavailable { dependency: "crypto" }
    })?;
    Ok((B64.encode(nonce), B64.encode(&sealed)))
}

/// Opens a stored row with the key it names (or, for a row without one, the current key and
/// then the previous); `None` if no configured key opens it or the row is malformed.
async fn open(keys: &MasterKeys, org: &OrgId, name: &SecretName, row: &SealedRow) -> Option<Vec<u8>> {
    let nonce = <[u8; 12]>::try_from(B64.decode(&row.nonce).ok()?).ok()?;
    let sealed = B64.decode(&row.ciphertext).ok()?;
    for key in keys.candidates(row.key_id.as_deref()) {
        if let Ok(plain) = webcrypto::aes_gcm_decrypt(key.bytes(), &nonce, &associated_data(org, name), &sealed).await {
            return Some(plain);
        }
    }
    None
}

/// Creates or replaces a secret and its grant.
pub async fn put(db: &D1Database, keys: &MasterKeys, org: &OrgId, secret: &NewSecret, actor: &str, now_ms: i64) -> Result<SecretView, ApiError> {
    let (nonce, sealed) = seal(keys, org, &secret.name, secret.value.as_bytes()).await?;
    let (o, n) = (text(org.as_str()), text(secret.name.as_str()));
    let mut batch = vec![
        stmt(
            db,
            "INSERT INTO secrets (org_id, name, nonce, ciphertext, key_id, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (org_id, name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, key_id = excluded.key_id, \
             created_by = excluded.created_by, created_at = excluded.created_at",
            &[o.clone(), n.clone(), text(&nonce), text(&sealed), text(keys.current().id()), text(actor), int(now_ms)],
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
    key_id: Option<String>,
}

/// Decrypts the secrets granted to `chat` (org-wide grants and grants naming the chat) and
/// records each use. A row that fails to decrypt is skipped and logged by name.
pub async fn granted_for_chat(db: &D1Database, keys: &MasterKeys, org: &OrgId, chat: &ChatId, actor: &str, now_ms: i64) -> Result<Vec<TurnSecret>, ApiError> {
    let rows: Vec<SealedRow> = all(
        db,
        "SELECT DISTINCT s.name, s.nonce, s.ciphertext, s.key_id FROM secrets s JOIN secret_grants g ON g.org_id = s.org_id AND g.secret_name = s.name \
         WHERE s.org_id = ?1 AND (g.chat_id = '' OR g.chat_id = ?2) ORDER BY s.name",
        &[text(org.as_str()), text(chat.as_str())],
    )
    .await?;
    let mut out = Vec::new();
    let mut events = Vec::new();
    for row in rows {
        let Some(name) = SecretName::parse(&row.name) else { continue };
        match open(keys, org, &name, &row).await {
            Some(plain) => match String::from_utf8(plain) {
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
            None => worker::console_error!("secret {} did not decrypt (its master key is not configured, or the row was altered)", row.name),
        }
    }
    if !events.is_empty() {
        db.batch(events).await.map_err(unavailable)?;
    }
    Ok(out)
}

/// What one reseal pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reseal {
    /// Rows moved to the current key.
    pub resealed: u32,
    /// Rows examined that no configured key opens (altered, or sealed under a key that is gone).
    pub unopened: u32,
    /// Rows left that are not sealed under the current key, after the pass.
    pub remaining: i64,
}

#[derive(Deserialize)]
struct ResealRow {
    org_id: String,
    name: String,
    nonce: String,
    ciphertext: String,
    key_id: Option<String>,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// Seals again under the current key up to `limit` rows sealed under the previous key or
/// before key ids were recorded (ADR 19), run by the cron. Each row is replaced only if it is
/// unchanged since it was read (its nonce), so a secret written meanwhile is never overwritten,
/// and each replacement is a `secret.resealed` security event in the same batch.
pub async fn reseal(db: &D1Database, keys: &MasterKeys, limit: u32, now_ms: i64) -> Result<Reseal, ApiError> {
    let current = text(keys.current().id());
    let previous = keys.reseal_source().map_or(JsValue::NULL, text);
    let rows: Vec<ResealRow> = all(
        db,
        "SELECT org_id, name, nonce, ciphertext, key_id FROM secrets WHERE key_id IS NULL OR key_id = ?1 ORDER BY org_id, name LIMIT ?2",
        &[previous, int(i64::from(limit))],
    )
    .await?;
    let mut report = Reseal::default();
    let mut batch = Vec::new();
    for ResealRow { org_id, name, nonce, ciphertext, key_id } in rows {
        let row = SealedRow { name, nonce, ciphertext, key_id };
        let (Some(org), Some(name)) = (OrgId::parse(&org_id), SecretName::parse(&row.name)) else {
            report.unopened += 1;
            continue;
        };
        let Some(plain) = open(keys, &org, &name, &row).await else {
            report.unopened += 1;
            worker::console_error!("secret {} of {} did not decrypt for resealing", name.as_str(), org.as_str());
            continue;
        };
        let (nonce, sealed) = seal(keys, &org, &name, &plain).await?;
        let (o, n) = (text(org.as_str()), text(name.as_str()));
        batch.push(stmt(
            db,
            "UPDATE secrets SET nonce = ?1, ciphertext = ?2, key_id = ?3 WHERE org_id = ?4 AND name = ?5 AND nonce = ?6",
            &[text(&nonce), text(&sealed), current.clone(), o.clone(), n.clone(), text(&row.nonce)],
        )?);
        // Recorded only if the update before it changed the row (`changes()` is per statement).
        batch.push(stmt(
            db,
            "INSERT INTO security_events (org_id, actor, action, target, at) SELECT ?1, 'system:key-rotation', 'secret.resealed', ?2, ?3 WHERE changes() > 0",
            &[o, n, int(now_ms)],
        )?);
    }
    if !batch.is_empty() {
        let results = db.batch(batch).await.map_err(unavailable)?;
        let changed = |r: &worker::D1Result| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0);
        report.resealed = results.iter().step_by(2).filter(|r| changed(r) > 0).count() as u32;
    }
    let left: Option<Count> = crate::first(db, "SELECT COUNT(*) AS n FROM secrets WHERE key_id IS NULL OR key_id != ?1", &[current]).await?;
    report.remaining = left.map_or(0, |c| c.n);
    Ok(report)
}
