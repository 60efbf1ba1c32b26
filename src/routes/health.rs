//! `GET /health` (the worker is alive) and `GET /ready` (its dependencies answer).

use super::json;
use domain::ApiError;
use serde_json::json;
use worker::{Env, Response};

pub fn health() -> Result<Response, ApiError> {
    json(200, &json!({ "status": "ok" }))
}

/// Checks D1, R2, the Chat Controller and Workspace namespaces and the agents binding; 503 names the first
/// dependency that failed.
pub async fn ready(env: &Env) -> Result<Response, ApiError> {
    let checks: [(&str, Result<(), String>); 5] = [
        ("d1", check_d1(env).await),
        ("r2", check_r2(env).await),
        ("chat_controller", ping_object(env, "CHAT_CONTROLLER").await),
        ("workspace", ping_object(env, "WORKSPACE").await),
        ("agents", check_agents(env).await),
    ];
    let failed: Vec<_> = checks.iter().filter_map(|(name, r)| r.as_ref().err().map(|e| json!({ "dependency": name, "reason": e }))).collect();
    let status = if failed.is_empty() { 200 } else { 503 };
    let body = if failed.is_empty() {
        json!({ "status": "ready" })
    } else {
        let first = failed[0]["dependency"].as_str().unwrap_or("unknown").to_owned();
        json!({ "status": "unavailable", "error": { "code": "unavailable", "message": format!("{first} is unavailable") }, "failed": failed })
    };
    json(status, &body)
}

async fn check_d1(env: &Env) -> Result<(), String> {
    let db = env.d1("DB").map_err(|e| e.to_string())?;
    db.prepare("SELECT 1 AS ok").first::<serde_json::Value>(None).await.map(|_| ()).map_err(|e| e.to_string())
}

async fn check_r2(env: &Env) -> Result<(), String> {
    let bucket = env.bucket("BACKUPS").map_err(|e| e.to_string())?;
    bucket.head(r2_layout::READY_PROBE_KEY).await.map(|_| ()).map_err(|e| e.to_string())
}

/// Pings an object of the namespace; `/ping` is answered before any storage is touched.
async fn ping_object(env: &Env, binding: &str) -> Result<(), String> {
    let ns = env.durable_object(binding).map_err(|e| e.to_string())?;
    let stub = ns.get_by_name("readiness-probe").map_err(|e| e.to_string())?;
    let res = stub.fetch_with_str("https://object/ping").await.map_err(|e| e.to_string())?;
    (res.status_code() == 200).then_some(()).ok_or_else(|| format!("ping answered {}", res.status_code()))
}

async fn check_agents(env: &Env) -> Result<(), String> {
    let agents = env.service("AGENTS").map_err(|e| e.to_string())?;
    let res = agents.fetch("https://agents/health", None).await.map_err(|e| e.to_string())?;
    (res.status_code() == 200).then_some(()).ok_or_else(|| format!("health answered {}", res.status_code()))
}
