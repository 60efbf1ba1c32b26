//! HTTP endpoints an org's admins define for the agent's `http_request` tool: validation of a
//! definition, rendering a call (URL template placeholders percent-encoded, secrets substituted
//! into headers), and the masked view a person approves. The egress guard (`crates/egress`)
//! still checks every rendered URL before anything is sent.

use crate::json_fields::{parse_object, required_str};
use crate::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Methods an endpoint may use.
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
/// The largest definition accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// An endpoint as stored and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub name: String,
    pub method: String,
    /// `https://api.example.com/v1/contacts/{contact_id}`: `{name}` placeholders are filled
    /// from the call's `params`, percent-encoded.
    pub url_template: String,
    /// Hosts the rendered URL may reach (exact, or `*.example.com` for subdomains).
    pub allowed_hosts: Vec<String>,
    /// Headers sent with every call; values may reference granted secrets as `{{secret.NAME}}`.
    pub headers: BTreeMap<String, String>,
    /// Marked by an admin as changing the outside world even if its method is GET or HEAD.
    pub mutating: bool,
}

fn invalid(field: &'static str, reason: &str) -> ApiError {
    ApiError::InvalidField { field, reason: reason.into() }
}

/// Whether a name is a valid endpoint name (as in a path segment and in tool arguments).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Endpoint {
    /// Validates `{ method, url_template, allowed_hosts, headers?, mutating? }` for `name`.
    pub fn from_body(name: &str, body: &[u8]) -> Result<Endpoint, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
        let obj = parse_object(body)?;
        let method = required_str(&obj, "method")?.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(invalid("method", "must be GET, HEAD, POST, PUT, PATCH or DELETE"));
        }
        let url_template = required_str(&obj, "url_template")?.to_owned();
        if !(url_template.starts_with("https://") || url_template.starts_with("http://")) || url_template.len() > 2048 {
            return Err(invalid("url_template", "must be an absolute http(s) URL of at most 2048 characters"));
        }
        placeholders(&url_template).map_err(|r| invalid("url_template", &r))?;
        let hosts = obj.get("allowed_hosts").and_then(Value::as_array).ok_or(ApiError::MissingField("allowed_hosts"))?;
        let allowed_hosts: Vec<String> = hosts.iter().filter_map(Value::as_str).map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        if allowed_hosts.is_empty() || allowed_hosts.len() != hosts.len() || allowed_hosts.len() > 20 {
            return Err(invalid("allowed_hosts", "must list 1-20 host names"));
        }
        let mut headers = BTreeMap::new();
        match obj.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    let v = v.as_str().ok_or_else(|| invalid("headers", "values must be strings"))?;
                    let ok_name = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                    if !ok_name || v.contains(['\r', '\n']) {
                        return Err(invalid("headers", "names must be tokens and values single-line"));
                    }
                    headers.insert(k.to_owned(), v.to_owned());
                }
            }
            Some(_) => return Err(invalid("headers", "must be an object")),
        }
        let mutating = match obj.get("mutating") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("mutating", "must be a boolean")),
        };
        if !valid_name(name) {
            return Err(invalid("name", "must be 1-64 letters, digits, `_` and `-`"));
        }
        Ok(Endpoint { name: name.to_owned(), method, url_template, allowed_hosts, headers, mutating })
    }

    /// The secret names the headers reference.
    pub fn secret_refs(&self) -> Vec<String> {
        let mut names: Vec<String> = self.headers.values().flat_map(|v| secret_refs_in(v)).collect();
        names.sort();
        names.dedup();
        names
    }
}

fn secret_refs_in(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("{{secret.") {
        let after = &rest[start + 9..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].to_owned());
        rest = &after[end + 2..];
    }
    out
}

/// The `{name}` placeholders of a URL template, in order.
pub fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}').ok_or("an unclosed `{` in the URL template")?;
        let name = &after[..end];
        if !valid_name(name) {
            return Err(format!("placeholder `{{{name}}}` must be 1-64 letters, digits, `_` and `-`"));
        }
        out.push(name.to_owned());
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a parameter can never
/// add a path segment, a query or another host.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A call ready to send, and the same call as a person approving it sees it (secrets masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedCall {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Header values with every secret replaced by `***`.
    pub masked_headers: Vec<(String, String)>,
    /// The body with every secret value replaced by `***`.
    pub masked_body: Option<String>,
}

