//! `/v1/backups`: an org admin's view of the org's backups in R2, taking one now, reading one
//! (for the restore script, which checks every checksum itself) and restoring one.

use super::{json, require_json};
use crate::backups;
use crate::identity::Identity;
use domain::ApiError;
use r2_layout::{BackupId, ObjectKind};
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

fn query(req: &Request, name: &str) -> Option<String> {
    runtime_support::query::param(req, name)
}

/// The object a request names: a kind, and an id (a workspace's is its org's).
fn object(who: &Identity, kind: Option<&str>, object_id: Option<String>) -> Result<(ObjectKind, String), ApiError> {
    let kind = kind.ok_or(ApiError::MissingField("kind"))?;
    let kind = ObjectKind::parse(kind).ok_or_else(|| ApiError::InvalidField { field: "kind", reason: "must be `chat` or `workspace`".into() })?;
    let id = match (kind, object_id) {
        (ObjectKind::Workspace, None) => who.org.as_str().to_owned(),
        (_, Some(id)) => id,
        (ObjectKind::Chat, None) => return Err(ApiError::MissingField("object_id")),
    };
    Ok((kind, id))
}

fn backup_id(key: Option<&str>) -> Result<BackupId, ApiError> {
    key.and_then(BackupId::parse).ok_or(ApiError::NotFound)
}

/// `GET /v1/backups?kind=chat&object_id=...`: the object's snapshots, oldest first.
pub async fn list(who: &Identity, req: &Request, env: &Env) -> Result<Response, ApiError> {
    let kind = query(req, "kind");
    let (kind, id) = object(who, kind.as_deref(), query(req, "object_id")).map_err(|e| match e {
        ApiError::MissingField(param) | ApiError::InvalidField { field: param, .. } => ApiError::InvalidQuery { param, reason: e.to_string() },
        other => other,
    })?;
    let snapshots = backups::list(env, &who.org, kind, &id).await?;
    json(200, &json!({ "snapshots": snapshots }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakeBody {
    kind: Option<String>,
    object_id: Option<String>,
}

/// `POST /v1/backups` `{ "kind", "object_id"? }`: a snapshot now.
pub async fn take(who: &Identity, mut req: Request, env: &Env, now_ms: i64) -> Result<Response, ApiError> {
    require_json(&req)?;
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let body: TakeBody = serde_json::from_slice(&body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let (kind, id) = object(who, body.kind.as_deref(), body.object_id)?;
    let outcome = backups::take(env, &who.org, kind, &id, now_ms).await;
    let attempt = match &outcome {
        Ok((_, digest)) => backups::Attempt::Taken { digest },
        Err(e) => backups::Attempt::Failed { code: e.code() },
    };
    let recorded = backups::record(env, &who.org, kind, &id, now_ms, attempt).await;
    let (manifest, _) = outcome?;
    recorded?;
    let id = BackupId { kind, object_id: id, taken_at_ms: now_ms };
    json(201, &json!({ "id": id.as_string(), "manifest": manifest }))
}

/// `GET /v1/backups/{backup_id}`: the manifest.
pub async fn get(who: &Identity, key: Option<&str>, env: &Env) -> Result<Response, ApiError> {
    let id = backup_id(key)?;
    match backups::read_manifest(env, &who.org, &id).await {
        Ok(manifest) => json(200, &manifest),
        Err(ApiError::Unprocessable { code: "backup_incomplete", .. }) => Err(ApiError::NotFound),
        Err(e) => Err(e),
    }
}

/// `GET /v1/backups/{backup_id}/parts?index=N`: one part's bytes, exactly as stored.
pub async fn part(who: &Identity, key: Option<&str>, req: &Request, env: &Env) -> Result<Response, ApiError> {
    let id = backup_id(key)?;
    let index = query(req, "index")
        .and_then(|i| i.parse::<u32>().ok())
        .ok_or_else(|| ApiError::InvalidQuery { param: "index", reason: "must be a part number (0, 1, ...)".into() })?;
    let bytes = backups::read_part(env, &who.org, &id, index).await?;
    let mut res = Response::from_bytes(bytes).map_err(|e| crate::error::unavailable("response encoding", e))?;
    res.headers_mut().set("Content-Type", "application/x-ndjson").map_err(|e| crate::error::unavailable("response encoding", e))?;
    Ok(res)
}

/// `POST /v1/backups/{backup_id}/restore`: verifies every part, then replaces the object's
/// data with the snapshot; refused with nothing touched if any check fails.
pub async fn restore(who: &Identity, key: Option<&str>, env: &Env) -> Result<Response, ApiError> {
    let id = backup_id(key)?;
    let (manifest, rows) = backups::restore(env, &who.org, &id).await?;
    worker::console_log!("{}", json!({ "event": "backup.restored", "org": who.org.as_str(), "kind": id.kind.as_str(), "rows": rows }));
    json(200, &json!({ "id": id.as_string(), "rows": rows, "tables": manifest.tables, "schema_version": manifest.schema_version }))
}
