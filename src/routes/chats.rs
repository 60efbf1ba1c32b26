//! Chats of the caller's org: listed from D1, created in D1 and in their Durable Object.

use super::{json, require_json};
use crate::error::unavailable;
use crate::identity::Identity;
use runtime_support::random;
use domain::chat::{ChatView, NewChat};
use domain::ids::{chat_object_name, ChatId};
use domain::ApiError;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Date, Env, Method, Request, RequestInit, Response};

/// Most chats returned by the list.
const LIST_LIMIT: u32 = 200;

pub async fn list(who: &Identity, env: &Env) -> Result<Response, ApiError> {
    let db = env.d1("DB").map_err(|e| unavailable("d1", e))?;
    let rows = db
        .prepare("SELECT id, title, created_at FROM chats WHERE org_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2")
        .bind(&[JsValue::from_str(who.org.as_str()), JsValue::from_f64(f64::from(LIST_LIMIT))])
        .map_err(|e| unavailable("d1", e))?
        .all()
        .await
        .map_err(|e| unavailable("d1", e))?;
    let chats: Vec<ChatView> = rows.results().map_err(|e| unavailable("d1", e))?;
    json(200, &json!({ "chats": chats }))
}

/// Creates the chat's Durable Object first (idempotent), then its D1 row: if the second step
/// fails, the object is unreachable (its id was never returned) and nothing is listed.
pub async fn create(who: &Identity, mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if !body.is_empty() {
        require_json(&req)?;
    }
    let new = NewChat::from_body(&body)?;
    let id = ChatId::from_random(random::bytes16().ok_or_else(|| unavailable("crypto", "no random source"))?);
    let now = Date::now().as_millis() as i64;
    let view = ChatView { id: id.as_str().to_owned(), title: new.title, created_at: now };

    let ns = env.durable_object("CHAT_CONTROLLER").map_err(|e| unavailable("chat_controller", e))?;
    let stub = ns.get_by_name(&chat_object_name(&who.org, &id)).map_err(|e| unavailable("chat_controller", e))?;
    let init_body = json!({ "org_id": who.org.as_str(), "chat_id": view.id, "title": view.title, "created_at": now });
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(JsValue::from_str(&init_body.to_string())));
    let init_req = Request::new_with_init("https://chat/init", &init).map_err(|e| unavailable("chat_controller", e))?;
    let res = stub.fetch_with_request(init_req).await.map_err(|e| unavailable("chat_controller", e))?;
    if res.status_code() != 200 {
        return Err(unavailable("chat_controller", format!("init answered {}", res.status_code())));
    }

    let db = env.d1("DB").map_err(|e| unavailable("d1", e))?;
    db.prepare("INSERT INTO chats (org_id, id, title, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(&[
            JsValue::from_str(who.org.as_str()),
            JsValue::from_str(&view.id),
            JsValue::from_str(&view.title),
            JsValue::from_str(&who.user_id),
            JsValue::from_f64(now as f64),
        ])
        .map_err(|e| unavailable("d1", e))?
        .run()
        .await
        .map_err(|e| unavailable("d1", e))?;
    json(201, &view)
}
