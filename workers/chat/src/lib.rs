//! The chat worker. It hosts the Chat Controller Durable Object (`durable_objects/`): one per
//! chat, named `{org_id}/{chat_id}` by the orchestrator, which reaches it through its
//! `CHAT_CONTROLLER` binding. This worker has no public route of its own.
//!
//! The class lives in its own worker, as the Workspace object does, so each worker's wasm stays
//! within its size budget (ADR 6) and the orchestrator stays a thin router.

pub use durable_objects::ChatController;

use domain::ApiError;
use runtime_support::responses;
use worker::*;

/// The worker itself answers nothing: everything goes to the Chat Controller objects.
#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    responses::error(&ApiError::NotFound)
}
