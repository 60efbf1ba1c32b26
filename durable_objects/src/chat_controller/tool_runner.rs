//! Carrying out the agent's tool calls. `tools::parse_call` validates the arguments (invalid
//! ones go back to the model as the tool's result); read-only calls run at once; a call that
//! would change the outside world parks the turn on an approval that a person decides.
//!
//! A step is marked `running` and committed before its tool is called, and its result stored
//! after: a step found `running` on wake was interrupted mid-call and is never called again.

use super::turn_runner::TurnRun;
use super::{sockets, steps, ChatController};
use domain::agent_protocol::ToolSpec;
use domain::context::KnowledgeSnippet;
use domain::endpoint::{render, Endpoint, RenderedCall};
use domain::events::ChatEvent;
use domain::tool_steps::{unrun_result, ApprovalView, StepState};
use runtime_support::transaction::transaction;
use runtime_support::zones::IntlZones;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tools::ToolCall;
use worker::*;

/// How long a person has to decide an approval unless `APPROVAL_TTL_SECS` says otherwise.
const DEFAULT_APPROVAL_TTL_MS: i64 = 24 * 3600 * 1000;
/// The most of a tool's result the model reads; the full response is kept as an artifact.
const MODEL_VIEW_BYTES: usize = 4 * 1024;
/// The most of an HTTP response kept as an artifact.
const ARTIFACT_BYTES: usize = 64 * 1024;
/// HTTP tool calls per org per minute.
const HTTP_CALLS_PER_MINUTE: i64 = 30;

/// The tools the model may call.
pub(super) fn catalog() -> Vec<ToolSpec> {
    tools::catalog()
}

/// What running a tool produced: the model's view, a short summary for the browser, and
/// optionally an artifact (kind, title, body) to keep.
struct Ran {
    ok: bool,
    result: String,
    summary: String,
    artifact: Option<(&'static str, String, String)>,
}

fn ran(ok: bool, result: impl Into<String>, summary: impl Into<String>) -> Ran {
    Ran { ok, result: result.into(), summary: summary.into(), artifact: None }
}

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

impl ChatController {
    fn broadcast_step(&self, run: &TurnRun, step: i64) -> Result<()> {
        if let Some(row) = steps::step(&self.state.storage().sql(), &run.turn_id, step)? {
            sockets::broadcast(&self.state, &ChatEvent::Tool { turn_id: row.turn_id, step, tool: row.tool, state: row.state, summary: row.summary });
        }
        Ok(())
    }

    fn settle(&self, run: &TurnRun, step: i64, state: StepState, result: &str, summary: &str) -> Result<()> {
        steps::set_step(&self.state.storage().sql(), &run.turn_id, step, state, Some(result), Some(summary), Self::now())?;
        self.broadcast_step(run, step)
    }

    /// A step left `running` by an instance that died: it is not run again.
    pub(super) fn mark_interrupted(&self, run: &TurnRun, step: i64) -> Result<()> {
        self.settle(run, step, StepState::Failed, &unrun_result(StepState::Failed, None, None), "interrupted; not retried")
    }

    /// Validates a pending step, then runs it, or parks it on an approval.
    pub(super) async fn handle_step(&self, run: &mut TurnRun, step: i64) -> Result<()> {
        let Some(row) = steps::step(&self.state.storage().sql(), &run.turn_id, step)? else { return Ok(()) };
        let call = match tools::parse_call(&row.tool, &row.arguments) {
            Ok(call) => call,
            Err(e) => return self.settle(run, step, StepState::Invalid, &format!("ERROR: {e}"), "invalid arguments"),
        };
        if let ToolCall::HttpRequest { endpoint, params, body } = &call {
            match self.prepare_http(run, endpoint, params, body.as_ref()).await {
                Err(refusal) => return self.settle(run, step, StepState::Failed, &format!("REFUSED: {refusal}"), &refusal),
                Ok((def, rendered)) if tools::needs_approval(&def.method, def.mutating) => {
                    return self.request_approval(run, step, &row.tool, &rendered);
                }
                Ok(_) => {}
            }
        }
        self.run_step(run, step).await
    }

