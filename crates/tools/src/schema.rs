//! A small JSON-Schema subset, enough to check the arguments a model gives a tool.
//!
//! Supported keywords:
//!
//! - `type`: `object`, `string`, `integer`, `number`, `boolean`, `array`, `null`, or an array of
//!   those. As in JSON Schema, `integer` accepts any number with no fractional part (`2.0`).
//! - `properties`, `required`, `additionalProperties` (`false`, or a schema every property not
//!   named in `properties` must satisfy).
//! - `enum`.
//! - `minLength` / `maxLength`, counted in characters (Unicode scalar values), not bytes.
//! - `minimum` / `maximum` (inclusive).
//! - `minItems` / `maxItems`, and `items` as a single schema applied to every element.
//! - The boolean schemas `true` (anything) and `false` (nothing).
//!
//! Every other keyword (`pattern`, `format`, `description`, `default`, ...) is ignored: the
//! tool schemas are ours, and anything they need beyond this subset is checked in code after
//! validation. Size keywords apply only to values of their type, so `minLength` says nothing
//! about a number. A value of the wrong `type` is reported once and not inspected further,
//! since every other message about it would be noise.
//!
//! Validation reports every violation it finds, not just the first, so a model can fix all of
//! its mistakes in one retry.

use serde::Serialize;
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;
use std::fmt;

/// One way a value fails its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaViolation {
    /// Where in the value, as a JSONPath-like string: `$`, `$.limit`, `$.busy[2].end_ms`.
    pub path: String,
    /// What is wrong, phrased for whoever wrote the value to fix it.
    pub message: String,
}

impl SchemaViolation {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        SchemaViolation { path: path.into(), message: message.into() }
    }
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Checks `value` against `schema`, returning every violation found.
pub fn validate(schema: &Value, value: &Value) -> Result<(), Vec<SchemaViolation>> {
    let mut violations = Vec::new();
    check(schema, value, "$", &mut violations);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// The path of property `key` under `path`: `$.name`, or `$["odd key"]` when the key is not
/// a plain identifier, so every path stays unambiguous.
pub(crate) fn child_path(path: &str, key: &str) -> String {
    let mut chars = key.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_owned()))
    }
}

fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<SchemaViolation>) {
    let schema = match schema {
        Value::Object(schema) => schema,
        Value::Bool(false) => return out.push(SchemaViolation::new(path, "is not allowed here")),
        // `true`, and anything that is not a schema at all, accepts every value.
        _ => return,
    };

    if let Some(types) = schema.get("type") {
        if !type_matches(types, value) {
            let message = format!("expected {}, got {}", describe_types(types), type_name(value));
            return out.push(SchemaViolation::new(path, message));
        }
    }

    if let Some(Value::Array(allowed)) = schema.get("enum") {
        if !allowed.iter().any(|a| same_value(a, value)) {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            out.push(SchemaViolation::new(path, format!("must be one of: {}", list.join(", "))));
        }
    }

    match value {
        Value::String(s) => check_string(schema, s, path, out),
        Value::Number(n) => check_number(schema, n, path, out),
        Value::Array(items) => check_array(schema, items, path, out),
        Value::Object(map) => check_object(schema, map, path, out),
        Value::Bool(_) | Value::Null => {}
    }
}

fn check_string(schema: &Map<String, Value>, s: &str, path: &str, out: &mut Vec<SchemaViolation>) {
    let len = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if len < min {
            out.push(SchemaViolation::new(path, format!("must be at least {min} characters long (got {len})")));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            out.push(SchemaViolation::new(path, format!("must be at most {max} characters long (got {len})")));
        }
    }
}

fn check_number(schema: &Map<String, Value>, n: &Number, path: &str, out: &mut Vec<SchemaViolation>) {
    if let Some(Value::Number(min)) = schema.get("minimum") {
        if compare_numbers(n, min) == Some(Ordering::Less) {
            out.push(SchemaViolation::new(path, format!("must be at least {min} (got {n})")));
        }
    }
    if let Some(Value::Number(max)) = schema.get("maximum") {
        if compare_numbers(n, max) == Some(Ordering::Greater) {
            out.push(SchemaViolation::new(path, format!("must be at most {max} (got {n})")));
        }
    }
}

fn check_array(schema: &Map<String, Value>, items: &[Value], path: &str, out: &mut Vec<SchemaViolation>) {
    let len = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
        if len < min {
            out.push(SchemaViolation::new(path, format!("must have at least {min} items (got {len})")));
        }
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
        if len > max {
            out.push(SchemaViolation::new(path, format!("must have at most {max} items (got {len})")));
        }
    }
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{i}]"), out);
        }
    }
}

