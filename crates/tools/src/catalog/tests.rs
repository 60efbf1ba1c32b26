use super::*;
use proptest::prelude::*;

const LEAD: &str = "lead_0123456789abcdefghjkmnpqrs";

fn violations(name: &str, args: &str) -> Vec<String> {
    match parse_call(name, args) {
        Err(ToolError::InvalidArguments(v)) => v.iter().map(ToString::to_string).collect(),
        other => panic!("expected invalid arguments, got {other:?}"),
    }
}

#[test]
fn the_catalog_declares_four_tools_with_object_schemas() {
    let specs = catalog();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, TOOL_NAMES);
    for spec in &specs {
        assert!(spec.description.len() > 40, "{} is described", spec.name);
        assert_eq!(spec.parameters["type"], "object");
        assert_eq!(spec.parameters["additionalProperties"], false, "{} rejects unknown arguments", spec.name);
        let required = spec.parameters["required"].as_array().unwrap();
        let properties = spec.parameters["properties"].as_object().unwrap();
        assert!(required.iter().all(|r| properties.contains_key(r.as_str().unwrap())));
        // The spec travels inside a TurnRequest.
        let json = serde_json::to_string(spec).unwrap();
        assert_eq!(&serde_json::from_str::<ToolSpec>(&json).unwrap(), spec);
    }
}

