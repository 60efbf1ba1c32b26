//! `GET /v1/metrics?org=`, for the orchestrator only: an org's stored metric counts (D1
//! `metric_counts`) in the Prometheus text format. The orchestrator serves `GET /metrics`,
//! checks that the caller is an admin of the org and names the org in `org`; the
//! reading and rendering live here, behind the service binding, because the orchestrator's
//! wasm is at its size budget (ADR 6, ADR 15). Only that org's rows are read.

use worker::*;

pub async fn get(req: &Request, env: &Env) -> Result<Response> {
    // The orchestrator sends exactly `?org={id}`. Read by hand: parsing the URL would bring
    // a URL library (with IDNA tables) into this worker for one parameter.
    let url = req.inner().url();
    let org = url.split_once("?org=").map(|(_, o)| o).filter(|o| domain::ids::OrgId::parse(o).is_some());
    let Some(org) = org else {
        return crate::error(400, "invalid_query", "org must name an org");
    };
    let series = match tenancy_store::metrics::read(&env.d1("DB")?, org).await {
        Ok(s) => s,
        Err(e) => return crate::error(e.status(), e.code(), &e.to_string()),
    };
    let headers = Headers::new();
    headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")?;
    Ok(Response::ok(telemetry::metrics::render(&series))?.with_headers(headers))
}
