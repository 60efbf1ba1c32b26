//! Where allowed sends go. The outbox channel only records them (the default, and what local
//! runs use); the webhook channel also delivers each one to an org's HTTP endpoint (an email or
//! messaging provider's bridge), signed, with an idempotency key. The send intent is recorded
//! in the same transaction as the policy's decision, before any delivery is tried, so a retry
//! (after a failure or a crash) carries the same key and the receiver never sends twice.

use domain::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The configured channel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Channel {
    /// Record only.
    #[default]
    Outbox,
    /// Record, then deliver to `url`.
    Webhook { url: String },
}

impl Channel {
    /// Validates `{ "kind": "outbox" }` or `{ "kind": "webhook", "url": "https://..." }`. The
    /// egress guard checks the URL again at every delivery.
    pub fn parse(value: &Value) -> Result<Channel, ApiError> {
        let invalid = |reason: &str| ApiError::InvalidField { field: "channel", reason: reason.into() };
        match value.get("kind").and_then(Value::as_str) {
            Some("outbox") => Ok(Channel::Outbox),
            Some("webhook") => {
                let url = value.get("url").and_then(Value::as_str).ok_or_else(|| invalid("a webhook channel needs a `url`"))?.trim();
                let ok = (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2048 && !url.contains(char::is_whitespace);
                if !ok {
                    return Err(invalid("`url` must be an absolute https URL"));
                }
                Ok(Channel::Webhook { url: url.to_owned() })
            }
            _ => Err(invalid("`kind` must be `outbox` or `webhook`")),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Channel::Outbox => "outbox",
            Channel::Webhook { .. } => "webhook",
        }
    }
}

/// Deliveries tried before a send intent is given up (and left for a person to see).
pub const MAX_ATTEMPTS: u32 = 6;

/// When to try again after `attempts` failed deliveries (`None`: give up). Exponential from
/// `base_ms`: base, 4×, 16×, ... capped at six hours.
pub fn retry_after_ms(attempts: u32, base_ms: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 4i64.saturating_pow(attempts.saturating_sub(1));
    Some(base_ms.max(1).saturating_mul(factor).min(6 * 3600 * 1000))
}

/// The idempotency key of a send intent: stable for the intent, different for every intent.
pub fn idempotency_key(org_id: &str, outbox_id: i64) -> String {
    format!("parley:{org_id}:send:{outbox_id}")
}

/// The JSON body a webhook channel receives.
pub fn payload(key: &str, lead_id: &str, to_email: Option<&str>, to_phone: Option<&str>, content: &str, decided_at: i64) -> Value {
    serde_json::json!({
        "idempotency_key": key,
        "lead_id": lead_id,
        "to": { "email": to_email, "phone": to_phone },
        "content": content,
        "decided_at": decided_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channels_are_validated() {
        assert_eq!(Channel::parse(&json!({ "kind": "outbox" })).unwrap(), Channel::Outbox);
        assert_eq!(Channel::parse(&json!({ "kind": "webhook", "url": "https://hooks.example.com/send" })).unwrap().name(), "webhook");
        for bad in [json!({}), json!({ "kind": "sms" }), json!({ "kind": "webhook" }), json!({ "kind": "webhook", "url": "ftp://x" }), json!({ "kind": "webhook", "url": "https://a b" })] {
            assert_eq!(Channel::parse(&bad).unwrap_err().code(), "invalid_field", "{bad}");
        }
    }

    #[test]
    fn retries_back_off_then_give_up() {
        assert_eq!(retry_after_ms(1, 1000), Some(1000));
        assert_eq!(retry_after_ms(2, 1000), Some(4000));
        assert_eq!(retry_after_ms(3, 1000), Some(16_000));
        assert_eq!(retry_after_ms(5, 30_000 * 1000), Some(6 * 3600 * 1000), "capped");
        assert_eq!(retry_after_ms(MAX_ATTEMPTS, 1000), None);
    }

    #[test]
    fn keys_are_stable_per_intent_and_distinct_across() {
        assert_eq!(idempotency_key("org_a", 7), idempotency_key("org_a", 7));
        assert_ne!(idempotency_key("org_a", 7), idempotency_key("org_a", 8));
        assert_ne!(idempotency_key("org_a", 7), idempotency_key("org_b", 7));
    }
}
