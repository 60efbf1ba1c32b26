//! Turning the data payloads of a chat-completions SSE stream into agent events.

use domain::agent_protocol::AgentEvent;
use serde::Deserialize;
use std::collections::BTreeMap;
use thiserror::Error;

/// Why a stream could not be read to a proper end.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StreamError {
    /// A payload was not the JSON chunk shape the API documents.
    #[error("malformed stream chunk: {0}")]
    Malformed(String),
    /// The stream ended before `[DONE]` or a finish reason.
    #[error("the stream ended before the completion finished")]
    Truncated,
    /// The provider reported an error inside the stream.
    #[error("provider error: {0}")]
    Provider(String),
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    index: u32,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Default)]
struct PartialToolCall {
    id: String,
    name: String,
    arguments: String,
}

/// Accumulates one streamed completion. Text deltas are passed on as they arrive; tool calls,
/// whose names and arguments arrive in fragments keyed by index, are emitted whole at the end.
#[derive(Default)]
pub struct StreamAccumulator {
    text: String,
    model: Option<String>,
    finish_reason: Option<String>,
    usage: Option<(u64, u64)>,
    tool_calls: BTreeMap<u32, PartialToolCall>,
    done: bool,
}

impl StreamAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether any text has been passed on (after which a retry would duplicate output).
    pub fn has_output(&self) -> bool {
        !self.text.is_empty() || !self.tool_calls.is_empty()
    }

    /// Consumes one SSE data payload.
    pub fn on_data(&mut self, data: &str) -> Result<Vec<AgentEvent>, StreamError> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        if self.done {
            return Err(StreamError::Malformed("data after [DONE]".into()));
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| StreamError::Malformed(e.to_string()))?;
        if let Some(err) = chunk.error {
            let message = err.get("message").and_then(|m| m.as_str()).map(str::to_owned).unwrap_or_else(|| err.to_string());
            return Err(StreamError::Provider(message));
        }
        if chunk.model.is_some() {
            self.model = chunk.model;
        }
        if let Some(u) = chunk.usage {
            self.usage = Some((u.prompt_tokens, u.completion_tokens));
        }
        let mut events = Vec::new();
        for choice in chunk.choices {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    self.text.push_str(&text);
                    events.push(AgentEvent::Delta { text });
                }
                for call in delta.tool_calls {
                    let slot = self.tool_calls.entry(call.index).or_default();
                    if let Some(id) = call.id {
                        slot.id = id;
                    }
                    if let Some(f) = call.function {
                        slot.name.push_str(f.name.as_deref().unwrap_or(""));
                        slot.arguments.push_str(f.arguments.as_deref().unwrap_or(""));
                    }
                }
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(events)
    }

    /// Ends the stream: the assembled tool calls, the usage and the final message.
    pub fn finish(self, requested_model: &str) -> Result<Vec<AgentEvent>, StreamError> {
        if !self.done && self.finish_reason.is_none() {
            return Err(StreamError::Truncated);
        }
        let mut events = Vec::new();
        for (_, call) in self.tool_calls {
            if call.id.is_empty() || call.name.is_empty() {
                return Err(StreamError::Malformed("tool call without id or name".into()));
            }
            events.push(AgentEvent::ToolCall { id: call.id, name: call.name, arguments: call.arguments });
        }
        if let Some((input_tokens, output_tokens)) = self.usage {
            events.push(AgentEvent::Usage { input_tokens, output_tokens });
        }
        events.push(AgentEvent::Done {
            content: self.text,
            model: self.model.unwrap_or_else(|| requested_model.to_owned()),
            finish_reason: self.finish_reason.unwrap_or_else(|| "stop".to_owned()),
        });
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(payloads: &[&str]) -> Result<Vec<AgentEvent>, StreamError> {
        let mut acc = StreamAccumulator::new();
        let mut out = Vec::new();
        for p in payloads {
            out.extend(acc.on_data(p)?);
        }
        out.extend(acc.finish("requested")?);
        Ok(out)
    }

    #[test]
    fn text_stream_with_usage() {
        let events = run(&[
            r#"{"model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            r#"{"model":"gpt-x","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
            r#"{"model":"gpt-x","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
            r#"{"model":"gpt-x","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
            "[DONE]",
        ]).unwrap();
        assert_eq!(events, vec![
            AgentEvent::Delta { text: "Hel".into() },
            AgentEvent::Delta { text: "lo".into() },
            AgentEvent::Usage { input_tokens: 9, output_tokens: 2 },
            AgentEvent::Done { content: "Hello".into(), model: "gpt-x".into(), finish_reason: "stop".into() },
        ]);
    }

    #[test]
    fn tool_calls_are_assembled_from_fragments_in_index_order() {
        let events = run(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"second","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"first","arguments":"{\"q\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"x\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ]).unwrap();
        assert_eq!(events[0], AgentEvent::ToolCall { id: "call_a".into(), name: "first".into(), arguments: "{\"q\":\"x\"}".into() });
        assert_eq!(events[1], AgentEvent::ToolCall { id: "call_b".into(), name: "second".into(), arguments: "".into() });
        assert!(matches!(&events[2], AgentEvent::Done { finish_reason, model, .. } if finish_reason == "tool_calls" && model == "requested"));
    }

    #[test]
    fn malformed_truncated_and_error_streams() {
        assert!(matches!(run(&["{not json"]), Err(StreamError::Malformed(_))));
        assert_eq!(run(&[r#"{"choices":[{"delta":{"content":"a"}}]}"#]).unwrap_err(), StreamError::Truncated);
        assert_eq!(run(&[r#"{"error":{"message":"overloaded"}}"#]).unwrap_err(), StreamError::Provider("overloaded".into()));
        assert!(matches!(run(&["[DONE]", r#"{"choices":[]}"#]), Err(StreamError::Malformed(_))));
    }
}