fn check_object(schema: &Map<String, Value>, map: &Map<String, Value>, path: &str, out: &mut Vec<SchemaViolation>) {
    let properties = schema.get("properties").and_then(Value::as_object);

    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                out.push(SchemaViolation::new(child_path(path, name), "is required"));
            }
        }
    }

    // Sorted, so the report does not depend on how the map happens to order its keys.
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for key in keys {
        let child = &map[key.as_str()];
        let child_at = child_path(path, key);
        match properties.and_then(|p| p.get(key.as_str())) {
            Some(property_schema) => check(property_schema, child, &child_at, out),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    let mut allowed: Vec<&str> = properties.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                    allowed.sort_unstable();
                    let message = if allowed.is_empty() {
                        "is not an allowed property (this object takes no properties)".to_owned()
                    } else {
                        format!("is not an allowed property; allowed: {}", allowed.join(", "))
                    };
                    out.push(SchemaViolation::new(child_at, message));
                }
                Some(extra_schema @ Value::Object(_)) => check(extra_schema, child, &child_at, out),
                _ => {}
            },
        }
    }
}

fn type_matches(types: &Value, value: &Value) -> bool {
    match types {
        Value::String(name) => is_type(name, value),
        Value::Array(names) => names.iter().filter_map(Value::as_str).any(|name| is_type(name, value)),
        // A malformed `type` constrains nothing rather than rejecting everything.
        _ => true,
    }
}

