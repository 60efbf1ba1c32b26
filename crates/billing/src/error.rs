//! Why a webhook payload could not be understood.

use thiserror::Error;

/// A webhook body that is not the shape its sender documents. The shell answers these with a
/// 400 so the sender's dashboard shows the failure, rather than silently dropping the event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    /// The body is not JSON, or not a JSON object.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A field the event's type requires is absent or null. Holds the dotted path, e.g.
    /// `data.organization.id`.
    #[error("missing field `{0}`")]
    MissingField(String),
    /// A field is present but has the wrong type or an unusable value.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField { field: String, reason: String },
}

impl EventError {
    /// A stable machine-readable code for API error bodies and logs.
    pub fn code(&self) -> &'static str {
        match self {
            EventError::MalformedJson(_) => "malformed_json",
            EventError::MissingField(_) => "missing_field",
            EventError::InvalidField { .. } => "invalid_field",
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        EventError::InvalidField { field: field.into(), reason: reason.into() }
    }
}
