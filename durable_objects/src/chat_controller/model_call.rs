//! One model call: the agents worker's event stream followed to its end. A turn's deltas are
//! broadcast as they arrive (a summary's are not: it is not a reply); the call ends with a
//! final reply, the tool calls the model asked for, or a failure.

use super::{sockets, ChatController};
use domain::agent_protocol::{AgentEvent, TurnRequest, TURN_PATH};
use domain::events::{ChatEvent, PartialReply};
use domain::ndjson::LineBuffer;
use futures::StreamExt;
use runtime_support::timeout;
use std::time::Duration;
use worker::*;

/// Longest wait for the agents worker's response headers, then between two chunks.
const AGENT_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// What a model call produced.
pub(super) enum ModelOutcome {
    /// The final answer.
    Reply { content: String, model: String },
    /// Tool calls to make before asking the model again: `(call id, tool name, arguments)`.
    ToolCalls { calls: Vec<(String, String, String)>, model: String },
}

/// A model call that failed, with a stable code.
pub(super) struct Failure {
    pub code: &'static str,
    pub message: String,
}

pub(super) fn failure(code: &'static str, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into() }
}

/// Who sees a model call's text as it streams.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    /// A turn's reply: every delta goes to the chat's clients and into the partial reply that
    /// a client connecting mid-turn is given.
    Clients,
    /// Internal work (a rolling summary): nothing is shown while it streams.
    Nobody,
}

struct StreamState {
    audience: Audience,
    tokens: (i64, i64),
    calls: Vec<(String, String, String)>,
}

impl ChatController {
    /// Calls the agents worker and follows its event stream to the end. Returns the outcome
    /// and the tokens the call used (also on failure, when the provider reported them).
    pub(super) async fn call_agent(&self, request: &TurnRequest, audience: Audience) -> (std::result::Result<ModelOutcome, Failure>, (i64, i64)) {
        let mut state = StreamState { audience, tokens: (0, 0), calls: Vec::new() };
        let outcome = self.follow_agent(request, &mut state).await;
        (outcome, state.tokens)
    }

    async fn follow_agent(&self, request: &TurnRequest, state: &mut StreamState) -> std::result::Result<ModelOutcome, Failure> {
        let agents = self.env.service("AGENTS").map_err(|e| failure("agents_unavailable", e.to_string()))?;
        let body = serde_json::to_string(request).map_err(|e| failure("internal", e.to_string()))?;
        let headers = Headers::new();
        let _ = headers.set("Content-Type", "application/json");
        runtime_support::trace::pass_on(&headers, self.trace.borrow().as_deref());
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let req = Request::new_with_init(&format!("https://agents{TURN_PATH}"), &init).map_err(|e| failure("internal", e.to_string()))?;
        let mut response = match timeout(agents.fetch_request(req), AGENT_IDLE_TIMEOUT).await {
            Some(Ok(r)) => r,
            Some(Err(e)) => return Err(failure("agents_unavailable", e.to_string())),
            None => return Err(failure("agents_timeout", "the agents worker did not answer in time")),
        };
        if response.status_code() != 200 {
            let text = response.text().await.unwrap_or_default();
            return Err(failure("agents_error", format!("agents worker answered {}: {}", response.status_code(), text.chars().take(200).collect::<String>())));
        }
        let mut stream = response.stream().map_err(|e| failure("agents_error", e.to_string()))?;
        let mut lines = LineBuffer::new();
        loop {
            let chunk = match timeout(stream.next(), AGENT_IDLE_TIMEOUT).await {
                Some(Some(Ok(bytes))) => bytes,
                Some(Some(Err(e))) => return Err(failure("agents_stream_failed", e.to_string())),
                Some(None) => return Err(failure("agents_stream_ended", "the agent's stream ended without a final message")),
                None => return Err(failure("agents_timeout", "the agent's stream stalled")),
            };
            for line in lines.push(&chunk) {
                if line.trim().is_empty() {
                    continue;
                }
                let event: AgentEvent = serde_json::from_str(&line).map_err(|e| failure("agents_protocol", e.to_string()))?;
                if let Some(end) = self.on_agent_event(&request.turn_id, state, event) {
                    return end;
                }
            }
        }
    }

    /// Applies one agent event; returns the outcome when the event is terminal.
    fn on_agent_event(&self, turn_id: &str, state: &mut StreamState, event: AgentEvent) -> Option<std::result::Result<ModelOutcome, Failure>> {
        match event {
            AgentEvent::Delta { .. } if state.audience == Audience::Nobody => None,
            AgentEvent::Delta { text } => {
                let index = {
                    let mut partial = self.partial.borrow_mut();
                    let p = partial.get_or_insert_with(|| PartialReply { turn_id: turn_id.to_owned(), deltas: 0, text: String::new() });
                    p.text.push_str(&text);
                    p.deltas += 1;
                    p.deltas - 1
                };
                sockets::broadcast(&self.state, &ChatEvent::Delta { turn_id: turn_id.to_owned(), index, text });
                None
            }
            AgentEvent::ToolCall { id, name, arguments } => {
                state.calls.push((id, name, arguments));
                None
            }
            AgentEvent::Usage { input_tokens, output_tokens } => {
                state.tokens = (input_tokens as i64, output_tokens as i64);
                None
            }
            AgentEvent::Done { content, model, .. } => Some(Ok(if state.calls.is_empty() {
                ModelOutcome::Reply { content, model }
            } else {
                ModelOutcome::ToolCalls { calls: std::mem::take(&mut state.calls), model }
            })),
            AgentEvent::Error { code, message } => Some(Err(Failure { code: agent_error_code(&code), message: format!("{code}: {message}") })),
        }
    }
}

/// Error codes from the agents worker are relayed under one stable turn error code family.
fn agent_error_code(code: &str) -> &'static str {
    match code {
        "provider_timeout" => "provider_timeout",
        "provider_rate_limited" => "provider_rate_limited",
        "provider_malformed_stream" => "provider_malformed_stream",
        // The agents worker's circuit to the provider is open: failed fast, nothing was sent.
        "provider_unavailable" => "provider_unavailable",
        _ => "provider_error",
    }
}
