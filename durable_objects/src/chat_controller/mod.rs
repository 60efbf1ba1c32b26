//! The Chat Controller Durable Object: one per chat, named `{org_id}/{chat_id}` by the
//! orchestrator. It owns the chat's message log and turn queue in SQLite, runs one agent turn
//! at a time (from its alarm), and broadcasts every stored message and streamed delta to the
//! chat's WebSocket clients.
//!
//! Its HTTP interface is internal (only the orchestrator can reach it):
//! `POST /init`, `GET /meta`, `POST /messages`, `GET /messages`, `GET /turns`, `GET /ws`,
//! `GET /approvals`, `POST /approvals/{id}`, `GET /artifacts`, `GET /ping`, and for backups
//! `GET /backup/export` and `POST /backup/import` (see `runtime_support::snapshot`).

mod approvals;
mod handlers;
mod model_call;
mod restore;
use runtime_support::responses;
pub(crate) mod schema;
mod sockets;
pub(crate) mod steps;
mod summaries;
pub(crate) mod store;
mod tool_runner;
mod turn_runner;

use domain::events::PartialReply;
use domain::ApiError;
use std::cell::{Cell, RefCell};
use worker::wasm_bindgen;
use worker::*;

/// The Chat Controller. In-memory fields are caches and the state of the turn running in this
/// instance; everything that must survive eviction is in SQLite.
#[durable_object]
pub struct ChatController {
    state: State,
    env: Env,
    /// Set once the schema is known to exist in this instance.
    initialised: Cell<bool>,
    /// Set once this instance has checked for work left by a previous instance.
    woken: Cell<bool>,
    /// True while this instance is draining the turn queue.
    draining: Cell<bool>,
    /// Text streamed so far by the running turn, for clients that connect mid-turn.
    partial: RefCell<Option<PartialReply>>,
    /// The trace id of the turn running in this instance, passed on to the agents worker.
    trace: RefCell<Option<String>>,
    /// Metric counts waiting for this instance's next D1 write: the alarm's own count goes out
    /// with the record of a turn it runs, else on its own when the alarm ends.
    unrecorded: RefCell<Vec<telemetry::metrics::Increment>>,
}

impl DurableObject for ChatController {
    fn new(state: State, env: Env) -> Self {
        ChatController {
            state,
            env,
            initialised: Cell::new(false),
            woken: Cell::new(false),
            draining: Cell::new(false),
            partial: RefCell::new(None),
            trace: RefCell::new(None),
            unrecorded: RefCell::new(Vec::new()),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.route(req).await {
            Ok(response) => Ok(response),
            Err(e) => {
                console_error!("chat controller: {e}");
                responses::error(&ApiError::Unavailable { dependency: "chat storage" })
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.unrecorded.borrow_mut().push(telemetry::metrics::count(telemetry::metrics::ALARMS, &[("object", "chat_controller")]));
        if let Err(e) = self.run_due_work().await {
            console_error!("chat controller alarm: {e}");
        }
        let left = self.unrecorded.take();
        if !left.is_empty() {
            self.count(&left).await;
        }
        Response::ok("done")
    }

    async fn websocket_message(&self, _ws: WebSocket, _message: WebSocketIncomingMessage) -> Result<()> {
        // Clients only listen; everything they send goes through the HTTP API.
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        let code = if code == 1005 || code == 1006 { 1000 } else { code as u16 };
        let _ = ws.close(Some(code), Some("closing"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: Error) -> Result<()> {
        Ok(())
    }
}

impl ChatController {
    async fn route(&self, req: Request) -> Result<Response> {
        let path = req.path();
        let method = req.method();
        match (method.clone(), path.as_str()) {
            (Method::Get, "/ping") => return Response::ok("pong"),
            (Method::Post, "/init") => return self.init(req).await,
            _ => {}
        }
        if !self.is_initialised()? {
            return responses::error(&ApiError::UnknownChat);
        }
        self.wake().await?;
        match (method, path.as_str()) {
            (Method::Get, "/meta") => self.meta(),
            (Method::Post, "/messages") => self.post_message(req).await,
            (Method::Get, "/messages") => self.list_messages(&req),
            (Method::Get, "/turns") => self.list_turns(&req),
            (Method::Get, "/approvals") => self.list_approvals(),
            (Method::Get, "/artifacts") => self.list_artifacts(),
            (Method::Get, "/summary") => self.latest_summary(),
            (Method::Post, p) if p.starts_with("/approvals/") => {
                let id = p.trim_start_matches("/approvals/").to_owned();
                self.decide(&id, req).await
            }
            (Method::Get, "/ws") => self.accept_socket(&req),
            (Method::Get, "/backup/export") => runtime_support::snapshot::serve_export(&self.state.storage(), "chat"),
            (Method::Post, "/backup/import") => self.restore(req).await,
            _ => responses::error(&ApiError::NotFound),
        }
    }

    fn is_initialised(&self) -> Result<bool> {
        if !self.initialised.get() && schema::is_initialised(&self.state.storage().sql())? {
            self.initialised.set(true);
        }
        Ok(self.initialised.get())
    }

    fn now() -> i64 {
        Date::now().as_millis() as i64
    }
}

pub(crate) use runtime_support::alarm_at as at;
