//! Routes served by the org's Workspace object: leads, sends and the policy settings. The
//! object is named from the caller's org, so another org's leads are simply not there: the same
//! 404 `unknown_lead` as a lead that does not exist.

use super::require_type;
use crate::error::unavailable;
use crate::identity::Identity;
use domain::ids::workspace_object_name;
use domain::message::{MAX_BODY_BYTES, MAX_IMPORT_BYTES};
use domain::ApiError;
use wasm_bindgen::JsValue;
use crate::observe::{trace_headers, Observed};
use telemetry::metrics::{self, POLICY_HEADER};
use worker::{Env, Method, Request, RequestInit, Response};

/// Forwards the request to the workspace at `path`, with its body for writes. Bodies are
/// validated by the workspace, which holds the time-zone database.
pub async fn forward(who: &Identity, mut req: Request, env: &Env, path: &str, body_type: &'static str, obs: &mut Observed) -> Result<Response, ApiError> {
    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone());
    // Who is acting, for the audit log: from the authenticated identity, never from the client.
    let headers = trace_headers(&obs.trace);
    headers.set("x-parley-actor", &who.user_id).map_err(|e| unavailable("workspace", e))?;
    init.with_headers(headers);
    let has_body = req.headers().get("Content-Length").ok().flatten().is_some_and(|l| l != "0") || req.headers().get("Content-Type").ok().flatten().is_some();
    if matches!(method, Method::Post | Method::Put | Method::Patch) && has_body {
        require_type(&req, body_type)?;
        let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        // Knowledge documents and CSV imports are larger than any other body.
        let limit = if body_type == "text/csv" || path.starts_with("/knowledge") { MAX_IMPORT_BYTES } else { MAX_BODY_BYTES };
        if body.len() > limit {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit });
        }
        init.with_body(Some(JsValue::from(js_sys::Uint8Array::from(body.as_slice()))));
    }
    let query = runtime_support::query::raw(&req).map(|q| format!("?{q}")).unwrap_or_default();
    let inner = Request::new_with_init(&format!("https://workspace{path}{query}"), &init).map_err(|e| unavailable("workspace", e))?;
    let ns = env.durable_object("WORKSPACE").map_err(|e| unavailable("workspace", e))?;
    let stub = ns.get_by_name(&workspace_object_name(&who.org)).map_err(|e| unavailable("workspace", e))?;
    let response = stub.fetch_with_request(inner).await.map_err(|e| unavailable("workspace", e))?;
    // A send's decision comes back in `x-parley-policy: {verdict} {first reason}`.
    if let Some(decision) = response.headers().get(POLICY_HEADER).ok().flatten() {
        let cut = decision.bytes().position(|b| b == b' ').unwrap_or(decision.len());
        let (verdict, reason) = (&decision[..cut], decision.get(cut + 1..).unwrap_or("none"));
        // The Workspace is ours and label values are escaped, so the values are used as they are.
        obs.extra.push(metrics::count(metrics::POLICY_DECISIONS, &[("verdict", verdict), ("reason", reason)]));
    }
    Ok(response)
}
