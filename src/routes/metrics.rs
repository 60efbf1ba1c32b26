//! `GET /metrics` (admins): the caller's org's series in the Prometheus text format. Only the
//! org's own rows are read, so no label needs to name the org and no other tenant's activity
//! shows; platform-wide series (org '') are for operators reading D1.

use crate::error::unavailable;
use crate::identity::Identity;
use domain::ApiError;
use worker::{D1Database, Headers, Response};

pub async fn get(db: &D1Database, who: &Identity) -> Result<Response, ApiError> {
    let series = tenancy_store::metrics::read(db, who.org.as_str()).await?;
    let headers = Headers::new();
    headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8").map_err(|e| unavailable("response encoding", e))?;
    Response::ok(telemetry::metrics::render(&series)).map(|r| r.with_headers(headers)).map_err(|e| unavailable("response encoding", e))
}