impl RenderedCall {
    /// The call as a person deciding its approval sees it: the method, the URL, and the headers
    /// and body with every secret masked. A call runs after its approval only if it still
    /// renders to the same view, so an endpoint edited in between cannot send something else;
    /// a rotated secret does not change the view (headers show the template's `***`).
    pub fn approval_view(&self) -> Value {
        serde_json::json!({ "method": self.method, "url": self.url, "headers": self.masked_headers, "body": self.masked_body })
    }
}

/// Why a call could not be rendered; read by the model as the tool's result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("parameter `{0}` is missing for the endpoint's URL")]
    MissingParam(String),
    #[error("parameter `{0}` is not used by the endpoint's URL")]
    UnknownParam(String),
    #[error("secret `{0}` is not granted to this chat")]
    SecretNotGranted(String),
    #[error("endpoint `{0}` does not take a body")]
    BodyNotAllowed(String),
}

/// Renders a call to `endpoint` with the model's `params` and `body`, and the chat's granted
/// `secrets` (name → value).
pub fn render(endpoint: &Endpoint, params: &BTreeMap<String, String>, body: Option<&Value>, secrets: &BTreeMap<String, String>) -> Result<RenderedCall, RenderError> {
    let names = placeholders(&endpoint.url_template).map_err(RenderError::MissingParam)?;
    if let Some(extra) = params.keys().find(|k| !names.contains(k)) {
        return Err(RenderError::UnknownParam(extra.clone()));
    }
    let mut url = endpoint.url_template.clone();
    for name in &names {
        let value = params.get(name).ok_or_else(|| RenderError::MissingParam(name.clone()))?;
        url = url.replacen(&format!("{{{name}}}"), &encode(value), 1);
    }
    let (mut headers, mut masked_headers) = (Vec::new(), Vec::new());
    for (k, template) in &endpoint.headers {
        let mut value = template.clone();
        for name in secret_refs_in(template) {
            let secret = secrets.get(&name).ok_or_else(|| RenderError::SecretNotGranted(name.clone()))?;
            value = value.replace(&format!("{{{{secret.{name}}}}}"), secret);
        }
        headers.push((k.clone(), value));
        masked_headers.push((k.clone(), mask(template, secrets, true)));
    }
    let body = match body {
        None | Some(Value::Null) => None,
        Some(_) if matches!(endpoint.method.as_str(), "GET" | "HEAD") => return Err(RenderError::BodyNotAllowed(endpoint.name.clone())),
        Some(v) => Some(v.to_string()),
    };
    let masked_body = body.as_deref().map(|b| mask(b, secrets, false));
    Ok(RenderedCall { method: endpoint.method.clone(), url, headers, body, masked_headers, masked_body })
}

