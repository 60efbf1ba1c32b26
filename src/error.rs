//! The one place the orchestrator turns errors into HTTP responses.

use domain::ApiError;
use worker::{Response, Result};

/// `{ "error": { "code", "message" } }` with the error's status.
pub fn response(e: &ApiError) -> Result<Response> {
    Ok(Response::from_json(&e.body())?.with_status(e.status()))
}

/// Logs a runtime failure (never the request body) and reports the dependency as unavailable.
pub fn unavailable(dependency: &'static str, cause: impl std::fmt::Display) -> ApiError {
    worker::console_error!("{dependency} failed: {cause}");
    ApiError::Unavailable { dependency }
}
