//! The Parley orchestrator worker.
//!
//! Every request is matched against the pure route table (`domain::routes`), authenticated,
//! checked, and then served from D1 or forwarded to the chat's Chat Controller Durable Object,
//! whose name is derived here from the caller's org and the chat id. The browser app is
//! served as static assets before the worker runs.

mod backups;
mod error;
mod config;
mod identity;
mod tenancy;
mod routes;

use domain::routes::resolve;
use worker::*;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let route = match resolve(req.method().as_ref(), &path) {
        Ok(route) => route,
        Err(e) => return error::response(&e),
    };
    match routes::dispatch(route, req, &env).await {
        Ok(response) => Ok(response),
        Err(e) => error::response(&e),
    }
}

/// The cron trigger: scheduled backups (and later the other periodic safety nets).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let now_ms = Date::now().as_millis() as i64;
    match backups::run_scheduled(&env, now_ms).await {
        Ok((ok, failed)) => console_log!("{{\"event\":\"backups.scheduled\",\"ok\":{ok},\"failed\":{failed}}}"),
        Err(e) => console_error!("scheduled backups failed: {}", e.code()),
    }
}
