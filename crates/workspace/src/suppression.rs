//! The suppression list: contacts not to be contacted, and why. Only an opt-out is permanent;
//! a bounce, a complaint or a manual suppression may carry an expiry and may be lifted.

use domain::json_fields::{optional_str, parse_object, required_str};
use domain::ApiError;
use serde_json::Value;

/// "Until further notice": the suppressed-until time of a suppression without an expiry.
pub const INDEFINITE: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/// Why a contact is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    OptOut,
    Bounced,
    Complaint,
    Manual,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::OptOut => "opt_out",
            Reason::Bounced => "bounced",
            Reason::Complaint => "complaint",
            Reason::Manual => "manual",
        }
    }

    pub fn parse(raw: &str) -> Option<Reason> {
        [Reason::OptOut, Reason::Bounced, Reason::Complaint, Reason::Manual].into_iter().find(|r| r.as_str() == raw)
    }
}

/// A validated `POST /v1/leads/{id}/suppressions` body: `{ "reason", "until"?, "note"? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSuppression {
    pub reason: Reason,
    /// When it ends; `None` is indefinite (and is the only choice for an opt-out).
    pub until: Option<i64>,
    pub note: Option<String>,
}

impl NewSuppression {
    pub fn from_body(body: &[u8], now: i64) -> Result<Self, ApiError> {
        let obj = parse_object(body)?;
        let raw = required_str(&obj, "reason")?;
        let reason = Reason::parse(raw).ok_or(ApiError::InvalidField { field: "reason", reason: "must be opt_out, bounced, complaint or manual".into() })?;
        let until = match obj.get("until") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().filter(|t| *t > now).ok_or(ApiError::InvalidField { field: "until", reason: "must be a future time in milliseconds since the epoch".into() })?),
        };
        if reason == Reason::OptOut && until.is_some() {
            return Err(ApiError::InvalidField { field: "until", reason: "an opt-out is permanent and has no expiry".into() });
        }
        let note = optional_str(&obj, "note")?.map(|n| n.chars().take(500).collect());
        Ok(NewSuppression { reason, until, note })
    }

    /// The `suppressed_until` this suppression sets.
    pub fn suppressed_until(&self) -> i64 {
        self.until.unwrap_or(INDEFINITE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_reasons_and_expiries() {
        let s = NewSuppression::from_body(br#"{"reason":"bounced","until":2000}"#, 1000).unwrap();
        assert_eq!(s.suppressed_until(), 2000);
        assert_eq!(NewSuppression::from_body(br#"{"reason":"manual"}"#, 0).unwrap().suppressed_until(), INDEFINITE);
        assert!(NewSuppression::from_body(br#"{"reason":"opt_out"}"#, 0).is_ok());
        assert_eq!(NewSuppression::from_body(br#"{"reason":"opt_out","until":5}"#, 0).unwrap_err().code(), "invalid_field");
        assert_eq!(NewSuppression::from_body(br#"{"reason":"bounced","until":500}"#, 1000).unwrap_err().code(), "invalid_field");
        assert_eq!(NewSuppression::from_body(br#"{"reason":"annoyed"}"#, 0).unwrap_err().code(), "invalid_field");
        assert_eq!(NewSuppression::from_body(br#"{}"#, 0).unwrap_err().code(), "missing_field");
    }
}
