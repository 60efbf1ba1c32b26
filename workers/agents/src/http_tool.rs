//! `POST /v1/tools/http`: the agent's HTTP tool makes one call for a Chat Controller. Every
//! URL, the first and each redirect hop (followed by hand, at most three), passes the egress
//! guard (`crates/egress`) before a byte is sent; bodies are capped and the call times out.
//! A refusal is an answer (`refused` names the reason), not an error.

use egress::{EgressPolicy, RedirectChain, Refusal, Target};
use futures::StreamExt;
use runtime_support::timeout;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use worker::*;

#[derive(Deserialize)]
struct HttpCall {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    allowed_hosts: Vec<String>,
}

fn refused(r: &Refusal) -> Result<Response> {
    Response::from_json(&json!({ "refused": { "code": r.code(), "message": r.to_string() } }))
}

fn policy(env: &Env, allowed_hosts: Vec<String>) -> EgressPolicy {
    // Plain http to loopback endpoints is for local development and tests only.
    let loopback = env.var("EGRESS_ALLOW_LOOPBACK_HTTP").map(|v| v.to_string() == "local-only").unwrap_or(false);
    EgressPolicy { allowed_hosts, allow_loopback_http: loopback, ..Default::default() }
}

pub async fn run(mut req: Request, env: &Env) -> Result<Response> {
    let call: HttpCall = match req.json().await {
        Ok(c) => c,
        Err(e) => return Response::from_json(&json!({ "error": { "code": "malformed_json", "message": e.to_string() } })).map(|r| r.with_status(400)),
    };
    let policy = policy(env, call.allowed_hosts.clone());
    if let Err(r) = egress::check_request_body(&policy, call.body.as_ref().map_or(0, String::len)) {
        return refused(&r);
    }
    let mut target = match egress::check(&policy, &call.url) {
        Ok(t) => t,
        Err(r) => return refused(&r),
    };
    let mut chain = RedirectChain::new();
    let (mut method, mut body) = (call.method.to_ascii_uppercase(), call.body.clone());
    let limit = Duration::from_millis(policy.timeout_ms);
    loop {
        let response = match timeout(send(&target, &method, &call.headers, body.as_deref()), limit).await {
            Some(Ok(r)) => r,
            Some(Err(e)) => return Response::from_json(&json!({ "error": { "code": "request_failed", "message": e.to_string() } })),
            None => return Response::from_json(&json!({ "error": { "code": "timeout", "message": format!("no answer within {} ms", policy.timeout_ms) } })),
        };
        let status = response.status_code();
        if (300..400).contains(&status) {
            let Some(location) = response.headers().get("Location").ok().flatten() else {
                return finish(response, &target, &policy, limit).await;
            };
            target = match egress::next_hop(&policy, &mut chain, &target, &location) {
                Ok(next) => next,
                Err(r) => return refused(&r),
            };
            // As browsers do: 303, and 301/302 after anything but GET/HEAD, continue as a GET.
            if status == 303 || (matches!(status, 301 | 302) && !matches!(method.as_str(), "GET" | "HEAD")) {
                method = "GET".into();
                body = None;
            }
            continue;
        }
        return finish(response, &target, &policy, limit).await;
    }
}

async fn send(target: &Target, method: &str, headers: &[(String, String)], body: Option<&str>) -> Result<Response> {
    let h = Headers::new();
    for (k, v) in headers {
        h.set(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(method.to_owned())).with_headers(h).with_redirect(RequestRedirect::Manual);
    if let Some(b) = body {
        init.with_body(Some(b.into()));
    }
    Fetch::Request(Request::new_with_init(&target.url(), &init)?).send().await
}

/// Reads the body up to the cap and answers with status, content type and text.
async fn finish(mut response: Response, target: &Target, policy: &EgressPolicy, limit: Duration) -> Result<Response> {
    let status = response.status_code();
    let content_type = response.headers().get("Content-Type").ok().flatten();
    let mut bytes: Vec<u8> = Vec::new();
    if let Ok(mut stream) = response.stream() {
        loop {
            match timeout(stream.next(), limit).await {
                Some(Some(Ok(chunk))) => {
                    bytes.extend_from_slice(&chunk);
                    if let Err(r) = egress::check_response_size(policy, bytes.len()) {
                        return refused(&r);
                    }
                }
                Some(None) => break,
                Some(Some(Err(e))) => return Response::from_json(&json!({ "error": { "code": "read_failed", "message": e.to_string() } })),
                None => return Response::from_json(&json!({ "error": { "code": "timeout", "message": "the response stalled" } })),
            }
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Response::from_json(&json!({ "status": status, "content_type": content_type, "final_url": target.url(), "body": text, "refused": Value::Null }))
}
