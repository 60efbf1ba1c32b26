//! Org secrets as the API sees them: what a create request must hold, how a grant scopes a
//! secret to the org or to named chats, and the associated data that binds a ciphertext to its
//! org and name. Encryption itself happens in the shell (WebCrypto AES-256-GCM); a value is
//! never returned once written.

use crate::ids::{ChatId, OrgId, SecretName};
use crate::json_fields::{parse_object, required_str};
use crate::ApiError;
use serde::Serialize;
use serde_json::Value;

/// The largest secret value accepted, in bytes.
pub const MAX_VALUE_BYTES: usize = 4096;
/// The most chats one grant may name.
pub const MAX_GRANTED_CHATS: usize = 100;
/// The largest create request accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Who may use a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Every chat of the org.
    Org,
    /// Only these chats.
    Chats(Vec<ChatId>),
}

impl Grant {
    /// The `chat_id` column of each grant row: empty for the whole org.
    pub fn rows(&self) -> Vec<String> {
        match self {
            Grant::Org => vec![String::new()],
            Grant::Chats(chats) => chats.iter().map(|c| c.as_str().to_owned()).collect(),
        }
    }

    /// Rebuilds a grant from its rows.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a str>) -> Grant {
        let mut chats = Vec::new();
        for row in rows {
            if row.is_empty() {
                return Grant::Org;
            }
            if let Some(chat) = ChatId::parse(row) {
                chats.push(chat);
            }
        }
        Grant::Chats(chats)
    }

    /// Whether a turn of `chat` may receive the secret.
    pub fn covers(&self, chat: &ChatId) -> bool {
        match self {
            Grant::Org => true,
            Grant::Chats(chats) => chats.contains(chat),
        }
    }

    /// The grant as clients see it.
    pub fn view(&self) -> GrantView {
        match self {
            Grant::Org => GrantView { scope: "org", chat_ids: Vec::new() },
            Grant::Chats(chats) => GrantView { scope: "chats", chat_ids: chats.iter().map(|c| c.as_str().to_owned()).collect() },
        }
    }
}

/// `{ "scope": "org" }` or `{ "scope": "chats", "chat_ids": [...] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantView {
    pub scope: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chat_ids: Vec<String>,
}

/// A validated create (or replace) request.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSecret {
    pub name: SecretName,
    pub value: String,
    pub grant: Grant,
}

// The value stays out of debug output, so it cannot reach a log line by accident.
impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret").field("name", &self.name).field("value", &"<redacted>").field("grant", &self.grant).finish()
    }
}

impl NewSecret {
    /// Validates `{ "name", "value", "grant" }`.
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
        let obj = parse_object(body)?;
        let name = SecretName::parse(required_str(&obj, "name")?).ok_or_else(|| ApiError::InvalidField {
            field: "name",
            reason: "must be 1-64 letters, digits and `_`, starting with a letter".into(),
        })?;
        let value = required_str(&obj, "value")?;
        if value.is_empty() {
            return Err(ApiError::InvalidField { field: "value", reason: "must not be empty".into() });
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "value", limit: MAX_VALUE_BYTES });
        }
        let grant = parse_grant(obj.get("grant"))?;
        Ok(NewSecret { name, value: value.to_owned(), grant })
    }
}

fn parse_grant(value: Option<&Value>) -> Result<Grant, ApiError> {
    let invalid = |reason: &str| ApiError::InvalidField { field: "grant", reason: reason.into() };
    let obj = match value {
        None | Some(Value::Null) => return Err(ApiError::MissingField("grant")),
        Some(Value::Object(obj)) => obj,
        Some(_) => return Err(invalid("must be an object")),
    };
    match obj.get("scope").and_then(Value::as_str) {
        Some("org") => Ok(Grant::Org),
        Some("chats") => {
            let ids = obj.get("chat_ids").and_then(Value::as_array).ok_or_else(|| invalid("`chat_ids` must be an array of chat ids"))?;
            if ids.is_empty() || ids.len() > MAX_GRANTED_CHATS {
                return Err(invalid(&format!("`chat_ids` must name 1-{MAX_GRANTED_CHATS} chats")));
            }
            let mut chats = Vec::new();
            for id in ids {
                let chat = id.as_str().and_then(ChatId::parse).ok_or_else(|| invalid("`chat_ids` must hold chat ids"))?;
                if !chats.contains(&chat) {
                    chats.push(chat);
                }
            }
            Ok(Grant::Chats(chats))
        }
        _ => Err(invalid("`scope` must be `org` or `chats`")),
    }
}

