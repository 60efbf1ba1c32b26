//! `POST /v1/tools/plan` and `POST /v1/tools/run`: the agent's tool calls, for a Chat
//! Controller. Planning validates the arguments (`tools::parse_call`), renders an HTTP call
//! and checks it against the egress guard, and says whether it may run now or needs a person.
//! Running carries it out: meeting slots (pure, with the runtime's time zones), knowledge
//! search and drafts (the org's Workspace object), and HTTP calls (guarded on every hop).

use crate::http_tool::{self, HttpResult};
use domain::context::KnowledgeSnippet;
use domain::endpoint::{render, RenderedCall};
use domain::ids::{workspace_object_name, OrgId};
use domain::tool_protocol::{Artifact, ToolInvocation, ToolOutcome, ToolPlan};
use runtime_support::zones::IntlZones;
use serde_json::{json, Value};
use telemetry::{Level, LogLine};
use std::collections::BTreeMap;
use tools::ToolCall;
use worker::*;

/// The most of a tool's result the model reads.
const MODEL_VIEW_BYTES: usize = 4 * 1024;
/// The most of an HTTP response kept as an artifact.
const ARTIFACT_BYTES: usize = 64 * 1024;

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes in all]", &text[..end], text.len())
}

fn outcome(ok: bool, result: impl Into<String>, summary: impl Into<String>) -> ToolOutcome {
    ToolOutcome { ok, result: truncate(&result.into(), MODEL_VIEW_BYTES), summary: summary.into(), artifact: None }
}

/// The call in the request body, or the 400 to answer with.
async fn invocation(req: &mut Request) -> Result<std::result::Result<ToolInvocation, Response>> {
    match req.json::<ToolInvocation>().await {
        Ok(i) => Ok(Ok(i)),
        Err(e) => Ok(Err(Response::from_json(&json!({ "error": { "code": "malformed_json", "message": e.to_string() } }))?.with_status(400))),
    }
}

/// Renders an HTTP call with the chat's secrets and checks it against the egress guard.
fn render_http(env: &Env, inv: &ToolInvocation, params: &BTreeMap<String, String>, body: Option<&Value>, name: &str) -> std::result::Result<(RenderedCall, egress::EgressPolicy), String> {
    let endpoint = inv.endpoint.as_ref().filter(|e| e.name == name).ok_or_else(|| format!("no endpoint named `{name}` is configured"))?;
    let secrets: BTreeMap<String, String> = inv.secrets.iter().map(|s| (s.name.clone(), s.value.clone())).collect();
    let call = render(endpoint, params, body, &secrets).map_err(|e| e.to_string())?;
    let policy = http_tool::policy(env, endpoint.allowed_hosts.clone());
    egress::check(&policy, &call.url).map_err(|r| r.to_string())?;
    Ok((call, policy))
}

/// `POST /v1/tools/plan`.
pub async fn plan(mut req: Request, env: &Env) -> Result<Response> {
    let inv = match invocation(&mut req).await? {
        Ok(i) => i,
        Err(r) => return Ok(r),
    };
    let plan = match tools::parse_call(&inv.tool, &inv.arguments) {
        Err(e) => ToolPlan::Reject { result: format!("ERROR: {e}"), summary: "invalid arguments".into() },
        Ok(ToolCall::HttpRequest { endpoint, params, body }) => match render_http(env, &inv, &params, body.as_ref(), &endpoint) {
            Err(why) => ToolPlan::Reject { result: format!("REFUSED: {why}"), summary: why },
            Ok((call, _)) => {
                let marked_mutating = inv.endpoint.as_ref().is_none_or(|e| e.mutating);
                if tools::needs_approval(&call.method, marked_mutating) {
                    ToolPlan::Approve { request: call.approval_view() }
                } else {
                    ToolPlan::Run
                }
            }
        },
        // Read-only tools, and draft_message (which only stores a draft a person approves).
        Ok(_) => ToolPlan::Run,
    };
    Response::from_json(&plan)
}

/// `POST /v1/tools/run`.
pub async fn run(mut req: Request, env: &Env) -> Result<Response> {
    let inv = match invocation(&mut req).await? {
        Ok(i) => i,
        Err(r) => return Ok(r),
    };
    let (trace, started) = (runtime_support::trace::of(&req), runtime_support::trace::now_ms());
    let result = match tools::parse_call(&inv.tool, &inv.arguments) {
        Err(e) => outcome(false, format!("ERROR: {e}"), "invalid arguments"),
        Ok(call) => execute(env, trace.as_deref(), &inv, call).await,
    };
    let now = runtime_support::trace::now_ms();
    let line = LogLine::new(now, Level::Info, "tool.ran").trace(trace.as_deref()).org(Some(&inv.org_id)).text("turn", Some(&inv.turn_id)).text("tool", Some(&inv.tool));
    console_log!("{}", line.text("outcome", Some(if result.ok { "ok" } else { "error" })).duration_ms(now - started).render());
    Response::from_json(&result)
}

