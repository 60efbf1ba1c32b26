//! Reaching the Durable Object a backup is of.

use crate::error::unavailable;
use domain::ids::{chat_object_name, workspace_object_name, ChatId, OrgId};
use domain::ApiError;
use r2_layout::ObjectKind;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit, Response, Stub};

/// The object of `kind` named `object_id` in `org`. A workspace's id is its org's id; a chat id
/// that is not well formed is an unknown chat.
pub fn stub(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str) -> Result<Stub, ApiError> {
    let (binding, name) = match kind {
        ObjectKind::Chat => ("CHAT_CONTROLLER", chat_object_name(org, &ChatId::parse(object_id).ok_or(ApiError::UnknownChat)?)),
        ObjectKind::Workspace if object_id == org.as_str() => ("WORKSPACE", workspace_object_name(org)),
        ObjectKind::Workspace => return Err(ApiError::NotFound),
    };
    let ns = env.durable_object(binding).map_err(|e| unavailable("durable object", e))?;
    ns.get_by_name(&name).map_err(|e| unavailable("durable object", e))
}

/// Calls the object's internal backup interface at `path`.
pub async fn call(stub: &Stub, method: Method, path: &str, body: Option<String>) -> Result<Response, ApiError> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        init.with_body(Some(JsValue::from_str(&body)));
    }
    let req = Request::new_with_init(&format!("https://object{path}"), &init).map_err(|e| unavailable("durable object", e))?;
    stub.fetch_with_request(req).await.map_err(|e| unavailable("durable object", e))
}

/// Relays an error the object answered with (its code and message), or reports it unavailable.
pub async fn relay_error(mut res: Response) -> ApiError {
    let status = res.status_code();
    let text = res.text().await.unwrap_or_default();
    match (status, ApiError::parse_body(&text)) {
        (404, _) => ApiError::UnknownChat,
        (409, Some((code, message))) => ApiError::Conflict { code: known_code(&code), message },
        (422, Some((code, message))) => ApiError::Unprocessable { code: known_code(&code), message },
        _ => unavailable("durable object", format!("answered {status}")),
    }
}

/// The object's refusal codes, as the static strings `ApiError` carries.
fn known_code(code: &str) -> &'static str {
    match code {
        "backup_corrupt" => "backup_corrupt",
        "backup_mismatch" => "backup_mismatch",
        "chat_busy" => "chat_busy",
        _ => "backup_corrupt",
    }
}
