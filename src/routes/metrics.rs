//! `GET /metrics` (admins): the caller's org's series in the Prometheus text format. The
//! orchestrator decides who may see what: it names only the caller's org to the agents worker,
//! which reads that org's rows and renders them (there, for this worker's size budget; ADR 15).
//! So no label needs to name the org and no other tenant's activity shows; platform-wide
//! series (org '') are for operators reading D1.

use crate::error::unavailable;
use crate::identity::Identity;
use domain::ApiError;
use worker::{Env, Response};

pub async fn get(who: &Identity, env: &Env) -> Result<Response, ApiError> {
    // This isolate's unwritten counts first, so an admin's own requests show at once.
    crate::write_behind::flush(&tenancy_store::db(env)?).await;
    // Org ids are letters, digits, `_` and `-`: safe in a query string as they are.
    let url = ["https://agents/v1/metrics?org=", who.org.as_str()].concat();
    let res = env.service("AGENTS").map_err(|e| unavailable("agents", e))?.fetch(url, None).await.map_err(|e| unavailable("agents", e))?;
    match res.status_code() {
        200 => Ok(res),
        status => Err(unavailable("agents", status)),
    }
}
