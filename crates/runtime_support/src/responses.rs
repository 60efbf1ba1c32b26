//! The one place Durable Objects turn results into HTTP responses.

use domain::ApiError;
use serde::Serialize;
use worker::{Response, Result};

/// A JSON response with a status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// An API error as `{ "error": { "code", "message" } }` with its status and the headers it
/// calls for (`Retry-After`, `Allow`).
pub fn error(e: &ApiError) -> Result<Response> {
    let mut res = json(e.status(), &e.body())?;
    for (name, value) in e.headers() {
        res.headers_mut().set(name, &value)?;
    }
    Ok(res)
}
