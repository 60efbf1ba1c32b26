//! `POST /v1/inbound`: a messaging provider reports a contact's reply. There is no session here:
//! the request is authenticated by its signature (see the `webhooks` crate) with the worker
//! secret `INBOUND_WEBHOOK_SECRET`, and then recorded as the lead's reply in its org's workspace,
//! where an opt-out phrase opts the contact out at once.

use super::require_json;
use crate::error::unavailable;
use domain::ids::workspace_object_name;
use domain::inbound::InboundReply;
use domain::ApiError;
use wasm_bindgen::JsValue;
use worker::{Date, Env, Headers, Method, Request, RequestInit, Response};

pub async fn receive(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let secret = env.secret("INBOUND_WEBHOOK_SECRET").map(|s| s.to_string()).or_else(|_| env.var("INBOUND_WEBHOOK_SECRET").map(|v| v.to_string())).ok().filter(|s| !s.is_empty());
    let Some(secret) = secret else {
        return Err(ApiError::Unavailable { dependency: "inbound webhook secret" });
    };
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let now = (Date::now().as_millis() / 1000) as i64;
    webhooks::verify(secret.as_bytes(), header("x-parley-timestamp").as_deref(), header("x-parley-signature").as_deref(), &body, now)
        .map_err(|e| ApiError::BadSignature { code: e.code(), message: e.to_string() })?;
    require_json(&req)?;
    let reply = InboundReply::from_body(&body)?;

    let forwarded = serde_json::json!({ "client_id": reply.message_id.as_str(), "content": reply.content }).to_string();
    let headers = Headers::new();
    headers.set("x-parley-actor", "inbound-webhook").map_err(|e| unavailable("workspace", e))?;
    headers.set("Content-Type", "application/json").map_err(|e| unavailable("workspace", e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(JsValue::from_str(&forwarded)));
    let inner = Request::new_with_init(&format!("https://workspace/leads/{}/replies", reply.lead.as_str()), &init).map_err(|e| unavailable("workspace", e))?;
    let ns = env.durable_object("WORKSPACE").map_err(|e| unavailable("workspace", e))?;
    let stub = ns.get_by_name(&workspace_object_name(&reply.org)).map_err(|e| unavailable("workspace", e))?;
    stub.fetch_with_request(inner).await.map_err(|e| unavailable("workspace", e))
}