    /// Runs a step (pending and allowed, or approved): marked running and committed first.
    pub(super) async fn run_step(&self, run: &mut TurnRun, step: i64) -> Result<()> {
        let sql = self.state.storage().sql();
        let Some(row) = steps::step(&sql, &run.turn_id, step)? else { return Ok(()) };
        steps::set_step(&sql, &run.turn_id, step, StepState::Running, None, Some("running"), Self::now())?;
        self.broadcast_step(run, step)?;
        run.tool_calls += 1;
        let outcome = match tools::parse_call(&row.tool, &row.arguments) {
            Ok(call) => self.execute(run, step, call).await,
            Err(e) => ran(false, format!("ERROR: {e}"), "invalid arguments"),
        };
        let (sql, id, now) = (self.state.storage().sql(), run.turn_id.clone(), Self::now());
        let state = if outcome.ok { StepState::Done } else { StepState::Failed };
        let result = truncate(&outcome.result, MODEL_VIEW_BYTES);
        let summary = outcome.summary.clone();
        let artifact = outcome.artifact;
        transaction(&self.state.storage(), move || {
            steps::set_step(&sql, &id, step, state, Some(&result), Some(&summary), now)?;
            if let Some((kind, title, body)) = &artifact {
                steps::insert_artifact(&sql, &id, step, kind, title, body, now)?;
            }
            Ok(())
        })?;
        self.broadcast_step(run, step)
    }

    async fn execute(&self, run: &mut TurnRun, step: i64, call: ToolCall) -> Ran {
        match call {
            ToolCall::ProposeMeetingSlots { time_zone, busy, days_ahead } => {
                let holidays = holidays(&self.env);
                match tools::propose_meeting_slots(&IntlZones::default(), &time_zone, Self::now(), &busy, &holidays, days_ahead) {
                    Ok(slots) => {
                        let summary = format!("{} slots proposed", slots.len());
                        ran(true, json!({ "time_zone": time_zone, "slots": slots }).to_string(), summary)
                    }
                    Err(e) => ran(false, format!("ERROR: {e}"), "no slots"),
                }
            }
            ToolCall::KnowledgeSearch { query, limit } => {
                match self.workspace_call(run, "POST", "/knowledge/search", Some(json!({ "query": query, "limit": limit }))).await {
                    Ok(v) => {
                        let n = v["results"].as_array().map_or(0, Vec::len);
                        let result = json!({ "results": v["results"], "cite_as": "[doc:{document_id}#{chunk_id}]" }).to_string();
                        ran(true, result, format!("{n} passages found"))
                    }
                    Err(e) => ran(false, format!("ERROR: {e}"), "search failed"),
                }
            }
            ToolCall::DraftMessage { lead_id, content } => {
                let body = json!({ "client_id": format!("{}-step-{step}", run.turn_id), "content": content });
                match self.workspace_call(run, "POST", &format!("/leads/{lead_id}/drafts"), Some(body)).await {
                    Ok(v) => {
                        let summary = format!("draft {} is {}", v["id"], v["state"].as_str().unwrap_or("stored"));
                        ran(true, json!({ "draft_id": v["id"], "state": v["state"], "gate": v["gate"] }).to_string(), summary)
                    }
                    Err(e) => ran(false, format!("ERROR: {e}"), "draft refused"),
                }
            }
            ToolCall::HttpRequest { endpoint, params, body } => match self.prepare_http(run, &endpoint, &params, body.as_ref()).await {
                Ok((def, rendered)) => self.send_http(run, &def, &rendered).await,
                Err(refusal) => ran(false, format!("REFUSED: {refusal}"), refusal),
            },
        }
    }

    /// Looks up the org's endpoint and renders the call (secrets substituted, params encoded),
    /// then checks it against the egress guard, so a refused call never reaches a person.
    async fn prepare_http(&self, run: &TurnRun, name: &str, params: &BTreeMap<String, String>, body: Option<&Value>) -> std::result::Result<(Endpoint, RenderedCall), String> {
        let t = run.tenant.as_ref().ok_or("this chat has no org")?;
        #[derive(serde::Deserialize)]
        struct Row {
            definition: String,
        }
        let row: Option<Row> = tenancy_store::first(&t.db, "SELECT definition FROM tool_endpoints WHERE org_id = ?1 AND name = ?2", &[tenancy_store::text(t.org.as_str()), tenancy_store::text(name)])
            .await
            .map_err(|e| e.to_string())?;
        let def: Endpoint = row.and_then(|r| serde_json::from_str(&r.definition).ok()).ok_or_else(|| format!("no endpoint named `{name}` is configured"))?;
        let secrets: BTreeMap<String, String> = run.secrets.iter().map(|s| (s.name.clone(), s.value.clone())).collect();
        let rendered = render(&def, params, body, &secrets).map_err(|e| e.to_string())?;
        let policy = egress_policy(&self.env, &def);
        egress::check(&policy, &rendered.url).map_err(|r| r.to_string())?;
        Ok((def, rendered))
    }

