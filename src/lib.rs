//! The Parley orchestrator worker.
//!
//! Every request is matched against the pure route table (`domain::routes`), authenticated,
//! checked, and then served from D1 or forwarded to the chat's Chat Controller Durable Object,
//! whose name is derived here from the caller's org and the chat id. The browser app is
//! served as static assets before the worker runs. Every response carries the request's
//! trace id (`observe`).

mod backups;
mod error;
mod config;
mod identity;
mod observe;
mod tenancy;
mod routes;
mod scheduled;
mod write_behind;

use domain::routes::resolve;
use worker::*;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let mut obs = observe::start(&req);
    let path = req.path();
    let result = match resolve(req.method().as_ref(), &path) {
        Ok(route) => {
            obs.route = Some(route.name);
            routes::dispatch(route, req, &env, &mut obs).await
        }
        Err(e) => Err(e),
    };
    let response = match result {
        Ok(response) => response,
        Err(e) => error::response(&e)?,
    };
    Ok(observe::finish(response, obs, &env, &ctx))
}

/// Cron triggers (`wrangler.toml`): the safety nets in `scheduled.rs`.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    scheduled::run(&env, event.schedule() as i64).await;
}
