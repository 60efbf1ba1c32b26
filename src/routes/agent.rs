//! The agent runtime's routes: deciding a parked tool call, and the HTTP endpoints an org's
//! admins define for the `http_request` tool (stored in D1).

use super::{json, require_json};
use crate::error::unavailable;
use crate::identity::Identity;
use crate::observe::{trace_headers, Observed};
use telemetry::metrics;
use domain::endpoint::Endpoint;
use domain::ids::{chat_object_name, ChatId};
use domain::tool_steps::Decision;
use domain::ApiError;
use serde::Deserialize;
use serde_json::json;
use tenancy_store::{int, text};
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Method, Request, RequestInit, Response};

/// `POST /v1/chats/{id}/approvals/{approval}` (admins): the decision is validated here and
/// the approver's identity added, never taken from the client.
/// The decision's time is the request's (`obs.started_ms`).
pub async fn decide(db: &D1Database, who: &Identity, chat: &ChatId, approval: &str, mut req: Request, env: &Env, obs: &mut Observed) -> Result<Response, ApiError> {
    let now_ms = obs.started_ms;
    require_json(&req)?;
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let decision = Decision::from_body(&body)?;
    let forwarded = json!({ "decision": if decision.approve { "approve" } else { "deny" }, "note": decision.note, "decided_by": who.user_id });
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(trace_headers(&obs.trace)).with_body(Some(JsValue::from_str(&forwarded.to_string())));
    let inner = Request::new_with_init(&format!("https://chat/approvals/{approval}"), &init).map_err(|e| unavailable("chat_controller", e))?;
    let ns = env.durable_object("CHAT_CONTROLLER").map_err(|e| unavailable("chat_controller", e))?;
    let stub = ns.get_by_name(&chat_object_name(&who.org, chat)).map_err(|e| unavailable("chat_controller", e))?;
    let response = stub.fetch_with_request(inner).await.map_err(|e| unavailable("chat_controller", e))?;
    if response.status_code() == 200 {
        // The chat keeps the decision with the approval; the org's security log records it too.
        let action = if decision.approve { "approval.approved" } else { "approval.denied" };
        obs.extra.push(metrics::count(metrics::APPROVALS, &[("decision", if decision.approve { "approved" } else { "denied" })]));
        let target = format!("{}/{approval}", chat.as_str());
        if let Err(e) = tenancy_store::security_events::record(db, &who.org, &who.user_id, action, &target, now_ms).await {
            worker::console_error!("approval decision not recorded in security events: {e}");
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
struct EndpointRow {
    definition: String,
}

pub async fn list_endpoints(db: &D1Database, who: &Identity) -> Result<Response, ApiError> {
    let rows: Vec<EndpointRow> = tenancy_store::all(db, "SELECT definition FROM tool_endpoints WHERE org_id = ?1 ORDER BY name", &[text(who.org.as_str())]).await?;
    let endpoints: Vec<Endpoint> = rows.iter().filter_map(|r| serde_json::from_str(&r.definition).ok()).collect();
    json(200, &json!({ "endpoints": endpoints }))
}

/// Creates or replaces an endpoint.
pub async fn put_endpoint(db: &D1Database, who: &Identity, name: &str, mut req: Request, now_ms: i64) -> Result<Response, ApiError> {
    require_json(&req)?;
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let endpoint = Endpoint::from_body(name, &body)?;
    let definition = serde_json::to_string(&endpoint).map_err(|e| unavailable("json", e))?;
    tenancy_store::run(
        db,
        "INSERT INTO tool_endpoints (org_id, name, definition, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (org_id, name) DO UPDATE SET definition = excluded.definition, created_by = excluded.created_by, created_at = excluded.created_at",
        &[text(who.org.as_str()), text(name), text(&definition), text(&who.user_id), int(now_ms)],
    )
    .await?;
    json(200, &endpoint)
}

pub async fn delete_endpoint(db: &D1Database, who: &Identity, name: &str) -> Result<Response, ApiError> {
    let res = tenancy_store::stmt(db, "DELETE FROM tool_endpoints WHERE org_id = ?1 AND name = ?2", &[text(who.org.as_str()), text(name)])?
        .run()
        .await
        .map_err(tenancy_store::unavailable)?;
    if res.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) == 0 {
        return Err(ApiError::NotFound);
    }
    json(200, &json!({ "deleted": name }))
}