    /// Sends a rendered call through the agents worker, which applies the egress guard again
    /// on every redirect hop, and keeps the response as an artifact.
    async fn send_http(&self, run: &TurnRun, def: &Endpoint, call: &RenderedCall) -> Ran {
        if let Some(t) = &run.tenant {
            match tenancy_store::rate::take(&t.db, &t.org, "http_tool", 60_000, HTTP_CALLS_PER_MINUTE, Self::now()).await {
                Ok(true) => {}
                Ok(false) => return ran(false, "REFUSED: the org's HTTP tool rate limit is reached; try again in a minute", "rate limited"),
                Err(e) => return ran(false, format!("ERROR: {e}"), "rate limit unavailable"),
            }
        }
        let request = json!({
            "org_id": run.org_id,
            "method": call.method,
            "url": call.url,
            "headers": call.headers,
            "body": call.body,
            "allowed_hosts": def.allowed_hosts,
        });
        match self.agents_call("/v1/tools/http", &request).await {
            Ok(v) if v.get("refused").is_some_and(|r| !r.is_null()) => {
                let why = v["refused"]["message"].as_str().unwrap_or("refused").to_owned();
                ran(false, format!("REFUSED: {why}"), why)
            }
            Ok(v) => {
                let status = v["status"].as_u64().unwrap_or(0);
                let text = v["body"].as_str().unwrap_or_default();
                let title = format!("{} {} → {status}", call.method, call.url);
                let mut r = ran((200..400).contains(&status), json!({ "status": status, "body": truncate(text, MODEL_VIEW_BYTES) }).to_string(), format!("HTTP {status}"));
                r.artifact = Some(("http_response", title, truncate(text, ARTIFACT_BYTES)));
                r
            }
            Err(e) => ran(false, format!("ERROR: {e}"), "request failed"),
        }
    }

    /// Parks a step on an approval: what exactly would be sent, secrets masked.
    fn request_approval(&self, run: &TurnRun, step: i64, tool: &str, call: &RenderedCall) -> Result<()> {
        let now = Self::now();
        let ttl = self.env.var("APPROVAL_TTL_SECS").ok().and_then(|v| v.to_string().parse::<i64>().ok()).filter(|s| *s > 0).map_or(DEFAULT_APPROVAL_TTL_MS, |s| s * 1000);
        let approval = ApprovalView {
            id: format!("apr_{}_{step}", run.turn_id),
            turn_id: run.turn_id.clone(),
            step,
            tool: tool.to_owned(),
            request: json!({ "method": call.method, "url": call.url, "headers": call.masked_headers, "body": call.masked_body }).to_string(),
            state: "pending".into(),
            requested_by: format!("agent ({}, answering message {})", run.turn_id, run.trigger_seq),
            decided_by: None,
            note: None,
            created_at: now,
            expires_at: now + ttl,
            decided_at: None,
        };
        let sql = self.state.storage().sql();
        let (id, a) = (run.turn_id.clone(), approval.clone());
        transaction(&self.state.storage(), move || {
            steps::insert_approval(&sql, &a)?;
            steps::set_step(&sql, &id, step, StepState::AwaitingApproval, None, Some("waiting for approval"), now)
        })?;
        self.broadcast_step(run, step)?;
        sockets::broadcast(&self.state, &ChatEvent::Approval { approval });
        Ok(())
    }

    /// The org's best `limit` knowledge passages for `query`.
    pub(super) async fn workspace_search(&self, run: &TurnRun, query: &str, limit: u32) -> std::result::Result<Vec<KnowledgeSnippet>, String> {
        if domain::knowledge::fts_query(query).is_none() {
            return Ok(Vec::new());
        }
        let v = self.workspace_call(run, "POST", "/knowledge/search", Some(json!({ "query": query, "limit": limit }))).await?;
        Ok(serde_json::from_value(v["results"].clone()).unwrap_or_default())
    }

