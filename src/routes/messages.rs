//! Routes served by a chat's Chat Controller. The object is named from the caller's org and
//! the chat id, so a chat of another org is simply an object that was never initialised:
//! the same 404 `unknown_chat` as a chat that does not exist.

use super::require_json;
use crate::error::unavailable;
use crate::identity::Identity;
use domain::ids::{chat_object_name, ChatId};
use domain::message::{NewUserMessage, MAX_BODY_BYTES};
use domain::ApiError;
use wasm_bindgen::JsValue;
use crate::observe::trace_headers;
use telemetry::TraceId;
use worker::{Env, Method, Request, RequestInit, Response, Stub};

fn stub(who: &Identity, chat: &ChatId, env: &Env) -> Result<Stub, ApiError> {
    let ns = env.durable_object("CHAT_CONTROLLER").map_err(|e| unavailable("chat_controller", e))?;
    ns.get_by_name(&chat_object_name(&who.org, chat)).map_err(|e| unavailable("chat_controller", e))
}

/// The internal URL for `path`, keeping the client's query string.
fn internal_url(req: &Request, path: &str) -> String {
    let query = runtime_support::query::raw(req);
    match query {
        Some(q) => format!("https://chat{path}?{q}"),
        None => format!("https://chat{path}"),
    }
}

/// Forwards a read to the object and relays its answer unchanged.
pub async fn forward(who: &Identity, chat: &ChatId, req: Request, env: &Env, trace: &TraceId, path: &str) -> Result<Response, ApiError> {
    let inner = Request::new_with_init(&internal_url(&req, path), RequestInit::new().with_headers(trace_headers(trace))).map_err(|e| unavailable("chat_controller", e))?;
    stub(who, chat, env)?.fetch_with_request(inner).await.map_err(|e| unavailable("chat_controller", e))
}

/// Validates the message here, so nothing malformed reaches the object, then forwards it.
pub async fn post(who: &Identity, chat: &ChatId, mut req: Request, env: &Env, trace: &TraceId) -> Result<Response, ApiError> {
    require_json(&req)?;
    if let Ok(Some(len)) = req.headers().get("Content-Length") {
        if len.parse::<usize>().is_ok_and(|n| n > MAX_BODY_BYTES) {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
    }
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let message = NewUserMessage::from_body(&body)?;
    let forwarded = serde_json::json!({ "client_id": message.client_id.as_str(), "content": message.content }).to_string();
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(trace_headers(trace)).with_body(Some(JsValue::from_str(&forwarded)));
    let inner = Request::new_with_init("https://chat/messages", &init).map_err(|e| unavailable("chat_controller", e))?;
    stub(who, chat, env)?.fetch_with_request(inner).await.map_err(|e| unavailable("chat_controller", e))
}

/// Hands the WebSocket upgrade to the object, which accepts it with the hibernation API.
pub async fn socket(who: &Identity, chat: &ChatId, req: Request, env: &Env, trace: &TraceId) -> Result<Response, ApiError> {
    let upgrade = req.headers().get("Upgrade").ok().flatten().unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return Err(ApiError::UpgradeRequired);
    }
    let url = internal_url(&req, "/ws");
    let headers = req.headers().clone();
    let _ = headers.set(telemetry::TRACE_HEADER, trace.as_str());
    let inner = Request::new_with_init(&url, RequestInit::new().with_headers(headers))
        .map_err(|e| unavailable("chat_controller", e))?;
    stub(who, chat, env)?.fetch_with_request(inner).await.map_err(|e| unavailable("chat_controller", e))
}