fn is_type(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "string" => value.is_string(),
        "integer" => value.as_number().is_some_and(is_integral),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// Whether a number has no fractional part (`2` and `2.0` do, `2.5` does not).
pub(crate) fn is_integral(n: &Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn describe_types(types: &Value) -> String {
    match types {
        Value::Array(names) => {
            let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
            names.join(" or ")
        }
        Value::String(name) => name.clone(),
        other => other.to_string(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::String(_) => "string",
        Value::Number(n) if is_integral(n) => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Null => "null",
    }
}

/// Orders two JSON numbers exactly when both are integers (no `f64` rounding of large ids),
/// and as floats otherwise.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
}

/// JSON equality, except that numbers compare by value, so `enum: [1]` accepts `1.0`.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violations(schema: Value, value: Value) -> Vec<(String, String)> {
        match validate(&schema, &value) {
            Ok(()) => Vec::new(),
            Err(v) => v.into_iter().map(|v| (v.path, v.message)).collect(),
        }
    }

    fn paths(schema: Value, value: Value) -> Vec<String> {
        violations(schema, value).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn types() {
        let cases = [
            ("object", json!({}), json!([])),
            ("string", json!("x"), json!(1)),
            ("integer", json!(3), json!(3.5)),
            ("integer", json!(-3), json!("3")),
            ("integer", json!(3.0), json!(null)),
            ("number", json!(3.5), json!("3.5")),
            ("number", json!(3), json!(true)),
            ("boolean", json!(false), json!(0)),
            ("array", json!([1]), json!({})),
            ("null", json!(null), json!(false)),
        ];
        for (ty, good, bad) in cases {
            assert_eq!(validate(&json!({ "type": ty }), &good), Ok(()), "{ty} accepts {good}");
            let v = violations(json!({ "type": ty }), bad.clone());
            assert_eq!(v.len(), 1, "{ty} rejects {bad}");
            assert_eq!(v[0].0, "$");
            assert!(v[0].1.starts_with(&format!("expected {ty}, got ")), "{}", v[0].1);
        }
        let either = json!({ "type": ["string", "null"] });
        assert_eq!(validate(&either, &json!(null)), Ok(()));
        assert_eq!(validate(&either, &json!("a")), Ok(()));
        assert_eq!(violations(either, json!(1)), [("$".to_owned(), "expected string or null, got integer".to_owned())]);
        assert_eq!(violations(json!({ "type": "string" }), json!(1.5))[0].1, "expected string, got number");
    }

    #[test]
    fn string_lengths_count_characters() {
        let s = json!({ "type": "string", "minLength": 2, "maxLength": 3 });
        assert_eq!(validate(&s, &json!("éé")), Ok(()), "4 bytes, 2 characters");
        assert_eq!(validate(&s, &json!("日本語")), Ok(()));
        assert_eq!(violations(s.clone(), json!("é"))[0].1, "must be at least 2 characters long (got 1)");
        assert_eq!(violations(s, json!("abcd"))[0].1, "must be at most 3 characters long (got 4)");
    }

    #[test]
    fn numeric_bounds_are_inclusive_and_exact() {
        let s = json!({ "type": "integer", "minimum": 1, "maximum": 10 });
        for ok in [json!(1), json!(10), json!(5.0)] {
            assert_eq!(validate(&s, &ok), Ok(()), "{ok}");
        }
        assert_eq!(violations(s.clone(), json!(0))[0].1, "must be at least 1 (got 0)");
        assert_eq!(violations(s, json!(11))[0].1, "must be at most 10 (got 11)");
        // 2^63 - 1 and 2^63 are the same f64; an exact comparison tells them apart.
        let big = json!({ "maximum": i64::MAX });
        assert_eq!(validate(&big, &json!(i64::MAX)), Ok(()));
        assert_eq!(paths(big, json!(i64::MAX as u64 + 1)), ["$"]);
        let float = json!({ "minimum": 0.5 });
        assert_eq!(paths(float.clone(), json!(0.25)), ["$"]);
        assert_eq!(validate(&float, &json!(1)), Ok(()));
    }

    #[test]
    fn arrays() {
        let s = json!({ "type": "array", "minItems": 1, "maxItems": 2, "items": { "type": "integer" } });
        assert_eq!(validate(&s, &json!([1, 2])), Ok(()));
        assert_eq!(violations(s.clone(), json!([]))[0].1, "must have at least 1 items (got 0)");
        assert_eq!(paths(s.clone(), json!([1, 2, 3])), ["$"]);
        assert_eq!(paths(s, json!(["a", 2.5])), ["$[0]", "$[1]"]);
    }

    #[test]
    fn objects_report_every_violation_with_paths() {
        let s = json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "minLength": 1 },
                "id": { "type": "integer" },
                "args": {
                    "type": "object",
                    "properties": { "limit": { "type": "integer", "maximum": 10 } },
                    "required": ["limit"],
                    "additionalProperties": false
                }
            },
            "required": ["name", "id"],
            "additionalProperties": false
        });
        let v = violations(s.clone(), json!({ "name": "", "args": { "limit": 11, "zzz": 1 }, "odd key": true }));
        assert_eq!(
            v,
            [
                ("$.id".to_owned(), "is required".to_owned()),
                ("$.args.limit".to_owned(), "must be at most 10 (got 11)".to_owned()),
                ("$.args.zzz".to_owned(), "is not an allowed property; allowed: limit".to_owned()),
                ("$.name".to_owned(), "must be at least 1 characters long (got 0)".to_owned()),
                ("$[\"odd key\"]".to_owned(), "is not an allowed property; allowed: args, id, name".to_owned()),
            ]
        );
        assert_eq!(paths(s.clone(), json!({ "name": "a", "id": 1, "args": {} })), ["$.args.limit"]);
        assert_eq!(validate(&s, &json!({ "name": "a", "id": 1 })), Ok(()), "properties are optional unless required");
    }

    #[test]
    fn additional_properties_as_a_schema() {
        let s = json!({ "type": "object", "additionalProperties": { "type": "string", "maxLength": 2 } });
        assert_eq!(validate(&s, &json!({ "a": "xy", "b": "" })), Ok(()));
        assert_eq!(paths(s, json!({ "a": "xyz", "b": 1 })), ["$.a", "$.b"]);
        // Absent `additionalProperties` allows anything.
        assert_eq!(validate(&json!({ "type": "object" }), &json!({ "a": [1] })), Ok(()));
        let none = json!({ "type": "object", "additionalProperties": false });
        assert_eq!(violations(none, json!({ "a": 1 }))[0].1, "is not an allowed property (this object takes no properties)");
    }

    #[test]
    fn enums() {
        let s = json!({ "enum": ["GET", "POST", 1] });
        assert_eq!(validate(&s, &json!("GET")), Ok(()));
        assert_eq!(validate(&s, &json!(1.0)), Ok(()), "numbers compare by value");
        assert_eq!(violations(s, json!("get"))[0].1, "must be one of: \"GET\", \"POST\", 1");
    }

    #[test]
    fn a_wrong_type_is_reported_once() {
        let s = json!({ "type": "string", "minLength": 3, "enum": ["abc"] });
        assert_eq!(paths(s, json!(5)), ["$"]);
    }

    #[test]
    fn boolean_schemas_and_ignored_keywords() {
        assert_eq!(validate(&json!(true), &json!({ "x": 1 })), Ok(()));
        assert_eq!(paths(json!(false), json!(1)), ["$"]);
        let s = json!({ "type": "object", "properties": { "a": false } });
        assert_eq!(paths(s, json!({ "a": 1 })), ["$.a"]);
        // `pattern` is outside the subset.
        assert_eq!(validate(&json!({ "type": "string", "pattern": "^a$" }), &json!("b")), Ok(()));
    }
}
