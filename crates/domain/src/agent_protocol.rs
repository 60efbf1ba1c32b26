//! The contract between a Chat Controller and the agents worker.
//!
//! The controller POSTs a [`TurnRequest`] as JSON; the agents worker answers with a stream of
//! [`AgentEvent`]s, one JSON object per line (NDJSON), ending with exactly one `done` or
//! `error` event.

use crate::message::Role;
use serde::{Deserialize, Serialize};

/// Path of the agents worker's turn endpoint.
pub const TURN_PATH: &str = "/v1/turns";

/// One turn for the agent to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnRequest {
    pub turn_id: String,
    pub org_id: String,
    pub chat_id: String,
    /// The assembled context, oldest first.
    pub messages: Vec<ContextMessage>,
    /// Tools the model may call. Empty until the tool set lands.
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    /// The org secrets granted to this chat, decrypted for this turn only. They are for the
    /// tools' outbound calls and never go into the model's context or a log line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<TurnSecret>,
    /// This turn's earlier tool calls and their results, replayed to the model after the
    /// context so it can continue from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_steps: Vec<ToolExchange>,
    /// Use the org's cheaper model (the budget tier says so).
    #[serde(default)]
    pub cheaper_model: bool,
    /// Offer the agent's fixed tool set (the agents worker declares it); off for summaries.
    #[serde(default)]
    pub use_tools: bool,
    /// When set, the agents worker assembles `messages` itself from this: it retrieves the
    /// org's knowledge for the message the turn answers and packs everything into the budget
    /// (`context::pack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextSource>,
}

/// What a turn's context is assembled from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextSource {
    /// The conversation in reading order, ending with the message the turn answers.
    pub conversation: Vec<crate::message::MessageView>,
    pub summary: Option<crate::summary::Summary>,
    pub max_messages: usize,
    pub max_tokens: usize,
    /// Text to retrieve knowledge for (the message the turn answers).
    pub retrieve_for: Option<String>,
}

/// A tool call the model made earlier in the turn, with the result it got back. Calls made in
/// one model step share `model_step`, so they replay as one assistant message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolExchange {
    pub model_step: u32,
    pub call_id: String,
    pub name: String,
    /// The raw JSON argument text the model produced.
    pub arguments: String,
    /// What the tool returned (or why it did not run), as the model should read it.
    pub result: String,
}

/// A secret handed to a turn.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnSecret {
    pub name: String,
    pub value: String,
}

// Debug output names the secret and hides its value, so no log line can carry it.
impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TurnSecret({}, <redacted>)", self.name)
    }
}

/// A message in the model's context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextMessage {
    pub role: Role,
    pub content: String,
}

/// A tool declared to the model, with a JSON schema for its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// One event of a running turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A piece of the reply text.
    Delta { text: String },
    /// The model asked for a tool; `arguments` is the raw JSON text the model produced.
    ToolCall { id: String, name: String, arguments: String },
    /// Tokens consumed by the turn.
    Usage { input_tokens: u64, output_tokens: u64 },
    /// The turn's final message. Terminal.
    Done { content: String, model: String, finish_reason: String },
    /// The turn failed. Terminal.
    Error { code: String, message: String },
}

impl AgentEvent {
    pub fn is_terminal(&self) -> bool {
        matches!(self, AgentEvent::Done { .. } | AgentEvent::Error { .. })
    }

    /// The event as one NDJSON line, newline included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("agent events always serialise");
        line.push('\n');
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_as_lines() {
        let events = [
            AgentEvent::Delta { text: "a\nb".into() },
            AgentEvent::ToolCall { id: "c1".into(), name: "t".into(), arguments: "{}".into() },
            AgentEvent::Usage { input_tokens: 3, output_tokens: 4 },
            AgentEvent::Done { content: "x".into(), model: "m".into(), finish_reason: "stop".into() },
            AgentEvent::Error { code: "c".into(), message: "m".into() },
        ];
        for e in events {
            let line = e.to_line();
            assert_eq!(line.matches('\n').count(), 1, "embedded newlines are escaped");
            assert_eq!(serde_json::from_str::<AgentEvent>(line.trim_end()).unwrap(), e);
        }
    }
}
