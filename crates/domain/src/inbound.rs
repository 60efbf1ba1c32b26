//! A contact's reply reported by a messaging provider through the signed inbound webhook.

use crate::ids::{ClientId, LeadId, OrgId};
use crate::json_fields::{parse_object, required_str};
use crate::message::{MAX_BODY_BYTES, MAX_CONTENT_BYTES};
use crate::ApiError;

/// A validated `POST /v1/inbound` body: `{ "org_id", "lead_id", "message_id", "content" }`.
/// The provider's `message_id` makes redeliveries idempotent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundReply {
    pub org: OrgId,
    pub lead: LeadId,
    pub message_id: ClientId,
    pub content: String,
}

impl InboundReply {
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
        let obj = parse_object(body)?;
        let field = |name: &'static str, reason: &str| ApiError::InvalidField { field: name, reason: reason.to_owned() };
        let org = OrgId::parse(required_str(&obj, "org_id")?).ok_or(field("org_id", "must be an org id"))?;
        let lead = LeadId::parse(required_str(&obj, "lead_id")?).ok_or(field("lead_id", "must be a lead id"))?;
        let message_id = ClientId::parse(required_str(&obj, "message_id")?).ok_or(field("message_id", "must be 1-64 letters, digits, `_` or `-`"))?;
        let content = required_str(&obj, "content")?;
        if content.len() > MAX_CONTENT_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "content", limit: MAX_CONTENT_BYTES });
        }
        if content.trim().is_empty() {
            return Err(field("content", "must not be empty"));
        }
        Ok(InboundReply { org, lead, message_id, content: content.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_inbound_replies() {
        let ok = br#"{"org_id":"org_demo","lead_id":"lead_0123456789abcdefghjkmnpqrs","message_id":"m-1","content":"STOP"}"#;
        assert_eq!(InboundReply::from_body(ok).unwrap().org.as_str(), "org_demo");
        assert_eq!(InboundReply::from_body(br#"{"org_id":"org/x","lead_id":"lead_0123456789abcdefghjkmnpqrs","message_id":"m","content":"x"}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(InboundReply::from_body(br#"{"org_id":"o","lead_id":"nope","message_id":"m","content":"x"}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(InboundReply::from_body(br#"{"org_id":"o"}"#).unwrap_err().code(), "missing_field");
    }
}
