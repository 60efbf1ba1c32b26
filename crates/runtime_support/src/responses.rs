//! The one place Durable Objects turn results into HTTP responses.

use domain::ApiError;
use serde::Serialize;
use worker::{Response, Result};

/// A JSON response with a status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// An API error as `{ "error": { "code", "message" } }` with its status.
pub fn error(e: &ApiError) -> Result<Response> {
    json(e.status(), &e.body())
}
