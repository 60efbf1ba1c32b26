//! Reading a request body through a pure validator.

use domain::ApiError;
use runtime_support::responses::error;
use worker::{Request, Response, Result};

/// The request's query parameters, decoded. Read from the URL string rather than a parsed
/// `Url`: parsing one links the `url` crate's internationalised-domain tables into the wasm,
/// for hosts this object never reads (ADR 6, the size budget).
pub fn query(req: &Request) -> Vec<(String, String)> {
    let url = req.inner().url();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The first value of query parameter `key`.
pub fn query_param(req: &Request, key: &str) -> Option<String> {
    query(req).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

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
