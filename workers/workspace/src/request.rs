//! Reading a request body through a pure validator.

use domain::ApiError;
use runtime_support::responses::error;
use worker::{Request, Response, Result};

pub use runtime_support::query::{pairs as query, param as query_param};

/// Reads the body and validates it with `parse`; on bad input, the error response to send.
pub async fn body<T>(req: &mut Request, parse: impl FnOnce(&[u8]) -> std::result::Result<T, ApiError>) -> Result<std::result::Result<T, Response>> {
    let bytes = req.bytes().await?;
    match parse(&bytes) {
        Ok(value) => Ok(Ok(value)),
        Err(e) => Ok(Err(error(&e)?)),
    }
}

/// `let x = body_or_return!(req, Parser::from_body);` in a handler returning `Result<Response>`.
macro_rules! body_or_return {
    ($req:expr, $parse:expr) => {
        match $crate::request::body(&mut $req, $parse).await? {
            Ok(value) => value,
            Err(response) => return Ok(response),
        }
    };
}
pub(crate) use body_or_return;
