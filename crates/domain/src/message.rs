//! Chat messages: what a client may post, and what the log stores and shows.

use crate::ids::ClientId;
use crate::json_fields::{parse_object, required_str};
use crate::ApiError;
use serde::{Deserialize, Serialize};

/// Largest message text accepted from a client, in UTF-8 bytes.
pub const MAX_CONTENT_BYTES: usize = 16 * 1024;
/// Largest request body accepted by any JSON route, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest file accepted by an import route (CSV), in bytes.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            "system" => Some(Role::System),
            _ => None,
        }
    }
}

/// A validated message posted by a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUserMessage {
    pub client_id: ClientId,
    pub content: String,
}

impl NewUserMessage {
    /// Validates a `POST /v1/chats/{id}/messages` body: `{ "client_id": str, "content": str }`.
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
        let obj = parse_object(body)?;
        let client_id = required_str(&obj, "client_id")?;
        let client_id = ClientId::parse(client_id).ok_or_else(|| ApiError::InvalidField {
            field: "client_id",
            reason: format!("must be 1-{} letters, digits, `_` or `-`", ClientId::MAX_LEN),
        })?;
        let content = required_str(&obj, "content")?;
        if content.len() > MAX_CONTENT_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "content", limit: MAX_CONTENT_BYTES });
        }
        if content.trim().is_empty() {
            return Err(ApiError::InvalidField { field: "content", reason: "must not be empty".into() });
        }
        Ok(NewUserMessage { client_id, content: content.to_owned() })
    }

    /// Whether this post, whose client id the chat already holds for a message with
    /// `stored_content`, is a retry of it ([`check_retry`]).
    pub fn check_retry_of(&self, stored_content: &str) -> Result<(), ApiError> {
        check_retry(&self.client_id, stored_content, &self.content)
    }
}

/// Whether a post whose `client_id` is already stored, with `stored_content`, is a retry of it
/// (answered with what was stored) or a different message reusing the id: that is refused with
/// 409 `client_id_conflict`, so a client that reused an id learns its new message was neither
/// stored nor sent, instead of being told it was.
pub fn check_retry(client_id: &ClientId, stored_content: &str, content: &str) -> Result<(), ApiError> {
    if content == stored_content {
        return Ok(());
    }
    Err(client_id_conflict(client_id))
}

/// The refusal of a post that reuses `client_id` for a different message.
pub fn client_id_conflict(client_id: &ClientId) -> ApiError {
    ApiError::Conflict {
        code: "client_id_conflict",
        message: format!("client_id `{}` was already used for a different message", client_id.as_str()),
    }
}

/// A stored message as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// Position in the chat's log: strictly increasing, starting at 1, without gaps.
    pub seq: i64,
    pub role: Role,
    pub content: String,
    /// The client's id for user messages; absent for messages written by the agent.
    pub client_id: Option<String>,
    /// The turn this message started (user) or concluded (assistant).
    pub turn_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_retry_must_repeat_the_stored_message() {
        let post = NewUserMessage::from_body(br#"{"client_id":"c-1","content":"Hello"}"#).unwrap();
        assert_eq!(post.check_retry_of("Hello"), Ok(()));
        let conflict = post.check_retry_of("Hello!").unwrap_err();
        assert_eq!((conflict.status(), conflict.code()), (409, "client_id_conflict"));
        assert!(conflict.to_string().contains("c-1"));
    }

    use super::*;

    fn body(v: serde_json::Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn accepts_a_well_formed_message() {
        let m = NewUserMessage::from_body(&body(serde_json::json!({"client_id": "c-1", "content": "hi"}))).unwrap();
        assert_eq!(m.client_id.as_str(), "c-1");
        assert_eq!(m.content, "hi");
    }

    #[test]
    fn every_bad_input_has_its_own_code() {
        let cases = [
            (b"{\"client_id\":".to_vec(), "malformed_json"),
            (body(serde_json::json!({"content": "hi"})), "missing_field"),
            (body(serde_json::json!({"client_id": "c", "content": 5})), "invalid_field"),
            (body(serde_json::json!({"client_id": "c", "content": "   "})), "invalid_field"),
            (body(serde_json::json!({"client_id": "no spaces", "content": "x"})), "invalid_field"),
            (body(serde_json::json!({"client_id": "c", "content": "x".repeat(MAX_CONTENT_BYTES + 1)})), "payload_too_large"),
            (vec![b' '; MAX_BODY_BYTES + 1], "payload_too_large"),
        ];
        for (input, code) in cases {
            assert_eq!(NewUserMessage::from_body(&input).unwrap_err().code(), code);
        }
    }

    #[test]
    fn content_at_the_limit_is_accepted() {
        let content = "é".repeat(MAX_CONTENT_BYTES / 2);
        let m = NewUserMessage::from_body(&body(serde_json::json!({"client_id": "c", "content": content}))).unwrap();
        assert_eq!(m.content.len(), MAX_CONTENT_BYTES);
    }
}
