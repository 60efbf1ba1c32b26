//! Query strings, read from the request's URL text rather than a parsed `Url`: parsing one
//! links the `url` crate's internationalised-domain tables into the wasm for hosts a Durable
//! Object never reads (ADR 6, the size budget).

use worker::Request;

/// The request's query parameters, decoded, in order.
pub fn pairs(req: &Request) -> Vec<(String, String)> {
    let url = req.inner().url();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The first value of query parameter `key`.
pub fn param(req: &Request, key: &str) -> Option<String> {
    pairs(req).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The raw query string (without `?`), if there is one.
pub fn raw(req: &Request) -> Option<String> {
    let url = req.inner().url();
    let query = url.split_once('?')?.1;
    Some(query.split_once('#').map_or(query, |(q, _)| q).to_owned())
}

/// The host the request was sent to (see `domain::local_issuer::url_host`).
pub fn host(req: &Request) -> String {
    domain::local_issuer::url_host(&req.inner().url())
}
