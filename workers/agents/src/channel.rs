//! `POST /v1/channel/deliver`: delivers one send intent for a Workspace's webhook channel. All
//! of Parley's calls to third parties leave through this worker, where the egress guard lives:
//! the URL is checked (no private or internal addresses; plain http only to loopback in local
//! development), the body signed (`x-parley-timestamp`, `x-parley-signature: v1=<hex HMAC-SHA256
//! of "{timestamp}.{body}">` keyed with `OUTBOUND_WEBHOOK_SECRET`) and sent with its
//! `Idempotency-Key`, with no redirects followed and a timeout.

use crate::http_tool::{self, HttpResult};
use serde::Deserialize;
use serde_json::json;
use worker::*;

#[derive(Deserialize)]
struct Delivery {
    url: String,
    idempotency_key: String,
    body: String,
}

pub async fn deliver(mut req: Request, env: &Env) -> Result<Response> {
    let d: Delivery = match req.json().await {
        Ok(d) => d,
        Err(e) => return Response::from_json(&json!({ "ok": false, "error": format!("malformed request: {e}") })),
    };
    let Some(secret) = env.secret("OUTBOUND_WEBHOOK_SECRET").ok().map(|s| s.to_string()).or_else(|| env.var("OUTBOUND_WEBHOOK_SECRET").ok().map(|v| v.to_string())) else {
        return Response::from_json(&json!({ "ok": false, "error": "OUTBOUND_WEBHOOK_SECRET is not set" }));
    };
    // The channel's own host is its allowlist: the guard still refuses private, internal and
    // metadata addresses, and plain http.
    let host = match egress::Target::parse(&d.url) {
        Ok(t) => t.origin().split("://").nth(1).unwrap_or_default().to_owned(),
        Err(r) => return Response::from_json(&json!({ "ok": false, "error": format!("refused: {r}") })),
    };
    let mut policy = http_tool::policy(env, vec![host]);
    policy.max_redirects = 0;
    let ts = (Date::now().as_millis() / 1000) as i64;
    let headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Idempotency-Key".to_owned(), d.idempotency_key.clone()),
        ("x-parley-timestamp".to_owned(), ts.to_string()),
        ("x-parley-signature".to_owned(), webhooks::sign(secret.as_bytes(), ts, d.body.as_bytes())),
    ];
    let result = match http_tool::perform(env, runtime_support::trace::of(&req).as_deref(), &policy, "POST", &d.url, &headers, Some(&d.body)).await {
        HttpResult::Answered { status, .. } if (200..300).contains(&status) => json!({ "ok": true, "status": status }),
        HttpResult::Answered { status, .. } => json!({ "ok": false, "status": status, "error": format!("the channel answered {status}") }),
        HttpResult::Refused(r) => json!({ "ok": false, "error": format!("refused: {r}") }),
        HttpResult::Failed(e) => json!({ "ok": false, "error": e }),
    };
    Response::from_json(&result)
}
