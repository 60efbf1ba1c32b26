//! The Chat Controller asks the agents worker to plan and to run each tool call. The Chat
//! Controller owns the durable state (steps, approvals, artifacts); the agents worker owns the
//! tool logic (argument validation, meeting slots, rendering and guarding HTTP calls) and the
//! outbound I/O.

use crate::agent_protocol::TurnSecret;
use crate::endpoint::Endpoint;
use serde::{Deserialize, Serialize};

/// `POST /v1/tools/plan` and `POST /v1/tools/run`.
pub const PLAN_PATH: &str = "/v1/tools/plan";
pub const RUN_PATH: &str = "/v1/tools/run";

/// One tool call to plan or run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInvocation {
    pub org_id: String,
    pub turn_id: String,
    pub step: i64,
    pub tool: String,
    /// The raw JSON argument text the model produced.
    pub arguments: String,
    /// For `http_request`: the org's endpoint the call names, if it exists.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// The secrets granted to the chat (for endpoint headers).
    #[serde(default)]
    pub secrets: Vec<TurnSecret>,
    /// Now, in milliseconds (meeting slots start from the next business day).
    pub now_ms: i64,
    /// For a call a person approved: the request they were shown (`RenderedCall::approval_view`).
    /// The agents worker sends the call only if it still renders to exactly this.
    #[serde(default)]
    pub approved_request: Option<serde_json::Value>,
}

/// What to do with a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ToolPlan {
    /// Run it now.
    Run,
    /// A person must approve it first; `request` is what exactly would be sent, secrets masked.
    Approve { request: serde_json::Value },
    /// It will not run: its arguments are invalid, or the egress guard refuses it. `result` is
    /// what the model reads.
    Reject { result: String, summary: String },
}

/// What running a call produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolOutcome {
    pub ok: bool,
    /// What the model reads (already truncated to a model-sized view).
    pub result: String,
    /// A few words for the browser.
    pub summary: String,
    /// Something to keep for people to look at (an HTTP response).
    #[serde(default)]
    pub artifact: Option<Artifact>,
}

/// A tool's output kept for the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub kind: String,
    pub title: String,
    pub body: String,
}

impl ToolOutcome {
    pub fn failed(result: impl Into<String>, summary: impl Into<String>) -> ToolOutcome {
        ToolOutcome { ok: false, result: result.into(), summary: summary.into(), artifact: None }
    }
}
