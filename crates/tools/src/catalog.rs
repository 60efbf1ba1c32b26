//! The tools declared to the model, and turning a model's raw tool call into a typed
//! [`ToolCall`].
//!
//! Each tool has a name, a description written for the model, and a JSON schema for its
//! arguments in the subset [`crate::schema`] checks. [`parse_call`] parses the raw argument
//! text, validates it, applies the rules a schema cannot say (a blank query, a body too big,
//! a malformed lead id), fills in defaults and returns the typed call. Its errors render as
//! messages the model can read to fix its call.

use crate::schema::{is_integral, validate, SchemaViolation};
use crate::slots::{Busy, MAX_DAYS_AHEAD};
use domain::agent_protocol::ToolSpec;
use domain::ids::LeadId;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Searches the org's knowledge base.
pub const KNOWLEDGE_SEARCH: &str = "knowledge_search";
/// Calls an admin-defined HTTP endpoint.
pub const HTTP_REQUEST: &str = "http_request";
/// Proposes meeting slots in the contact's business hours.
pub const PROPOSE_MEETING_SLOTS: &str = "propose_meeting_slots";
/// Stores a message draft for a lead, for a person to approve.
pub const DRAFT_MESSAGE: &str = "draft_message";
/// Every tool name, in catalog order.
pub const TOOL_NAMES: [&str; 4] = [KNOWLEDGE_SEARCH, HTTP_REQUEST, PROPOSE_MEETING_SLOTS, DRAFT_MESSAGE];

/// Longest `knowledge_search` query, in characters.
pub const MAX_QUERY_CHARS: u64 = 500;
/// Passages a search returns when the model gives no `limit`.
pub const DEFAULT_SEARCH_LIMIT: u32 = 5;
/// Most passages a search may return.
pub const MAX_SEARCH_LIMIT: u32 = 10;
/// Longest endpoint name, in characters.
pub const MAX_ENDPOINT_NAME_CHARS: u64 = 100;
/// Longest value of one URL template placeholder.
pub const MAX_PARAM_CHARS: u64 = 200;
/// Largest request body, measured as compact JSON.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest time-zone name, in characters.
pub const MAX_ZONE_CHARS: u64 = 64;
/// Most busy intervals one `propose_meeting_slots` call may list.
pub const MAX_BUSY_INTERVALS: u64 = 200;
/// Business days to look ahead when the model gives no `days_ahead`.
pub const DEFAULT_DAYS_AHEAD: u8 = MAX_DAYS_AHEAD;
/// Longest draft, in characters.
pub const MAX_DRAFT_CHARS: u64 = 5000;
/// Latest instant a busy interval may mention: the end of year 9999, in ms.
const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;

/// A validated call of one of the tools, with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolCall {
    /// Search the knowledge base for `query`, returning at most `limit` (1–10) passages.
    KnowledgeSearch { query: String, limit: u32 },
    /// Call the admin-defined endpoint named `endpoint`. `params` fill its URL template's
    /// placeholders. Whether it runs at once or waits for approval is for the shell to decide
    /// with the endpoint's configuration; see [`needs_approval`].
    HttpRequest { endpoint: String, params: BTreeMap<String, String>, body: Option<Value> },
    /// Propose meeting slots in `time_zone` (the contact's IANA zone) over the next
    /// `days_ahead` (1–3) business days, avoiding `busy`.
    ProposeMeetingSlots { time_zone: String, busy: Vec<Busy>, days_ahead: u8 },
    /// Store `content` as a pending draft for the lead. Storing it needs no approval: nothing
    /// is sent until a person approves the draft.
    DraftMessage { lead_id: String, content: String },
}

impl ToolCall {
    /// The tool's name as declared to the model.
    pub fn name(&self) -> &'static str {
        match self {
            ToolCall::KnowledgeSearch { .. } => KNOWLEDGE_SEARCH,
            ToolCall::HttpRequest { .. } => HTTP_REQUEST,
            ToolCall::ProposeMeetingSlots { .. } => PROPOSE_MEETING_SLOTS,
            ToolCall::DraftMessage { .. } => DRAFT_MESSAGE,
        }
    }
}

/// Why a tool call was refused. The `Display` text is meant for the model: it says what was
/// wrong and how to fix the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The model named a tool that does not exist.
    #[error("unknown tool `{0}`; the available tools are: {names}", names = TOOL_NAMES.join(", "))]
    UnknownTool(String),
    /// The argument text is not JSON.
    #[error("the tool arguments are not valid JSON ({0}); send one JSON object that matches the tool's parameter schema")]
    MalformedArguments(String),
    /// The arguments are JSON but break the tool's schema or rules; every problem is listed.
    #[error("{}", InvalidList(.0))]
    InvalidArguments(Vec<SchemaViolation>),
}

impl ToolError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ToolError::UnknownTool(_) => "unknown_tool",
            ToolError::MalformedArguments(_) => "malformed_arguments",
            ToolError::InvalidArguments(_) => "invalid_arguments",
        }
    }
}