async fn execute(env: &Env, trace: Option<&str>, inv: &ToolInvocation, call: ToolCall) -> ToolOutcome {
    match call {
        ToolCall::ProposeMeetingSlots { time_zone, busy, days_ahead } => {
            match tools::propose_meeting_slots(&IntlZones::default(), &time_zone, inv.now_ms, &busy, &holidays(env), days_ahead) {
                Ok(slots) => outcome(true, json!({ "time_zone": time_zone, "slots": slots }).to_string(), format!("{} slots proposed", slots.len())),
                Err(e) => outcome(false, format!("ERROR: {e}"), "no slots"),
            }
        }
        ToolCall::KnowledgeSearch { query, limit } => match workspace_call(env, inv, "POST", "/knowledge/search", json!({ "query": query, "limit": limit })).await {
            Ok(v) => {
                let hits: Vec<KnowledgeSnippet> = serde_json::from_value(v["results"].clone()).unwrap_or_default();
                let summary = format!("{} passages found", hits.len());
                outcome(true, json!({ "results": v["results"], "cite_as": "[doc:{document_id}#{chunk_id}]" }).to_string(), summary)
            }
            Err(e) => outcome(false, format!("ERROR: {e}"), "search failed"),
        },
        ToolCall::DraftMessage { lead_id, content } => {
            let body = json!({ "client_id": format!("{}-step-{}", inv.turn_id, inv.step), "content": content });
            match workspace_call(env, inv, "POST", &format!("/leads/{lead_id}/drafts"), body).await {
                Ok(v) => {
                    let summary = format!("draft {} is {}", v["id"], v["state"].as_str().unwrap_or("stored"));
                    outcome(true, json!({ "draft_id": v["id"], "state": v["state"], "quality": v["quality"] }).to_string(), summary)
                }
                Err(e) => outcome(false, format!("ERROR: {e}"), "draft refused"),
            }
        }
        ToolCall::HttpRequest { endpoint, params, body } => match render_http(env, inv, &params, body.as_ref(), &endpoint) {
            Err(why) => outcome(false, format!("REFUSED: {why}"), why),
            Ok((call, _)) if inv.approved_request.as_ref().is_some_and(|approved| *approved != call.approval_view()) => outcome(
                false,
                "REFUSED: the request is no longer the one a person approved (its endpoint was changed since); it was not sent",
                "changed since its approval",
            ),
            Ok((call, policy)) => match http_tool::perform(env, trace, &policy, &call.method, &call.url, &call.headers, call.body.as_deref()).await {
                HttpResult::Refused(r) => outcome(false, format!("REFUSED: {r}"), r.code()),
                HttpResult::Failed(e) => outcome(false, format!("ERROR: {e}"), "request failed"),
                HttpResult::Answered { status, body, final_url, .. } => {
                    let mut o = outcome((200..400).contains(&status), json!({ "status": status, "body": truncate(&body, MODEL_VIEW_BYTES) }).to_string(), format!("HTTP {status}"));
                    o.artifact = Some(Artifact { kind: "http_response".into(), title: format!("{} {final_url} → {status}", call.method), body: truncate(&body, ARTIFACT_BYTES) });
                    o
                }
            },
        },
    }
}

/// The org's best `limit` knowledge passages for `query` (none when it has no words).
pub async fn search_knowledge(env: &Env, org_id: &str, query: &str, limit: u32) -> std::result::Result<Vec<KnowledgeSnippet>, String> {
    if domain::knowledge::fts_query(query).is_none() {
        return Ok(Vec::new());
    }
    let v = workspace_request(env, org_id, "agent:context", "POST", "/knowledge/search", json!({ "query": query, "limit": limit })).await?;
    Ok(serde_json::from_value(v["results"].clone()).unwrap_or_default())
}

/// The org's strategy for the agent, from its workspace settings (`None` if unavailable).
pub async fn org_strategy(env: &Env, org_id: &str) -> Option<String> {
    let v = workspace_request(env, org_id, "agent:context", "GET", "/settings", Value::Null).await.ok()?;
    v["strategy"].as_str().map(str::to_owned)
}

/// A JSON call to the org's Workspace object, acting as the agent in its audit log.
async fn workspace_call(env: &Env, inv: &ToolInvocation, method: &str, path: &str, body: Value) -> std::result::Result<Value, String> {
    workspace_request(env, &inv.org_id, &format!("agent:{}", inv.turn_id), method, path, body).await
}

async fn workspace_request(env: &Env, org_id: &str, actor: &str, method: &str, path: &str, body: Value) -> std::result::Result<Value, String> {
    let org = OrgId::parse(org_id).ok_or("the turn has no org")?;
    let stub = env.durable_object("WORKSPACE").map_err(|e| e.to_string())?.get_by_name(&workspace_object_name(&org)).map_err(|e| e.to_string())?;
    let headers = Headers::new();
    headers.set("x-parley-actor", actor).map_err(|e| e.to_string())?;
    headers.set("Content-Type", "application/json").map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::from(method.to_owned())).with_headers(headers);
    if !body.is_null() {
        init.with_body(Some(body.to_string().into()));
    }
    let req = Request::new_with_init(&format!("https://workspace{path}"), &init).map_err(|e| e.to_string())?;
    let mut res = stub.fetch_with_request(req).await.map_err(|e| e.to_string())?;
    let v: Value = res.json().await.map_err(|e| e.to_string())?;
    if res.status_code() >= 400 {
        return Err(v["error"]["message"].as_str().unwrap_or("the workspace refused the call").to_owned());
    }
    Ok(v)
}

/// Holidays from `MEETING_HOLIDAYS` (comma-separated `YYYY-MM-DD`), skipped by meeting slots.
fn holidays(env: &Env) -> Vec<(i32, u32, u32)> {
    tools::parse_holidays(&env.var("MEETING_HOLIDAYS").map(|v| v.to_string()).unwrap_or_default())
}
