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
mod scheduled;

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

/// Cron triggers (`wrangler.toml`): the safety nets in `scheduled.rs`.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    scheduled::run(&env, event.schedule() as i64).await;
}
