//! `GET/POST /v1/secrets`, `DELETE /v1/secrets/{name}` (admins only): values go in, never out.

use super::{json, require_json};
use crate::identity::Identity;
use domain::ids::SecretName;
use domain::secret::NewSecret;
use domain::ApiError;
use serde_json::json;
use tenancy_store::secrets;
use worker::{D1Database, Env, Request, Response};

pub async fn list(db: &D1Database, who: &Identity) -> Result<Response, ApiError> {
    json(200, &json!({ "secrets": secrets::list(db, &who.org).await? }))
}

/// Creates or replaces (rotates) a secret.
pub async fn create(db: &D1Database, env: &Env, who: &Identity, mut req: Request, now_ms: i64) -> Result<Response, ApiError> {
    require_json(&req)?;
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let secret = NewSecret::from_body(&body)?;
    let keys = secrets::master_keys(env)?;
    let view = secrets::put(db, &keys, &who.org, &secret, &who.user_id, now_ms).await?;
    json(201, &view)
}

pub async fn delete(db: &D1Database, who: &Identity, name: &SecretName, now_ms: i64) -> Result<Response, ApiError> {
    secrets::delete(db, &who.org, name, &who.user_id, now_ms).await?;
    json(200, &json!({ "deleted": name.as_str() }))
}
