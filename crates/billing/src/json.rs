//! Typed, path-aware reads from a parsed JSON object, so every parse error names the exact field
//! (`data.organization.id`) instead of a generic "bad payload".

use serde_json::{Map, Value};

use crate::error::EventError;

/// Parses a webhook body that must be a JSON object.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, EventError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(EventError::MalformedJson("the body is not a JSON object".into())),
        Err(e) => Err(EventError::MalformedJson(e.to_string())),
    }
}

/// A JSON object together with its path from the root, for error messages.
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    pub(crate) fn root(map: &'a Map<String, Value>) -> Self {
        Fields { map, path: String::new() }
    }

    /// Views an array element (or any value) as an object at `path`.
    pub(crate) fn object_at(value: &'a Value, path: String) -> Result<Self, EventError> {
        match value {
            Value::Object(map) => Ok(Fields { map, path }),
            _ => Err(EventError::invalid(path, "expected an object")),
        }
    }

    fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Null is treated as absent: both senders use `null` for "not set".
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn required<T>(&self, key: &str, value: Result<Option<T>, EventError>) -> Result<T, EventError> {
        value?.ok_or_else(|| EventError::MissingField(self.path_of(key)))
    }

    /// A string, or `None` when absent or null. Empty strings are returned as they are.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<String>, EventError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(EventError::invalid(self.path_of(key), "expected a string")),
        }
    }

    /// A string that is present and not empty (ids, types, roles).
    pub(crate) fn req_str(&self, key: &str) -> Result<String, EventError> {
        let s = self.required(key, self.opt_str(key))?;
        if s.is_empty() {
            return Err(EventError::invalid(self.path_of(key), "must not be empty"));
        }
        Ok(s)
    }

    /// A non-empty string, or `None` when absent, null or empty. For optional references such
    /// as Stripe metadata, where an empty value means "not set".
    pub(crate) fn opt_nonempty_str(&self, key: &str) -> Result<Option<String>, EventError> {
        Ok(self.opt_str(key)?.filter(|s| !s.is_empty()))
    }

    pub(crate) fn opt_i64(&self, key: &str) -> Result<Option<i64>, EventError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| EventError::invalid(self.path_of(key), "expected an integer")),
        }
    }

    pub(crate) fn req_i64(&self, key: &str) -> Result<i64, EventError> {
        self.required(key, self.opt_i64(key))
    }

    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, EventError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| EventError::invalid(self.path_of(key), "expected a non-negative integer")),
        }
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, EventError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(EventError::invalid(self.path_of(key), "expected a boolean")),
        }
    }

    pub(crate) fn opt_obj(&self, key: &str) -> Result<Option<Fields<'a>>, EventError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => Fields::object_at(v, self.path_of(key)).map(Some),
        }
    }

    pub(crate) fn req_obj(&self, key: &str) -> Result<Fields<'a>, EventError> {
        self.required(key, self.opt_obj(key))
    }

    /// The elements of an array with their paths; absent or null is an empty array.
    pub(crate) fn opt_array(&self, key: &str) -> Result<Vec<(String, &'a Value)>, EventError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let base = self.path_of(key);
                Ok(items.iter().enumerate().map(|(i, v)| (format!("{base}[{i}]"), v)).collect())
            }
            Some(_) => Err(EventError::invalid(self.path_of(key), "expected an array")),
        }
    }

    /// A Stripe "expandable" reference: either the id string or the expanded object carrying
    /// an `id`. Which one arrives depends on the request that triggered the event, so both are
    /// accepted.
    pub(crate) fn opt_expandable_id(&self, key: &str) -> Result<Option<String>, EventError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ Value::Object(_)) => Fields::object_at(v, self.path_of(key))?.req_str("id").map(Some),
            Some(_) => Err(EventError::invalid(self.path_of(key), "expected an id or an object with an id")),
        }
    }

    pub(crate) fn req_expandable_id(&self, key: &str) -> Result<String, EventError> {
        self.required(key, self.opt_expandable_id(key))
    }
}
