//! What a Chat Controller sends to connected browsers over its WebSockets.
//!
//! Persisted messages carry their sequence number, so a client that reconnects with the last
//! sequence it saw can be sent exactly what it missed. Streamed deltas are not persisted; a
//! reconnecting client gets the text streamed so far in [`ChatEvent::Hello`] instead.

use crate::message::MessageView;
use crate::tool_steps::ApprovalView;
use crate::turn::TurnView;
use serde::{Deserialize, Serialize};

/// One WebSocket frame from the server, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// Sent first on every connection, after the missed messages have been replayed.
    Hello {
        /// The highest sequence number in the log.
        last_seq: i64,
        /// Turns that are queued or running.
        active_turns: Vec<TurnView>,
        /// The text streamed so far by the running turn, if any.
        partial: Option<PartialReply>,
    },
    /// A message was stored in the log.
    Message { message: MessageView },
    /// A turn changed state.
    Turn { turn: TurnView },
    /// A piece of the running turn's reply; `index` counts from 0 within the turn.
    Delta { turn_id: String, index: u32, text: String },
    /// A tool call of a turn changed state (started, finished, waiting for a person...), with a
    /// short summary of what it did.
    Tool { turn_id: String, step: i64, tool: String, state: String, summary: Option<String> },
    /// An approval was requested or decided.
    Approval { approval: ApprovalView },
}

/// The reply text streamed so far by a running turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialReply {
    pub turn_id: String,
    /// Number of deltas the text covers; the next delta has this index.
    pub deltas: u32,
    pub text: String,
}

impl ChatEvent {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("chat events always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_type() {
        let e = ChatEvent::Delta { turn_id: "turn_1".into(), index: 0, text: "Hi".into() };
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["type"], "delta");
        assert_eq!(serde_json::from_value::<ChatEvent>(v).unwrap(), e);
    }
}
