//! The one place the orchestrator turns errors into HTTP responses.

use domain::ApiError;
use worker::{Response, Result};

/// `{ "error": { "code", "message" } }` with the error's status (and `Retry-After` when the
/// error carries one).
pub fn response(e: &ApiError) -> Result<Response> {
    let mut res = Response::from_json(&e.body())?.with_status(e.status());
    if let Some(secs) = e.retry_after() {
        res.headers_mut().set("Retry-After", &secs.to_string())?;
    }
    Ok(res)
}

/// Logs a runtime failure (never the request body) and reports the dependency as unavailable.
pub fn unavailable(dependency: &'static str, cause: impl std::fmt::Display) -> ApiError {
    worker::console_error!("{dependency} failed: {cause}");
    ApiError::Unavailable { dependency }
}
