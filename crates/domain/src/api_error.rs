//! The errors every API route can return, with stable machine-readable codes.
//!
//! The shells map each variant to an HTTP status in exactly one place; the code and message
//! here are what clients see in `{ "error": { "code", "message" } }`.

use thiserror::Error;

/// A request the API refuses, or a dependency it could not reach.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// The body is not syntactically valid JSON (or not a JSON object).
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// A required field is absent.
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
    /// A field has the wrong JSON type or an invalid value.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: String },
    /// A query parameter is malformed or out of range.
    #[error("invalid query parameter `{param}`: {reason}")]
    InvalidQuery { param: &'static str, reason: String },
    /// The body (or a field in it) exceeds its size limit.
    #[error("{what} exceeds the limit of {limit} bytes")]
    PayloadTooLarge { what: &'static str, limit: usize },
    /// The request's content type is not the one the route takes.
    #[error("unsupported content type `{0}`; send {1}")]
    UnsupportedMediaType(String, &'static str),
    /// The chat does not exist for this org (also returned for other orgs' chats).
    #[error("unknown chat")]
    UnknownChat,
    /// The lead does not exist in this org's workspace (also returned for other orgs' leads).
    #[error("unknown lead")]
    UnknownLead,
    /// The draft does not exist in this org's workspace.
    #[error("unknown draft")]
    UnknownDraft,
    /// The change is not allowed from the object's current state (for example a lead stage
    /// transition the table refuses).
    #[error("{0}")]
    InvalidTransition(String),
    /// No route matches the path.
    #[error("no such route")]
    NotFound,
    /// The path exists but not with this method.
    #[error("method not allowed; allowed: {allowed}")]
    MethodNotAllowed { allowed: String },
    /// The WebSocket route was called without an upgrade.
    #[error("this route needs a WebSocket upgrade")]
    UpgradeRequired,
    /// A signed webhook's signature did not verify; `code` names why.
    #[error("webhook signature refused: {message}")]
    BadSignature { code: &'static str, message: String },
    /// No identity could be established for the request.
    #[error("authentication required")]
    Unauthenticated,
    /// A dependency (D1, R2, a Durable Object, the agents worker) failed.
    #[error("{dependency} is unavailable")]
    Unavailable { dependency: &'static str },
}

impl ApiError {
    /// The stable code clients can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::MissingField(_) => "missing_field",
            ApiError::InvalidField { .. } => "invalid_field",
            ApiError::InvalidQuery { .. } => "invalid_query",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(..) => "unsupported_media_type",
            ApiError::UnknownChat => "unknown_chat",
            ApiError::UnknownLead => "unknown_lead",
            ApiError::UnknownDraft => "unknown_draft",
            ApiError::InvalidTransition(_) => "invalid_transition",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::UpgradeRequired => "upgrade_required",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::BadSignature { code, .. } => code,
            ApiError::Unavailable { .. } => "unavailable",
        }
    }

    /// The HTTP status that goes with the error. Part of the API contract (`docs/openapi.yaml`),
    /// so both shells use this one table.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::MalformedJson(_)
            | ApiError::MissingField(_)
            | ApiError::InvalidField { .. }
            | ApiError::InvalidQuery { .. } => 400,
            ApiError::Unauthenticated | ApiError::BadSignature { .. } => 401,
            ApiError::UnknownChat | ApiError::UnknownLead | ApiError::UnknownDraft | ApiError::NotFound => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::InvalidTransition(_) => 409,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType(..) => 415,
            ApiError::UpgradeRequired => 426,
            ApiError::Unavailable { .. } => 503,
        }
    }

    /// The JSON error body `{ "error": { "code", "message" } }`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } })
    }

    /// Reads an error body produced by [`ApiError::body`] back into its code and message,
    /// so a shell can relay an error from a Durable Object unchanged.
    pub fn parse_body(body: &str) -> Option<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        let e = v.get("error")?;
        Some((
            e.get("code")?.as_str()?.to_owned(),
            e.get("message")?.as_str()?.to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_through_parse_body() {
        let err = ApiError::InvalidField { field: "content", reason: "must not be empty".into() };
        let text = err.body().to_string();
        let (code, message) = ApiError::parse_body(&text).unwrap();
        assert_eq!(code, "invalid_field");
        assert_eq!(message, "invalid field `content`: must not be empty");
    }

    #[test]
    fn parse_body_rejects_other_shapes() {
        assert_eq!(ApiError::parse_body("{}"), None);
        assert_eq!(ApiError::parse_body("not json"), None);
        assert_eq!(ApiError::parse_body(r#"{"error":{"code":1}}"#), None);
    }
}