/// The AES-GCM associated data for a secret: a ciphertext decrypts only under the org and
/// name it was written for, so a row copied to another org or renamed is useless.
pub fn associated_data(org: &OrgId, name: &SecretName) -> Vec<u8> {
    format!("parley-secret/v1/{}/{}", org.as_str(), name.as_str()).into_bytes()
}

/// A secret as listed: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretView {
    pub name: String,
    pub grant: GrantView,
    pub created_by: String,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: &str = "chat_0123456789abcdefghjkmnpqrs";

    #[test]
    fn a_valid_request_and_every_way_to_get_it_wrong() {
        let ok = NewSecret::from_body(br#"{"name":"CRM_KEY","value":"s3cr3t","grant":{"scope":"org"}}"#).unwrap();
        assert_eq!(ok.grant, Grant::Org);
        let chats = NewSecret::from_body(format!(r#"{{"name":"K","value":"v","grant":{{"scope":"chats","chat_ids":["{CHAT}","{CHAT}"]}}}}"#).as_bytes()).unwrap();
        assert_eq!(chats.grant.rows(), vec![CHAT.to_owned()], "duplicates collapse");
        for (body, code) in [
            (r#"{"value":"v","grant":{"scope":"org"}}"#, "missing_field"),
            (r#"{"name":"1abc","value":"v","grant":{"scope":"org"}}"#, "invalid_field"),
            (r#"{"name":"has-dash","value":"v","grant":{"scope":"org"}}"#, "invalid_field"),
            (r#"{"name":"K","value":"","grant":{"scope":"org"}}"#, "invalid_field"),
            (r#"{"name":"K","value":7,"grant":{"scope":"org"}}"#, "invalid_field"),
            (r#"{"name":"K","value":"v"}"#, "missing_field"),
            (r#"{"name":"K","value":"v","grant":{"scope":"everyone"}}"#, "invalid_field"),
            (r#"{"name":"K","value":"v","grant":{"scope":"chats","chat_ids":[]}}"#, "invalid_field"),
            (r#"{"name":"K","value":"v","grant":{"scope":"chats","chat_ids":["nope"]}}"#, "invalid_field"),
            ("{", "malformed_json"),
        ] {
            assert_eq!(NewSecret::from_body(body.as_bytes()).unwrap_err().code(), code, "{body}");
        }
        let big = format!(r#"{{"name":"K","value":"{}","grant":{{"scope":"org"}}}}"#, "x".repeat(MAX_VALUE_BYTES + 1));
        assert_eq!(NewSecret::from_body(big.as_bytes()).unwrap_err().code(), "payload_too_large");
    }

    #[test]
    fn the_value_never_reaches_debug_output() {
        let s = NewSecret::from_body(br#"{"name":"K","value":"hunter2","grant":{"scope":"org"}}"#).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn grants_round_trip_through_rows_and_cover_only_their_chats() {
        let chat = ChatId::parse(CHAT).unwrap();
        let other = ChatId::parse("chat_zzzzzzzzzzzzzzzzzzzzzzzzzz").unwrap();
        assert!(Grant::Org.covers(&chat));
        let g = Grant::Chats(vec![chat.clone()]);
        assert!(g.covers(&chat) && !g.covers(&other));
        assert_eq!(Grant::from_rows(g.rows().iter().map(String::as_str)), g);
        assert_eq!(Grant::from_rows([""]), Grant::Org);
        assert_eq!(Grant::from_rows(std::iter::empty()), Grant::Chats(vec![]), "no rows: no chat");
    }

    #[test]
    fn associated_data_binds_org_and_name() {
        let a = associated_data(&OrgId::parse("org_a").unwrap(), &SecretName::parse("K").unwrap());
        let b = associated_data(&OrgId::parse("org_b").unwrap(), &SecretName::parse("K").unwrap());
        assert_ne!(a, b);
    }
}
