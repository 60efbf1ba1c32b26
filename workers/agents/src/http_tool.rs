//! The agent's HTTP tool: one call to an org's endpoint. Every URL, the first and each
//! redirect hop (followed by hand, at most three), passes the egress guard (`crates/egress`)
//! before a byte is sent; bodies are capped and the call times out.

use crate::breakers::{self, Dependency};
use egress::{EgressPolicy, RedirectChain, Refusal, Target};
use futures::StreamExt;
use runtime_support::timeout;
use std::time::Duration;
use worker::*;

/// How an HTTP tool call ended.
pub enum HttpResult {
    /// The egress guard refused it (before sending, or at a redirect hop).
    Refused(Refusal),
    /// It could not complete (network error, timeout, a broken body).
    Failed(String),
    /// The endpoint answered.
    Answered { status: u16, body: String, final_url: String },
}

/// The egress policy for an endpoint's allowlist. Plain http to loopback endpoints is for
/// local development and tests only (`EGRESS_ALLOW_LOOPBACK_HTTP=local-only`).
pub fn policy(env: &Env, allowed_hosts: Vec<String>) -> EgressPolicy {
    let loopback = env.var("EGRESS_ALLOW_LOOPBACK_HTTP").map(|v| v.to_string() == "local-only").unwrap_or(false);
    EgressPolicy { allowed_hosts, allow_loopback_http: loopback, ..Default::default() }
}

/// Makes one call, every hop checked by the egress guard, through the host's circuit breaker:
/// while the host's circuit is open the call fails at once. A network failure, a timeout or a
/// 5xx counts against the host; any other answer closes its circuit.
pub async fn perform(env: &Env, trace: Option<&str>, policy: &EgressPolicy, method: &str, url: &str, headers: &[(String, String)], body: Option<&str>) -> HttpResult {
    if let Err(r) = egress::check_request_body(policy, body.map_or(0, str::len)) {
        return HttpResult::Refused(r);
    }
    let target = match egress::check(policy, url) {
        Ok(t) => t,
        Err(r) => return HttpResult::Refused(r),
    };
    let (config, host) = (breakers::config(env), target.origin());
    if let Err(secs) = breakers::admit(&config, Dependency::Host(&host)) {
        return HttpResult::Failed(format!("{host} is failing; its circuit is open, retry in {secs} s"));
    }
    let result = follow(policy, target, method, headers, body).await;
    let ok = !matches!(result, HttpResult::Failed(_) | HttpResult::Answered { status: 500..=599, .. });
    if !matches!(result, HttpResult::Refused(_)) {
        breakers::record(&config, Dependency::Host(&host), ok, trace);
    }
    result
}

/// Sends the call and follows redirects by hand.
async fn follow(policy: &EgressPolicy, mut target: Target, method: &str, headers: &[(String, String)], body: Option<&str>) -> HttpResult {
    let mut chain = RedirectChain::new();
    let (mut method, mut body) = (method.to_ascii_uppercase(), body.map(str::to_owned));
    let limit = Duration::from_millis(policy.timeout_ms);
    loop {
        let response = match timeout(send(&target, &method, headers, body.as_deref()), limit).await {
            Some(Ok(r)) => r,
            Some(Err(e)) => return HttpResult::Failed(e.to_string()),
            None => return HttpResult::Failed(format!("no answer within {} ms", policy.timeout_ms)),
        };
        let status = response.status_code();
        if (300..400).contains(&status) {
            if let Some(location) = response.headers().get("Location").ok().flatten() {
                target = match egress::next_hop(policy, &mut chain, &target, &location) {
                    Ok(next) => next,
                    Err(r) => return HttpResult::Refused(r),
                };
                // As browsers do: 303, and 301/302 after anything but GET/HEAD, continue as a GET.
                if status == 303 || (matches!(status, 301 | 302) && !matches!(method.as_str(), "GET" | "HEAD")) {
                    method = "GET".into();
                    body = None;
                }
                continue;
            }
        }
        return finish(response, &target, policy, limit).await;
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

/// Reads the body up to the cap.
async fn finish(mut response: Response, target: &Target, policy: &EgressPolicy, limit: Duration) -> HttpResult {
    let status = response.status_code();
    let mut bytes: Vec<u8> = Vec::new();
    if let Ok(mut stream) = response.stream() {
        loop {
            match timeout(stream.next(), limit).await {
                Some(Some(Ok(chunk))) => {
                    bytes.extend_from_slice(&chunk);
                    if let Err(r) = egress::check_response_size(policy, bytes.len()) {
                        return HttpResult::Refused(r);
                    }
                }
                Some(None) => break,
                Some(Some(Err(e))) => return HttpResult::Failed(e.to_string()),
                None => return HttpResult::Failed("the response stalled".into()),
            }
        }
    }
    HttpResult::Answered { status, body: String::from_utf8_lossy(&bytes).into_owned(), final_url: target.url() }
}