#[test]
fn knowledge_search() {
    assert_eq!(parse_call(KNOWLEDGE_SEARCH, r#"{"query":"pricing"}"#), Ok(ToolCall::KnowledgeSearch { query: "pricing".into(), limit: 5 }));
    assert_eq!(parse_call(KNOWLEDGE_SEARCH, r#"{"query":"q","limit":10}"#), Ok(ToolCall::KnowledgeSearch { query: "q".into(), limit: 10 }));
    assert_eq!(parse_call(KNOWLEDGE_SEARCH, r#"{"query":"q","limit":2.0}"#), Ok(ToolCall::KnowledgeSearch { query: "q".into(), limit: 2 }));
    // An optional argument sent as null is left out; a required one is not.
    assert_eq!(parse_call(KNOWLEDGE_SEARCH, r#"{"query":"q","limit":null}"#), Ok(ToolCall::KnowledgeSearch { query: "q".into(), limit: 5 }));
    assert_eq!(violations(KNOWLEDGE_SEARCH, r#"{"query":null}"#), ["$.query: expected string, got null"]);
    assert_eq!(violations(KNOWLEDGE_SEARCH, r#"{"query":"q","limit":0}"#), ["$.limit: must be at least 1 (got 0)"]);
    assert_eq!(violations(KNOWLEDGE_SEARCH, r#"{"query":"q","limit":11}"#), ["$.limit: must be at most 10 (got 11)"]);
    assert_eq!(violations(KNOWLEDGE_SEARCH, r#"{"query":"q","limit":"5"}"#), ["$.limit: expected integer, got string"]);
    assert_eq!(violations(KNOWLEDGE_SEARCH, r#"{"query":"q","limit":2.5}"#), ["$.limit: expected integer, got number"]);
    assert_eq!(violations(KNOWLEDGE_SEARCH, r#"{"query":"  "}"#), ["$.query: must not be blank"]);
    assert_eq!(violations(KNOWLEDGE_SEARCH, r#"{"query":""}"#), ["$.query: must be at least 1 characters long (got 0)"]);
    let long = format!(r#"{{"query":"{}"}}"#, "é".repeat(501));
    assert_eq!(violations(KNOWLEDGE_SEARCH, &long), ["$.query: must be at most 500 characters long (got 501)"]);
    assert!(parse_call(KNOWLEDGE_SEARCH, &format!(r#"{{"query":"{}"}}"#, "é".repeat(500))).is_ok());
}

#[test]
fn every_violation_is_reported_at_once() {
    let err = parse_call(KNOWLEDGE_SEARCH, r#"{"limit":99,"q":"x"}"#).unwrap_err();
    assert_eq!(err.code(), "invalid_arguments");
    assert_eq!(
        err.to_string(),
        "invalid tool arguments: $.query: is required; $.limit: must be at most 10 (got 99); \
         $.q: is not an allowed property; allowed: limit, query. Fix these and call the tool again."
    );
}

#[test]
fn unknown_tools_and_malformed_json() {
    let err = parse_call("send_email", "{}").unwrap_err();
    assert_eq!(err, ToolError::UnknownTool("send_email".into()));
    assert_eq!(err.code(), "unknown_tool");
    assert_eq!(err.to_string(), "unknown tool `send_email`; the available tools are: knowledge_search, http_request, propose_meeting_slots, draft_message");

    let err = parse_call(KNOWLEDGE_SEARCH, r#"{"query": "x""#).unwrap_err();
    assert_eq!(err.code(), "malformed_arguments");
    assert!(err.to_string().starts_with("the tool arguments are not valid JSON (EOF while parsing"), "{err}");
    assert_eq!(parse_call(KNOWLEDGE_SEARCH, "{} {}").unwrap_err().code(), "malformed_arguments");

    // Valid JSON that is not an object is a schema problem, with a message saying so.
    assert_eq!(violations(KNOWLEDGE_SEARCH, "[1]"), ["$: expected object, got array"]);
    // Blank arguments are an empty object, so the missing arguments are named.
    assert_eq!(violations(DRAFT_MESSAGE, "  "), ["$.lead_id: is required", "$.content: is required"]);
}

#[test]
fn http_request() {
    assert_eq!(
        parse_call(HTTP_REQUEST, r#"{"endpoint":"crm_lookup"}"#),
        Ok(ToolCall::HttpRequest { endpoint: "crm_lookup".into(), params: BTreeMap::new(), body: None })
    );
    let call = parse_call(HTTP_REQUEST, r#"{"endpoint":"crm_update","params":{"id":"42","kind":""},"body":{"stage":"won","n":[1,2]}}"#).unwrap();
    let params = BTreeMap::from([("id".to_owned(), "42".to_owned()), ("kind".to_owned(), String::new())]);
    assert_eq!(call, ToolCall::HttpRequest { endpoint: "crm_update".into(), params, body: Some(json!({ "stage": "won", "n": [1, 2] })) });
    assert_eq!(call.name(), HTTP_REQUEST);
    // A null body is no body; any other JSON value is a body.
    assert_eq!(parse_call(HTTP_REQUEST, r#"{"endpoint":"e","body":null}"#).unwrap(), ToolCall::HttpRequest { endpoint: "e".into(), params: BTreeMap::new(), body: None });
    assert!(matches!(parse_call(HTTP_REQUEST, r#"{"endpoint":"e","body":"text"}"#), Ok(ToolCall::HttpRequest { body: Some(Value::String(_)), .. })));

    let long = "x".repeat(201);
    assert_eq!(
        violations(HTTP_REQUEST, &format!(r#"{{"endpoint":" ","params":{{"id":"{long}","n":5}}}}"#)),
        ["$.params.id: must be at most 200 characters long (got 201)", "$.params.n: expected string, got integer", "$.endpoint: must not be blank"]
    );
    assert_eq!(violations(HTTP_REQUEST, r#"{"endpoint":"e","params":[]}"#), ["$.params: expected object, got array"]);
}

#[test]
fn http_bodies_are_limited_to_64_kib_of_json() {
    // A JSON string serialises with two quotes around it.
    let at_limit = json!({ "endpoint": "e", "body": "a".repeat(MAX_BODY_BYTES - 2) }).to_string();
    assert!(parse_call(HTTP_REQUEST, &at_limit).is_ok());
    let over = json!({ "endpoint": "e", "body": "a".repeat(MAX_BODY_BYTES - 1) }).to_string();
    assert_eq!(violations(HTTP_REQUEST, &over), [format!("$.body: must be at most 65536 bytes as JSON (got {})", MAX_BODY_BYTES + 1)]);
}

#[test]
fn propose_meeting_slots() {
    assert_eq!(
        parse_call(PROPOSE_MEETING_SLOTS, r#"{"time_zone":"Europe/Berlin"}"#),
        Ok(ToolCall::ProposeMeetingSlots { time_zone: "Europe/Berlin".into(), busy: vec![], days_ahead: 3 })
    );
    assert_eq!(
        parse_call(PROPOSE_MEETING_SLOTS, r#"{"time_zone":"UTC","busy":[{"start_ms":1000,"end_ms":2000},{"start_ms":5,"end_ms":5}],"days_ahead":1}"#),
        Ok(ToolCall::ProposeMeetingSlots {
            time_zone: "UTC".into(),
            busy: vec![Busy { start_ms: 1000, end_ms: 2000 }, Busy { start_ms: 5, end_ms: 5 }],
            days_ahead: 1
        })
    );
    assert_eq!(
        violations(PROPOSE_MEETING_SLOTS, r#"{"time_zone":"UTC","busy":[{"start_ms":2000,"end_ms":1000},{"start_ms":-1,"end_ms":1.5,"x":0},{}],"days_ahead":4}"#),
        [
            "$.busy[1].end_ms: expected integer, got number",
            "$.busy[1].start_ms: must be at least 0 (got -1)",
            "$.busy[1].x: is not an allowed property; allowed: end_ms, start_ms",
            "$.busy[2].start_ms: is required",
            "$.busy[2].end_ms: is required",
            "$.days_ahead: must be at most 3 (got 4)",
            "$.busy[0].end_ms: must not be before start_ms",
        ]
    );
    let many: Vec<Value> = (0..201).map(|i| json!({ "start_ms": i, "end_ms": i + 1 })).collect();
    let args = json!({ "time_zone": "UTC", "busy": many }).to_string();
    assert_eq!(violations(PROPOSE_MEETING_SLOTS, &args), ["$.busy: must have at most 200 items (got 201)"]);
}

#[test]
fn draft_message() {
    let args = json!({ "lead_id": LEAD, "content": "Hello!" }).to_string();
    assert_eq!(parse_call(DRAFT_MESSAGE, &args), Ok(ToolCall::DraftMessage { lead_id: LEAD.into(), content: "Hello!".into() }));
    let args = json!({ "lead_id": "lead_42", "content": "\n\t" }).to_string();
    assert_eq!(
        violations(DRAFT_MESSAGE, &args),
        ["$.content: must not be blank", "$.lead_id: must be a lead id: `lead_` followed by 26 lowercase letters and digits"]
    );
    let longest = json!({ "lead_id": LEAD, "content": "ü".repeat(5000) }).to_string();
    assert!(parse_call(DRAFT_MESSAGE, &longest).is_ok());
    let too_long = json!({ "lead_id": LEAD, "content": "ü".repeat(5001) }).to_string();
    assert_eq!(violations(DRAFT_MESSAGE, &too_long), ["$.content: must be at most 5000 characters long (got 5001)"]);
}

#[test]
fn approval_depends_on_method_and_endpoint() {
    for method in ["GET", "HEAD", "get", "Head"] {
        assert!(!needs_approval(method, false), "{method}");
        assert!(needs_approval(method, true), "{method} on a mutating endpoint");
    }
    for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PURGE", "", " GET", "GETX"] {
        assert!(needs_approval(method, false), "{method:?}");
        assert!(needs_approval(method, true), "{method:?}");
    }
}

proptest! {
    #[test]
    fn parsing_never_panics(name in prop::sample::select(TOOL_NAMES.to_vec()), args in ".{0,200}") {
        let _ = parse_call(name, &args);
    }

    #[test]
    fn parsing_arbitrary_json_never_panics(
        name in prop::sample::select(TOOL_NAMES.to_vec()),
        args in prop::collection::btree_map("[a-z_]{1,12}", prop_oneof![Just(json!(null)), any::<i64>().prop_map(|n| json!(n)), any::<f64>().prop_map(|n| json!(n)), ".{0,20}".prop_map(|s| json!(s)), Just(json!([{ "start_ms": 1 }]))], 0..5),
    ) {
        let text = serde_json::to_string(&args).unwrap();
        let _ = parse_call(name, &text);
    }

    #[test]
    fn valid_searches_round_trip(query in "[a-zA-Z0-9 ]{0,20}[a-z]", limit in 1u32..=10) {
        let args = json!({ "query": query, "limit": limit }).to_string();
        prop_assert_eq!(parse_call(KNOWLEDGE_SEARCH, &args), Ok(ToolCall::KnowledgeSearch { query, limit }));
    }
}