/// Renders violations as one line: "invalid tool arguments: $.a: ...; $.b: .... Fix ...".
struct InvalidList<'a>(&'a [SchemaViolation]);

impl fmt::Display for InvalidList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid tool arguments: ")?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        f.write_str(". Fix these and call the tool again.")
    }
}

/// The declared tools, in a fixed order, for the model's tool list.
pub fn catalog() -> Vec<ToolSpec> {
    TOOL_NAMES
        .iter()
        .filter_map(|name| tool_schema(name).map(|(description, parameters)| ToolSpec { name: (*name).to_owned(), description: description.to_owned(), parameters }))
        .collect()
}

/// Parses and validates a model's call of tool `name` with raw argument text `arguments_json`.
///
/// Blank argument text counts as `{}`, since some models send nothing for an argument-less
/// call; the missing required arguments are then reported by name. An optional argument given
/// as `null` counts as not given. Every problem found is reported at once.
pub fn parse_call(name: &str, arguments_json: &str) -> Result<ToolCall, ToolError> {
    let (_, schema) = tool_schema(name).ok_or_else(|| ToolError::UnknownTool(name.to_owned()))?;
    let mut args: Value = if arguments_json.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(arguments_json).map_err(|e| ToolError::MalformedArguments(e.to_string()))?
    };

    // Models often send `null` for an optional argument they mean to leave out.
    if let (Value::Object(map), Some(required)) = (&mut args, schema.get("required").and_then(Value::as_array)) {
        map.retain(|key, value| !value.is_null() || required.iter().any(|r| r.as_str() == Some(key.as_str())));
    }

    let mut violations = validate(&schema, &args).err().unwrap_or_default();
    let empty = Map::new();
    let obj = args.as_object().unwrap_or(&empty);
    violations.extend(extra_checks(name, obj));
    if !violations.is_empty() {
        return Err(ToolError::InvalidArguments(violations));
    }

    // From here the arguments are known to be well-formed, so reading them cannot fail.
    let text = |key: &str| obj.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let call = match name {
        KNOWLEDGE_SEARCH => ToolCall::KnowledgeSearch {
            query: text("query"),
            limit: integer(obj.get("limit")).and_then(|n| u32::try_from(n).ok()).unwrap_or(DEFAULT_SEARCH_LIMIT),
        },
        HTTP_REQUEST => ToolCall::HttpRequest {
            endpoint: text("endpoint"),
            params: obj
                .get("params")
                .and_then(Value::as_object)
                .map(|p| p.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
                .unwrap_or_default(),
            body: obj.get("body").cloned(),
        },
        PROPOSE_MEETING_SLOTS => ToolCall::ProposeMeetingSlots {
            time_zone: text("time_zone"),
            busy: obj
                .get("busy")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|b| Busy { start_ms: integer(b.get("start_ms")).unwrap_or(0), end_ms: integer(b.get("end_ms")).unwrap_or(0) })
                        .collect()
                })
                .unwrap_or_default(),
            days_ahead: integer(obj.get("days_ahead")).and_then(|n| u8::try_from(n).ok()).unwrap_or(DEFAULT_DAYS_AHEAD),
        },
        DRAFT_MESSAGE => ToolCall::DraftMessage { lead_id: text("lead_id"), content: text("content") },
        _ => return Err(ToolError::UnknownTool(name.to_owned())),
    };
    Ok(call)
}

/// Whether an `http_request` must wait for a person's approval before it runs.
///
/// `GET` and `HEAD` run at once unless the admin marked the endpoint as mutating (some APIs
/// change data on a GET). Every other method (`POST`, `PUT`, `PATCH`, `DELETE`, and anything
/// unrecognised) always waits: an unknown method is treated as the most dangerous kind. The
/// method is compared ignoring ASCII case, as `fetch` normalises `get` to `GET` anyway.
///
/// `draft_message` is not subject to this: storing a draft sends nothing.
pub fn needs_approval(method: &str, endpoint_marked_mutating: bool) -> bool {
    let read_only = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
    !read_only || endpoint_marked_mutating
}

/// A JSON integer as `i64`, accepting `5.0` as the schema does.
fn integer(value: Option<&Value>) -> Option<i64> {
    let n = value?.as_number()?;
    if !is_integral(n) {
        return None;
    }
    // Integral floats within the schemas' bounds are small enough to convert exactly.
    n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))
}

