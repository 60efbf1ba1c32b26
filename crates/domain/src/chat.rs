//! Chats: creating one, and how it is shown.

use crate::json_fields::{optional_str, parse_object};
use crate::message::MAX_BODY_BYTES;
use crate::ApiError;
use serde::{Deserialize, Serialize};

/// Longest chat title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// Title given to a chat created without one.
pub const DEFAULT_TITLE: &str = "New chat";

/// A validated `POST /v1/chats` body: `{ "title"?: str }`. An empty body is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChat {
    pub title: String,
}

impl NewChat {
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(NewChat { title: DEFAULT_TITLE.to_owned() });
        }
        let obj = parse_object(body)?;
        let title = optional_str(&obj, "title")?.map(str::trim).unwrap_or("");
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(ApiError::InvalidField {
                field: "title",
                reason: format!("must be at most {MAX_TITLE_CHARS} characters"),
            });
        }
        let title = if title.is_empty() { DEFAULT_TITLE } else { title };
        Ok(NewChat { title: title.to_owned() })
    }
}

/// A chat as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatView {
    pub id: String,
    pub title: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_and_blank_title_get_the_default() {
        assert_eq!(NewChat::from_body(b"").unwrap().title, DEFAULT_TITLE);
        assert_eq!(NewChat::from_body(br#"{"title":"  "}"#).unwrap().title, DEFAULT_TITLE);
        assert_eq!(NewChat::from_body(br#"{"title":" Acme "}"#).unwrap().title, "Acme");
    }

    #[test]
    fn bad_titles_are_refused() {
        assert_eq!(NewChat::from_body(br#"{"title":3}"#).unwrap_err().code(), "invalid_field");
        let long = format!(r#"{{"title":"{}"}}"#, "x".repeat(MAX_TITLE_CHARS + 1));
        assert_eq!(NewChat::from_body(long.as_bytes()).unwrap_err().code(), "invalid_field");
        assert_eq!(NewChat::from_body(b"nope").unwrap_err().code(), "malformed_json");
    }
}
