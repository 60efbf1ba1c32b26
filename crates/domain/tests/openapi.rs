//! Keeps `docs/openapi.yaml` true: every route in the router's table is described, nothing
//! else is, and every error status refers to the shared error shape.

use domain::routes::ROUTES;
use std::collections::BTreeSet;

fn spec() -> serde_yaml::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("docs/openapi.yaml exists")).expect("valid YAML")
}

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

#[test]
fn the_description_and_the_router_list_the_same_routes() {
    let spec = spec();
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for (method, _) in item.as_mapping().expect("path item") {
            let method = method.as_str().unwrap();
            if METHODS.contains(&method) {
                described.insert((method.to_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    let routed: BTreeSet<_> = ROUTES.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    assert_eq!(described, routed, "docs/openapi.yaml and domain::routes::ROUTES disagree");
}

#[test]
fn every_error_response_uses_the_error_shape() {
    let spec = spec();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, op) in item.as_mapping().unwrap() {
            if !METHODS.contains(&method.as_str().unwrap()) {
                continue;
            }
            for (status, response) in op["responses"].as_mapping().expect("responses") {
                let status: u16 = status.as_str().unwrap().parse().unwrap();
                if status >= 400 && status != 503 {
                    assert_eq!(response["$ref"].as_str(), Some("#/components/responses/Error"), "{method:?} {path:?} {status}");
                }
            }
        }
    }
}

/// Examples of every error the API can answer with. The `match` names every variant without a
/// wildcard, so a new variant does not compile until it is named here, next to this list where
/// its example belongs.
fn every_error() -> Vec<domain::ApiError> {
    use domain::ApiError;
    let all = vec![
        ApiError::MalformedJson(String::new()),
        ApiError::MissingField("x"),
        ApiError::InvalidField { field: "x", reason: String::new() },
        ApiError::InvalidQuery { param: "x", reason: String::new() },
        ApiError::PayloadTooLarge { what: "x", limit: 1 },
        ApiError::UnsupportedMediaType(String::new(), "application/json"),
        ApiError::UnknownChat,
        ApiError::UnknownLead,
        ApiError::UnknownDraft,
        ApiError::InvalidTransition(String::new()),
        ApiError::NotFound,
        ApiError::MethodNotAllowed { allowed: "GET".into() },
        ApiError::UpgradeRequired,
        ApiError::Unauthenticated,
        ApiError::AuthRefused { code: "token_expired", message: String::new() },
        ApiError::AuthRefused { code: "ticket_invalid", message: String::new() },
        ApiError::Forbidden { code: "admin_required", message: String::new() },
        ApiError::Forbidden { code: "org_unavailable", message: String::new() },
        ApiError::PaymentRequired { code: "no_subscription", message: String::new() },
        ApiError::PaymentRequired { code: "seat_limit", message: String::new() },
        ApiError::QuotaExceeded { quota: "messages_per_day", limit: 1, retry_after_secs: 1 },
        ApiError::RateLimited { scope: "user", limit: 1, retry_after_secs: 1 },
        ApiError::BadWebhookPayload { code: "missing_field", message: String::new() },
        ApiError::BadSignature { code: "signature_mismatch", message: String::new() },
        ApiError::Unprocessable { code: "backup_corrupt", message: String::new() },
        ApiError::Unprocessable { code: "backup_incomplete", message: String::new() },
        ApiError::Unprocessable { code: "backup_mismatch", message: String::new() },
        ApiError::Conflict { code: "chat_busy", message: String::new() },
        ApiError::Conflict { code: "client_id_conflict", message: String::new() },
        ApiError::UnknownSecret,
        ApiError::Misconfigured("CLERK_WEBHOOK_SECRET"),
        ApiError::Unavailable { dependency: "d1" },
    ];
    for e in &all {
        match e {
            ApiError::MalformedJson(_)
            | ApiError::MissingField(_)
            | ApiError::InvalidField { .. }
            | ApiError::InvalidQuery { .. }
            | ApiError::PayloadTooLarge { .. }
            | ApiError::UnsupportedMediaType(..)
            | ApiError::UnknownChat
            | ApiError::UnknownLead
            | ApiError::UnknownDraft
            | ApiError::InvalidTransition(_)
            | ApiError::NotFound
            | ApiError::MethodNotAllowed { .. }
            | ApiError::UpgradeRequired
            | ApiError::BadSignature { .. }
            | ApiError::Unauthenticated
            | ApiError::AuthRefused { .. }
            | ApiError::Forbidden { .. }
            | ApiError::PaymentRequired { .. }
            | ApiError::QuotaExceeded { .. }
            | ApiError::RateLimited { .. }
            | ApiError::BadWebhookPayload { .. }
            | ApiError::UnknownSecret
            | ApiError::Misconfigured(_)
            | ApiError::Unavailable { .. }
            | ApiError::Unprocessable { .. }
            | ApiError::Conflict { .. } => {}
        }
    }
    all
}

#[test]
fn every_status_the_router_can_produce_is_documented_somewhere() {
    let documented = serde_yaml::to_string(&spec()["paths"]).unwrap();
    let description = spec()["components"]["responses"]["Error"]["description"].as_str().unwrap().to_owned();
    for e in every_error() {
        assert!(description.contains(e.code()), "code {} missing from the Error description", e.code());
        match e.status() {
            // Any path answers 405 for a method it does not serve, and any route can find a
            // dependency down: both are described once, for every path.
            status @ (405 | 503) => assert!(description.contains(&format!("{status}")), "status {status} ({}) is not described", e.code()),
            status => assert!(documented.contains(&format!("'{status}'")), "status {status} for {} is not documented on any path", e.code()),
        }
    }
    assert!(description.contains("`Allow`"), "the 405's Allow header is described");
}

#[test]
fn public_routes_need_no_session_and_the_others_document_refusals() {
    use domain::routes::Access;
    let spec = spec();
    assert!(spec["components"]["securitySchemes"]["sessionBearer"].is_mapping(), "bearer scheme");
    assert_eq!(spec["components"]["securitySchemes"]["sessionCookie"]["name"].as_str(), Some("__session"));
    assert!(!spec["security"].as_sequence().expect("a global security requirement").is_empty());
    for (method, path, name) in ROUTES {
        let op = &spec["paths"][*path][method.to_lowercase().as_str()];
        let responses = op["responses"].as_mapping().expect("responses");
        let has = |status: &str| responses.contains_key(status);
        if name.access() == Access::Public {
            assert_eq!(op["security"].as_sequence().map(Vec::len), Some(0), "{method} {path} is public: `security: []`");
        } else {
            assert!(op.get("security").is_none(), "{method} {path} overrides the global security");
            assert!(has("401") && has("403"), "{method} {path} must document 401 and 403");
        }
        if name.runs_agent() {
            assert!(has("402") && has("429"), "{method} {path} runs the agent: 402 and 429");
        }
    }
}
