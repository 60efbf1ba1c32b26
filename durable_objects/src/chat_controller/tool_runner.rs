//! Carrying out the agent's tool calls. The agents worker plans each call (invalid arguments
//! and egress refusals go back to the model as the tool's result; read-only calls run at once;
//! a call that would change the outside world needs a person) and runs it; this object keeps
//! the durable record: steps, approvals, artifacts.
//!
//! A step is marked `running` and committed before its tool is called, and its result stored
//! after: a step found `running` on wake was interrupted mid-call and is never called again.

use super::turn_runner::TurnRun;
use super::{sockets, steps, ChatController};
use domain::endpoint::Endpoint;
use domain::events::ChatEvent;
use domain::tool_protocol::{ToolInvocation, ToolOutcome, ToolPlan, PLAN_PATH, RUN_PATH};
use domain::tool_steps::{unrun_result, ApprovalView, StepState};
use runtime_support::transaction::transaction;
use serde_json::Value;
use worker::*;

/// How long a person has to decide an approval unless `APPROVAL_TTL_SECS` says otherwise.
const DEFAULT_APPROVAL_TTL_MS: i64 = 24 * 3600 * 1000;
/// HTTP tool calls per org per minute.
const HTTP_CALLS_PER_MINUTE: i64 = 30;



/// The id of the approval a step waits on.
fn approval_id(turn_id: &str, step: i64) -> String {
    format!("apr_{turn_id}_{step}")
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

    /// Plans a pending step with the agents worker: it runs now, waits for a person, or is
    /// rejected (invalid arguments, or the egress guard refuses it) with a result for the model.
    pub(super) async fn handle_step(&self, run: &mut TurnRun, step: i64) -> Result<()> {
        let Some(row) = steps::step(&self.state.storage().sql(), &run.turn_id, step)? else { return Ok(()) };
        let invocation = self.invocation(run, &row).await;
        match self.agents_call::<ToolPlan>(PLAN_PATH, &invocation).await {
            // Run with the endpoint it was planned with, not a second read of it.
            Ok(ToolPlan::Run) => self.run_step(run, step, Some(invocation)).await,
            Ok(ToolPlan::Approve { request }) => self.request_approval(run, step, &row.tool, request),
            Ok(ToolPlan::Reject { result, summary }) => self.settle(run, step, StepState::Invalid, &result, &summary),
            Err(e) => self.settle(run, step, StepState::Failed, &format!("ERROR: the tool could not be planned: {e}"), "planning failed"),
        }
    }

    /// Runs a step, marked running and committed first: one just planned (with its
    /// `planned` invocation), or one a person approved (`None`: it is invoked afresh, carrying
    /// the request they approved, which the agents worker checks the call still renders to).
    pub(super) async fn run_step(&self, run: &mut TurnRun, step: i64, planned: Option<ToolInvocation>) -> Result<()> {
        let sql = self.state.storage().sql();
        let Some(row) = steps::step(&sql, &run.turn_id, step)? else { return Ok(()) };
        let approved_request = match planned {
            Some(_) => None,
            // Fails closed: without its approval on record, nothing matches (`null`).
            None => Some(steps::approval(&sql, &approval_id(&run.turn_id, step))?.and_then(|a| serde_json::from_str::<Value>(&a.request).ok()).unwrap_or(Value::Null)),
        };
        steps::set_step(&sql, &run.turn_id, step, StepState::Running, None, Some("running"), Self::now())?;
        self.broadcast_step(run, step)?;
        run.tool_calls += 1;
        let outcome = match self.http_rate_limit(run, &row.tool).await {
            Some(refusal) => refusal,
            None => {
                let invocation = match planned {
                    Some(invocation) => invocation,
                    None => ToolInvocation { approved_request, ..self.invocation(run, &row).await },
                };
                self.agents_call::<ToolOutcome>(RUN_PATH, &invocation).await.unwrap_or_else(|e| ToolOutcome::failed(format!("ERROR: {e}"), "tool failed"))
            }
        };
        let (sql, id, now) = (self.state.storage().sql(), run.turn_id.clone(), Self::now());
        let state = if outcome.ok { StepState::Done } else { StepState::Failed };
        run.metrics.push(telemetry::metrics::count(telemetry::metrics::TOOL_CALLS, &[("tool", &row.tool), ("outcome", if outcome.ok { "ok" } else { "failed" })]));
        transaction(&self.state.storage(), move || {
            steps::set_step(&sql, &id, step, state, Some(&outcome.result), Some(&outcome.summary), now)?;
            if let Some(a) = &outcome.artifact {
                steps::insert_artifact(&sql, &id, step, &a.kind, &a.title, &a.body, now)?;
            }
            Ok(())
        })?;
        self.broadcast_step(run, step)
    }

    /// The org's HTTP tool calls per minute: `Some(refusal)` once the limit is reached.
    async fn http_rate_limit(&self, run: &TurnRun, tool: &str) -> Option<ToolOutcome> {
        let t = run.tenant.as_ref().filter(|_| tool == "http_request")?;
        match tenancy_store::rate::take(&t.db, &t.org, "http_tool", 60_000, HTTP_CALLS_PER_MINUTE, Self::now()).await {
            Ok(true) => None,
            Ok(false) => Some(ToolOutcome::failed("REFUSED: the org's HTTP tool rate limit is reached; try again in a minute", "rate limited")),
            Err(e) => Some(ToolOutcome::failed(format!("ERROR: {e}"), "rate limit unavailable")),
        }
    }

    /// The call as the agents worker takes it, with the org's endpoint (for `http_request`)
    /// and the chat's granted secrets.
    async fn invocation(&self, run: &TurnRun, row: &steps::StepRow) -> ToolInvocation {
        let endpoint = match (&run.tenant, row.tool.as_str()) {
            (Some(t), "http_request") => {
                let name = serde_json::from_str::<Value>(&row.arguments).ok().and_then(|v| v["endpoint"].as_str().map(str::to_owned));
                match name {
                    Some(name) => self.endpoint(t, &name).await,
                    None => None,
                }
            }
            _ => None,
        };
        ToolInvocation {
            org_id: run.org_id.clone(),
            turn_id: run.turn_id.clone(),
            step: row.step,
            tool: row.tool.clone(),
            arguments: row.arguments.clone(),
            endpoint,
            secrets: run.secrets.clone(),
            now_ms: Self::now(),
            approved_request: None,
        }
    }

    async fn endpoint(&self, t: &super::turn_runner::Tenant, name: &str) -> Option<Endpoint> {
        #[derive(serde::Deserialize)]
        struct Row {
            definition: String,
        }
        let row: Option<Row> = tenancy_store::first(&t.db, "SELECT definition FROM tool_endpoints WHERE org_id = ?1 AND name = ?2", &[tenancy_store::text(t.org.as_str()), tenancy_store::text(name)])
            .await
            .ok()
            .flatten();
        row.and_then(|r| serde_json::from_str(&r.definition).ok())
    }

    /// Parks a step on an approval: what exactly would be sent, secrets masked.
    fn request_approval(&self, run: &TurnRun, step: i64, tool: &str, request: Value) -> Result<()> {
        let now = Self::now();
        let ttl = self.env.var("APPROVAL_TTL_SECS").ok().and_then(|v| v.to_string().parse::<i64>().ok()).filter(|s| *s > 0).map_or(DEFAULT_APPROVAL_TTL_MS, |s| s * 1000);
        let approval = ApprovalView {
            id: approval_id(&run.turn_id, step),
            turn_id: run.turn_id.clone(),
            step,
            tool: tool.to_owned(),
            request: request.to_string(),
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

    /// A JSON call to the agents worker.
    async fn agents_call<T: serde::de::DeserializeOwned>(&self, path: &str, body: &impl serde::Serialize) -> std::result::Result<T, String> {
        let agents = self.env.service("AGENTS").map_err(|e| e.to_string())?;
        let headers = Headers::new();
        let _ = headers.set("Content-Type", "application/json");
        runtime_support::trace::pass_on(&headers, self.trace.borrow().as_deref());
        let mut init = RequestInit::new();
        let text = serde_json::to_string(body).map_err(|e| e.to_string())?;
        init.with_method(Method::Post).with_headers(headers).with_body(Some(text.into()));
        let req = Request::new_with_init(&format!("https://agents{path}"), &init).map_err(|e| e.to_string())?;
        let mut res = agents.fetch_request(req).await.map_err(|e| e.to_string())?;
        if res.status_code() != 200 {
            return Err(format!("the agents worker answered {}", res.status_code()));
        }
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

