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

#[test]
fn every_status_the_router_can_produce_is_documented_somewhere() {
    use domain::ApiError;
    let documented = serde_yaml::to_string(&spec()["paths"]).unwrap();
    let errors = [
        ApiError::MalformedJson(String::new()),
        ApiError::PayloadTooLarge { what: "x", limit: 1 },
        ApiError::UnsupportedMediaType(String::new(), "application/json"),
        ApiError::UnknownChat,
        ApiError::UnknownLead,
        ApiError::UnknownDraft,
        ApiError::InvalidTransition(String::new()),
        ApiError::UpgradeRequired,
        ApiError::Unauthenticated,
    ];
    for e in errors {
        assert!(documented.contains(&format!("'{}'", e.status())), "status {} for {} is not documented", e.status(), e.code());
        let codes = spec()["components"]["responses"]["Error"]["description"].as_str().unwrap().to_owned();
        assert!(codes.contains(e.code()), "code {} missing from the Error description", e.code());
    }
}
