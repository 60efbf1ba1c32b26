//! `GET /auth/config`: how the browser app signs in. With Clerk configured, its publishable
//! key; on a local development worker, the development issuer's URL. Public: it holds nothing
//! secret, and the app needs it before it has a session.

use super::json;
use crate::config::setting;
use domain::local_issuer::is_loopback_host;
use domain::ApiError;
use serde_json::json;
use worker::{Env, Request, Response};

pub fn get(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let host = runtime_support::query::host(req);
    // The development issuer is only offered to a loopback client of a worker configured with one.
    let dev_issuer = setting(env, "PARLEY_DEV_ISSUER_URL").filter(|_| is_loopback_host(&host));
    let clerk = setting(env, "CLERK_PUBLISHABLE_KEY");
    let mode = match (&dev_issuer, &clerk) {
        (Some(_), _) => "development",
        (None, Some(_)) => "clerk",
        (None, None) => "unconfigured",
    };
    json(200, &json!({ "mode": mode, "dev_issuer": dev_issuer, "clerk_publishable_key": clerk }))
}