    /// A JSON call to the org's Workspace object.
    async fn workspace_call(&self, run: &TurnRun, method: &str, path: &str, body: Option<Value>) -> std::result::Result<Value, String> {
        let ns = self.env.durable_object("WORKSPACE").map_err(|e| e.to_string())?;
        let org = run.tenant.as_ref().map(|t| t.org.clone()).ok_or("this chat has no org")?;
        let stub = ns.get_by_name(&domain::ids::workspace_object_name(&org)).map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        // The agent acts as itself in the workspace's audit log.
        let headers = Headers::new();
        let _ = headers.set("x-parley-actor", &format!("agent:{}", run.turn_id));
        init.with_method(Method::from(method.to_owned()));
        if let Some(b) = body {
            let _ = headers.set("Content-Type", "application/json");
            init.with_body(Some(b.to_string().into()));
        }
        init.with_headers(headers);
        let req = Request::new_with_init(&format!("https://workspace{path}"), &init).map_err(|e| e.to_string())?;
        let mut res = stub.fetch_with_request(req).await.map_err(|e| e.to_string())?;
        let v: Value = res.json().await.map_err(|e| e.to_string())?;
        if res.status_code() >= 400 {
            return Err(v["error"]["message"].as_str().unwrap_or("the workspace refused the call").to_owned());
        }
        Ok(v)
    }

    /// A JSON call to the agents worker.
    async fn agents_call(&self, path: &str, body: &Value) -> std::result::Result<Value, String> {
        let agents = self.env.service("AGENTS").map_err(|e| e.to_string())?;
        let headers = Headers::new();
        let _ = headers.set("Content-Type", "application/json");
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.to_string().into()));
        let req = Request::new_with_init(&format!("https://agents{path}"), &init).map_err(|e| e.to_string())?;
        let mut res = agents.fetch_request(req).await.map_err(|e| e.to_string())?;
        res.json().await.map_err(|e| e.to_string())
    }

    /// Marks expired approvals and their steps, and queues their turns to continue.
    pub(super) fn expire_approvals(&self, now: i64) -> Result<()> {
        let sql = self.state.storage().sql();
        let expired = steps::expired_approvals(&sql, now)?;
        for a in expired {
            let (tx_sql, a2) = (self.state.storage().sql(), a.clone());
            transaction(&self.state.storage(), move || {
                steps::decide_approval(&tx_sql, &a2.id, "expired", None, None, now)?;
                steps::set_step(&tx_sql, &a2.turn_id, a2.step, StepState::Expired, Some(&unrun_result(StepState::Expired, None, None)), Some("approval expired"), now)?;
                super::approvals::resume_if_decided(&tx_sql, &a2.turn_id, now)
            })?;
            if let Some(v) = steps::approval(&sql, &a.id)? {
                sockets::broadcast(&self.state, &ChatEvent::Approval { approval: v });
            }
            self.broadcast_turn(&a.turn_id)?;
        }
        Ok(())
    }
}

/// The egress policy for an endpoint: its allowlist, plus plain http to loopback only when the
/// worker runs in local development (`EGRESS_ALLOW_LOOPBACK_HTTP=local-only`).
pub(super) fn egress_policy(env: &Env, def: &Endpoint) -> egress::EgressPolicy {
    let loopback = env.var("EGRESS_ALLOW_LOOPBACK_HTTP").map(|v| v.to_string() == "local-only").unwrap_or(false);
    egress::EgressPolicy { allowed_hosts: def.allowed_hosts.clone(), allow_loopback_http: loopback, ..Default::default() }
}

/// Holidays from `MEETING_HOLIDAYS` (comma-separated `YYYY-MM-DD`), skipped by meeting slots.
fn holidays(env: &Env) -> Vec<(i32, u32, u32)> {
    let raw = env.var("MEETING_HOLIDAYS").map(|v| v.to_string()).unwrap_or_default();
    raw.split(',')
        .filter_map(|d| {
            let mut parts = d.trim().split('-');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect()
}
