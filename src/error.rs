//! The one place the orchestrator turns errors into HTTP responses.

use domain::ApiError;
use worker::{Response, Result};

/// `{ "error": { "code", "message" } }` with the error's status and the headers it calls for
/// (`Retry-After` with a 429, `Allow` with a 405).
pub fn response(e: &ApiError) -> Result<Response> {
    let mut res = Response::from_json(&e.body())?.with_status(e.status());
    for (name, value) in e.headers() {
        res.headers_mut().set(name, &value)?;
    }
    Ok(res)
}

/// Logs a runtime failure (never the request body) and reports the dependency as unavailable.
pub fn unavailable(dependency: &'static str, cause: impl std::fmt::Display) -> ApiError {
    worker::console_error!("{dependency} failed: {cause}");
    ApiError::Unavailable { dependency }
}