/// Rules the schema subset cannot express. They look only at values of the right type, so
/// they never repeat a type error the schema already reported.
fn extra_checks(name: &str, obj: &Map<String, Value>) -> Vec<SchemaViolation> {
    let mut out = Vec::new();
    let blank = |key: &str, out: &mut Vec<SchemaViolation>| {
        if obj.get(key).and_then(Value::as_str).is_some_and(|s| !s.is_empty() && s.trim().is_empty()) {
            out.push(SchemaViolation::new(format!("$.{key}"), "must not be blank"));
        }
    };
    match name {
        KNOWLEDGE_SEARCH => blank("query", &mut out),
        HTTP_REQUEST => {
            blank("endpoint", &mut out);
            if let Some(body) = obj.get("body") {
                let size = serde_json::to_string(body).map_or(usize::MAX, |s| s.len());
                if size > MAX_BODY_BYTES {
                    out.push(SchemaViolation::new("$.body", format!("must be at most {MAX_BODY_BYTES} bytes as JSON (got {size})")));
                }
            }
        }
        PROPOSE_MEETING_SLOTS => {
            for (i, b) in obj.get("busy").and_then(Value::as_array).into_iter().flatten().enumerate() {
                if let (Some(start), Some(end)) = (integer(b.get("start_ms")), integer(b.get("end_ms"))) {
                    if end < start {
                        out.push(SchemaViolation::new(format!("$.busy[{i}].end_ms"), "must not be before start_ms"));
                    }
                }
            }
        }
        DRAFT_MESSAGE => {
            blank("content", &mut out);
            if let Some(id) = obj.get("lead_id").and_then(Value::as_str) {
                if LeadId::parse(id).is_none() {
                    out.push(SchemaViolation::new("$.lead_id", "must be a lead id: `lead_` followed by 26 lowercase letters and digits"));
                }
            }
        }
        _ => {}
    }
    out
}

/// A tool's description and argument schema, by name.
fn tool_schema(name: &str) -> Option<(&'static str, Value)> {
    let spec = match name {
        KNOWLEDGE_SEARCH => (
            "Search the organisation's knowledge base (documents its team uploaded) and return the most relevant passages. \
             Use it before answering questions about the product, pricing or policies instead of guessing.",
            json!({
                "type": "object",
                "properties": {
                    "query": { "type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "description": "What to look for, in natural language." },
                    "limit": { "type": "integer", "minimum": 1, "maximum": MAX_SEARCH_LIMIT, "default": DEFAULT_SEARCH_LIMIT, "description": "How many passages to return." }
                },
                "required": ["query"],
                "additionalProperties": false
            }),
        ),
        HTTP_REQUEST => (
            "Call one of the HTTP endpoints the organisation's admins have configured, by its name. \
             `params` fill the placeholders of the endpoint's URL template. Requests that may change data \
             wait for a person's approval before they run, so the result may say the request is pending.",
            json!({
                "type": "object",
                "properties": {
                    "endpoint": { "type": "string", "minLength": 1, "maxLength": MAX_ENDPOINT_NAME_CHARS, "description": "The configured endpoint's name." },
                    "params": {
                        "type": "object",
                        "additionalProperties": { "type": "string", "maxLength": MAX_PARAM_CHARS },
                        "description": "Values for the URL template's placeholders, by placeholder name."
                    },
                    "body": { "description": "The JSON request body, if the endpoint takes one (at most 64 KiB)." }
                },
                "required": ["endpoint"],
                "additionalProperties": false
            }),
        ),
        PROPOSE_MEETING_SLOTS => (
            "Propose three 30-minute meeting slots in the contact's business hours (09:00-17:00 local time, Monday to Friday, \
             excluding holidays) over the next 1-3 business days, starting with the next business day, avoiding the busy \
             intervals given. Returns ranked slots with their UTC and local start times.",
            json!({
                "type": "object",
                "properties": {
                    "time_zone": { "type": "string", "minLength": 1, "maxLength": MAX_ZONE_CHARS, "description": "The contact's IANA time zone, such as Europe/Berlin." },
                    "busy": {
                        "type": "array",
                        "maxItems": MAX_BUSY_INTERVALS,
                        "items": {
                            "type": "object",
                            "properties": {
                                "start_ms": { "type": "integer", "minimum": 0, "maximum": MAX_TIMESTAMP_MS },
                                "end_ms": { "type": "integer", "minimum": 0, "maximum": MAX_TIMESTAMP_MS }
                            },
                            "required": ["start_ms", "end_ms"],
                            "additionalProperties": false
                        },
                        "description": "Times the contact is not available, as [start_ms, end_ms) in milliseconds since the Unix epoch."
                    },
                    "days_ahead": { "type": "integer", "minimum": 1, "maximum": MAX_DAYS_AHEAD, "default": DEFAULT_DAYS_AHEAD, "description": "How many business days to look ahead." }
                },
                "required": ["time_zone"],
                "additionalProperties": false
            }),
        ),
        DRAFT_MESSAGE => (
            "Propose a message to a lead. The draft is saved for a person to review and approve; this tool sends nothing.",
            json!({
                "type": "object",
                "properties": {
                    "lead_id": { "type": "string", "minLength": 1, "maxLength": 64, "description": "The lead's id, such as lead_0123456789abcdefghjkmnpqrs." },
                    "content": { "type": "string", "minLength": 1, "maxLength": MAX_DRAFT_CHARS, "description": "The message text." }
                },
                "required": ["lead_id", "content"],
                "additionalProperties": false
            }),
        ),
        _ => return None,
    };
    Some(spec)
}

#[cfg(test)]
mod tests;
