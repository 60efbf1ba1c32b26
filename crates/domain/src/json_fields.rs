//! Reading request bodies field by field, so that every kind of bad input gets its own
//! precise error instead of a generic deserialisation failure.

use crate::ApiError;
use serde_json::{Map, Value};

/// Parses a request body that must be a JSON object.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::MalformedJson("expected a JSON object".into())),
    }
}

/// A required string field.
pub fn required_str<'a>(obj: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(ApiError::MissingField(field)),
        Some(v) => v.as_str().ok_or_else(|| wrong_type(field, "a string")),
    }
}

/// An optional string field (absent and `null` both mean "not given").
pub fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| wrong_type(field, "a string")),
    }
}

fn wrong_type(field: &'static str, expected: &str) -> ApiError {
    ApiError::InvalidField { field, reason: format!("must be {expected}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguishes_malformed_missing_and_wrong_type() {
        assert_eq!(parse_object(b"{").unwrap_err().code(), "malformed_json");
        assert_eq!(parse_object(b"[1]").unwrap_err().code(), "malformed_json");
        let obj = parse_object(br#"{"a": 1, "b": null}"#).unwrap();
        assert_eq!(required_str(&obj, "a").unwrap_err().code(), "invalid_field");
        assert_eq!(required_str(&obj, "b").unwrap_err(), ApiError::MissingField("b"));
        assert_eq!(required_str(&obj, "c").unwrap_err(), ApiError::MissingField("c"));
        assert_eq!(optional_str(&obj, "b").unwrap(), None);
        assert_eq!(optional_str(&obj, "a").unwrap_err().code(), "invalid_field");
    }
}