/// `text` with secret references (in templates) and secret values replaced by `***`.
fn mask(text: &str, secrets: &BTreeMap<String, String>, template: bool) -> String {
    let mut out = text.to_owned();
    if template {
        for name in secret_refs_in(text) {
            out = out.replace(&format!("{{{{secret.{name}}}}}"), "***");
        }
    }
    for value in secrets.values().filter(|v| v.len() >= 4) {
        out = out.replace(value.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn endpoint(method: &str, url: &str) -> Endpoint {
        let body = json!({ "method": method, "url_template": url, "allowed_hosts": ["api.example.com"], "headers": { "Authorization": "Bearer {{secret.CRM_KEY}}" } });
        Endpoint::from_body("crm", body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn definitions_are_validated() {
        let e = endpoint("get", "https://api.example.com/v1/contacts/{id}");
        assert_eq!(e.method, "GET");
        assert_eq!(e.secret_refs(), vec!["CRM_KEY".to_owned()]);
        for (body, field) in [
            (json!({ "method": "TRACE", "url_template": "https://a.b/", "allowed_hosts": ["a.b"] }), "method"),
            (json!({ "method": "GET", "url_template": "ftp://a.b/", "allowed_hosts": ["a.b"] }), "url_template"),
            (json!({ "method": "GET", "url_template": "https://a.b/{bad name}", "allowed_hosts": ["a.b"] }), "url_template"),
            (json!({ "method": "GET", "url_template": "https://a.b/{x", "allowed_hosts": ["a.b"] }), "url_template"),
            (json!({ "method": "GET", "url_template": "https://a.b/", "allowed_hosts": [] }), "allowed_hosts"),
            (json!({ "method": "GET", "url_template": "https://a.b/", "allowed_hosts": ["a.b"], "headers": { "X": "a\r\nB: c" } }), "headers"),
            (json!({ "method": "GET", "url_template": "https://a.b/", "allowed_hosts": ["a.b"], "mutating": "yes" }), "mutating"),
        ] {
            match Endpoint::from_body("e", body.to_string().as_bytes()) {
                Err(ApiError::InvalidField { field: f, .. }) => assert_eq!(f, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(Endpoint::from_body("bad name", br#"{"method":"GET","url_template":"https://a.b/","allowed_hosts":["a.b"]}"#).is_err());
    }

    #[test]
    fn params_are_percent_encoded_so_they_cannot_change_the_target() {
        let e = endpoint("GET", "https://api.example.com/v1/contacts/{id}?q=1");
        let params = BTreeMap::from([("id".to_owned(), "../../admin?x=1#@evil.com/".to_owned())]);
        let secrets = BTreeMap::from([("CRM_KEY".to_owned(), "s3cr3t-value".to_owned())]);
        let call = render(&e, &params, None, &secrets).unwrap();
        assert_eq!(call.url, "https://api.example.com/v1/contacts/..%2F..%2Fadmin%3Fx%3D1%23%40evil.com%2F?q=1");
        assert_eq!(call.headers, vec![("Authorization".to_owned(), "Bearer s3cr3t-value".to_owned())]);
        assert_eq!(call.masked_headers, vec![("Authorization".to_owned(), "Bearer ***".to_owned())]);
    }

    #[test]
    fn the_approval_view_changes_with_the_call_but_not_with_a_rotated_secret() {
        let e = endpoint("POST", "https://api.example.com/v1/notes/{id}");
        let params = BTreeMap::from([("id".to_owned(), "7".to_owned())]);
        let secrets = |v: &str| BTreeMap::from([("CRM_KEY".to_owned(), v.to_owned())]);
        let body = json!({ "note": "hello" });
        let approved = render(&e, &params, Some(&body), &secrets("s3cr3t-value")).unwrap().approval_view();
        assert_eq!(approved, json!({ "method": "POST", "url": "https://api.example.com/v1/notes/7", "headers": [["Authorization", "Bearer ***"]], "body": r#"{"note":"hello"}"# }));
        // The same call with the secret rotated is the call that was approved.
        assert_eq!(render(&e, &params, Some(&body), &secrets("n3w-s3cr3t")).unwrap().approval_view(), approved);
        // An endpoint edited after the approval (another host, method or header) is not.
        for edited in [endpoint("POST", "https://evil.example.com/v1/notes/{id}"), endpoint("PUT", "https://api.example.com/v1/notes/{id}")] {
            assert_ne!(render(&edited, &params, Some(&body), &secrets("s3cr3t-value")).unwrap().approval_view(), approved);
        }
        let mut extra_header = e.clone();
        extra_header.headers.insert("X-Forward-To".into(), "elsewhere".into());
        assert_ne!(render(&extra_header, &params, Some(&body), &secrets("s3cr3t-value")).unwrap().approval_view(), approved);
    }

    #[test]
    fn every_way_a_call_cannot_be_rendered() {
        let e = endpoint("POST", "https://api.example.com/v1/notes/{id}");
        let secrets = BTreeMap::from([("CRM_KEY".to_owned(), "s3cr3t-value".to_owned())]);
        assert_eq!(render(&e, &BTreeMap::new(), None, &secrets), Err(RenderError::MissingParam("id".into())));
        let p = |k: &str| BTreeMap::from([(k.to_owned(), "1".to_owned())]);
        assert_eq!(render(&e, &BTreeMap::from([("id".into(), "1".into()), ("x".into(), "2".into())]), None, &secrets), Err(RenderError::UnknownParam("x".into())));
        assert_eq!(render(&e, &p("id"), None, &BTreeMap::new()), Err(RenderError::SecretNotGranted("CRM_KEY".into())));
        let get = endpoint("GET", "https://api.example.com/{id}");
        assert_eq!(render(&get, &p("id"), Some(&json!({"a": 1})), &secrets), Err(RenderError::BodyNotAllowed("crm".into())));
        let with_body = render(&e, &p("id"), Some(&json!({ "note": "key is s3cr3t-value" })), &secrets).unwrap();
        assert_eq!(with_body.masked_body.as_deref(), Some(r#"{"note":"key is ***"}"#));
        assert!(with_body.body.unwrap().contains("s3cr3t-value"));
    }
}
