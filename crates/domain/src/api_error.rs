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
    /// A session token or ticket was presented and refused; `code` names why.
    #[error("{message}")]
    AuthRefused { code: &'static str, message: String },
    /// The caller is known but may not do this (for example a member calling an admin route).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The org's subscription or seats do not cover this; `code` names why.
    #[error("{message}")]
    PaymentRequired { code: &'static str, message: String },
    /// A plan quota is used up; retry after the given number of seconds.
    #[error("the {quota} quota of {limit} is used up; retry after {retry_after_secs} s")]
    QuotaExceeded { quota: &'static str, limit: u64, retry_after_secs: u64 },
    /// The caller (`scope` "user") or their org ("org") made more requests this minute than
    /// the API's rate limit allows; retry after the given number of seconds.
    #[error("the {scope} rate limit of {limit} requests per minute is reached; retry after {retry_after_secs} s")]
    RateLimited { scope: &'static str, limit: u64, retry_after_secs: u64 },
    /// A webhook's payload could not be understood (after its signature verified).
    #[error("webhook payload refused: {message}")]
    BadWebhookPayload { code: &'static str, message: String },
    /// The named secret does not exist in this org.
    #[error("unknown secret")]
    UnknownSecret,
    /// The worker is missing configuration it needs for this route (named, never its value).
    #[error("the server is not configured for this: {0} is missing or invalid")]
    Misconfigured(&'static str),
    /// A dependency (D1, R2, a Durable Object, the agents worker) failed.
    #[error("{dependency} is unavailable")]
    Unavailable { dependency: &'static str },
    /// The request is well formed but cannot be carried out as it stands (a backup that fails
    /// its checks, a snapshot from a newer schema); the code says why.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// The target is busy with something that must finish first (a restore while a turn runs).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
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
            ApiError::BadSignature { code, .. }
            | ApiError::AuthRefused { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::PaymentRequired { code, .. }
            | ApiError::BadWebhookPayload { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Conflict { code, .. } => code,
            ApiError::QuotaExceeded { .. } => "quota_exceeded",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::UnknownSecret => "unknown_secret",
            ApiError::Misconfigured(_) => "misconfigured",
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
            | ApiError::InvalidQuery { .. }
            | ApiError::BadWebhookPayload { .. } => 400,
            ApiError::Unauthenticated | ApiError::BadSignature { .. } | ApiError::AuthRefused { .. } => 401,
            ApiError::PaymentRequired { .. } => 402,
            ApiError::Forbidden { .. } => 403,
            ApiError::UnknownChat | ApiError::UnknownLead | ApiError::UnknownDraft | ApiError::UnknownSecret | ApiError::NotFound => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::InvalidTransition(_) | ApiError::Conflict { .. } => 409,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType(..) => 415,
            ApiError::Unprocessable { .. } => 422,
            ApiError::UpgradeRequired => 426,
            ApiError::QuotaExceeded { .. } | ApiError::RateLimited { .. } => 429,
            ApiError::Unavailable { .. } | ApiError::Misconfigured(_) => 503,
        }
    }

    /// The `Retry-After` seconds that go with the error, if any.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::QuotaExceeded { retry_after_secs, .. } | ApiError::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The headers the error's status calls for: `Retry-After` with a 429, and `Allow` (the
    /// methods the path does serve) with a 405, as HTTP requires.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::MethodNotAllowed { allowed } => vec![("Allow", allowed.clone())],
            _ => self.retry_after().map(|secs| ("Retry-After", secs.to_string())).into_iter().collect(),
        }
    }

    /// The JSON error body `{ "error": { "code", "message" } }`; a quota error also names the
    /// quota, so clients need not parse the message.
    pub fn body(&self) -> serde_json::Value {
        let mut error = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        if let ApiError::QuotaExceeded { quota, limit, retry_after_secs } = self {
            error["quota"] = (*quota).into();
            error["limit"] = (*limit).into();
            error["retry_after"] = (*retry_after_secs).into();
        }
        if let ApiError::RateLimited { scope, limit, retry_after_secs } = self {
            error["scope"] = (*scope).into();
            error["limit"] = (*limit).into();
            error["retry_after"] = (*retry_after_secs).into();
        }
        serde_json::json!({ "error": error })
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
    fn a_rate_limit_is_429_with_retry_after_and_its_scope() {
        let err = ApiError::RateLimited { scope: "user", limit: 600, retry_after_secs: 12 };
        assert_eq!((err.status(), err.code(), err.retry_after()), (429, "rate_limited", Some(12)));
        assert_eq!(err.headers(), vec![("Retry-After", "12".to_owned())]);
        assert_eq!(ApiError::MethodNotAllowed { allowed: "GET, POST".into() }.headers(), vec![("Allow", "GET, POST".to_owned())]);
        assert!(ApiError::UnknownChat.headers().is_empty());
        let body = err.body();
        assert_eq!(body["error"]["scope"], "user");
        assert_eq!(body["error"]["limit"], 600);
        assert_eq!(body["error"]["retry_after"], 12);
    }

    #[test]
    fn parse_body_rejects_other_shapes() {
        assert_eq!(ApiError::parse_body("{}"), None);
        assert_eq!(ApiError::parse_body("not json"), None);
        assert_eq!(ApiError::parse_body(r#"{"error":{"code":1}}"#), None);
    }
}
