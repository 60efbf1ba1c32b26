//! The workspace worker. It hosts the Workspace Durable Object: one per org, named
//! `workspace/{org_id}` by the orchestrator, which reaches it through its `WORKSPACE` binding
//! (this worker has no public route of its own).
//!
//! It owns the org's leads, their contact history, the policy settings, every send decision and
//! the outbox. A send is decided and recorded in one synchronous transaction, so two concurrent
//! sends to one contact cannot both pass the policy.
//!
//! Internal HTTP interface: `GET /ping` (writes nothing), `GET|PUT /settings`, `GET|POST /leads`, `GET /leads/{id}`,
//! `POST /leads/{id}/sends`, `GET /leads/{id}/decisions`, `POST /leads/{id}/stage`,
//! `POST /leads/{id}/takeover`, `POST /leads/{id}/handback`, `POST /leads/{id}/replies`,
//! `GET /audit`, `POST /leads/{id}/drafts`, `GET /drafts`, `POST /drafts/{id}/approve|reject|send`,
//! `POST /wake` (the orchestrator's cron: re-arms the alarm; writes nothing to an unused object),
//! `GET /backup/export`, `POST /backup/import` (see `runtime_support::snapshot`).
//!
//! Its one alarm runs the webhook deliveries and the CRM loops (`alarm`, `crm_loops`).

mod alarm;
mod audit_log;
mod crm_loops;
mod delivery;
mod drafts;
mod handlers;
mod import;
mod knowledge;
mod lead_actions;
mod outbox;
mod request;
mod schema;
mod store;
mod suppressions;

use runtime_support::responses;
use runtime_support::transaction::transaction;
use domain::ApiError;
use std::cell::Cell;
use std::rc::Rc;
use worker::wasm_bindgen;
use worker::*;

/// The worker itself answers nothing: everything goes to the Workspace object.
#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    responses::error(&ApiError::NotFound)
}

/// The Workspace object.
#[durable_object]
pub struct Workspace {
    state: State,
    /// Time-zone rules from the runtime, shared with transaction closures.
    zones: Rc<runtime_support::zones::IntlZones>,
    migrated: Cell<bool>,
    env: Env,
}

impl DurableObject for Workspace {
    fn new(state: State, env: Env) -> Self {
        Workspace { state, zones: Rc::new(runtime_support::zones::IntlZones::default()), migrated: Cell::new(false), env }
    }

    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.run_due().await {
            console_error!("workspace alarm: {e}");
        }
        self.count_alarm().await;
        Response::ok("done")
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.route(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                console_error!("workspace: {e}");
                responses::error(&ApiError::Unavailable { dependency: "workspace storage" })
            }
        }
    }
}

impl Workspace {
    async fn route(&self, mut req: Request) -> Result<Response> {
        if req.method() == Method::Get && req.path() == "/ping" {
            return Response::ok("pong");
        }
        if req.method() == Method::Post && req.path() == "/wake" {
            return self.wake().await;
        }
        self.migrate()?;
        let path = req.path();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (req.method(), segments.as_slice()) {
            (Method::Get, ["settings"]) => self.get_settings(),
            (Method::Put, ["settings"]) => self.put_settings(req).await,
            (Method::Get, ["leads"]) => self.list_leads(&req),
            (Method::Get, ["outbox"]) => self.list_outbox(),
            (Method::Get, ["flags"]) => self.evaluate_flags(&req),
            (Method::Post, ["leads"]) => self.create_lead(req).await,
            (Method::Post, ["leads", "import"]) => self.import_leads(req).await,
            (Method::Get, ["leads", id]) => self.get_lead(id),
            (Method::Patch, ["leads", id]) => self.update_lead(id, req).await,
            (Method::Post, ["leads", id, "sends"]) => self.send(id, req).await,
            (Method::Get, ["leads", id, "decisions"]) => self.list_decisions(id),
            (Method::Post, ["leads", id, "stage"]) => self.change_stage(id, req).await,
            (Method::Post, ["leads", id, "takeover"]) => self.set_takeover(id, &req, true),
            (Method::Post, ["leads", id, "handback"]) => self.set_takeover(id, &req, false),
            (Method::Post, ["leads", id, "replies"]) => self.record_reply(id, req).await,
            (Method::Post, ["leads", id, "suppressions"]) => self.suppress(id, req).await,
            (Method::Get, ["leads", id, "suppressions"]) => self.suppressions(id),
            (Method::Post, ["leads", id, "suppressions", "lift"]) => self.lift(id, &req),
            (Method::Get, ["audit"]) => self.audit(&req, false),
            (Method::Get, ["audit", "export"]) => self.audit(&req, true),
            (Method::Post, ["leads", id, "drafts"]) => self.create_draft(id, req).await,
            (Method::Get, ["drafts"]) => self.list_drafts(&req),
            (Method::Post, ["knowledge"]) => self.ingest_document(req).await,
            (Method::Get, ["knowledge"]) => self.list_documents(),
            (Method::Get | Method::Post, ["knowledge", "search"]) => self.search_knowledge(req).await,
            (Method::Post, ["drafts", id, action @ ("approve" | "reject" | "send")]) => {
                let (id, action) = (id.to_string(), action.to_string());
                self.act_on_draft(&id, &action, req).await
            }
            (Method::Get, ["backup", "export"]) => runtime_support::snapshot::serve_export(&self.state.storage(), "workspace"),
            (Method::Post, ["backup", "import"]) => {
                let body = req.text().await?;
                runtime_support::snapshot::serve_import(&self.state.storage(), schema::MIGRATIONS, "workspace", &body).await
            }
            _ => responses::error(&ApiError::NotFound),
        }
    }

    fn migrate(&self) -> Result<()> {
        if !self.migrated.get() {
            let sql = self.state.storage().sql();
            transaction(&self.state.storage(), move || runtime_support::meta::migrate(&sql, schema::MIGRATIONS))?;
            self.migrated.set(true);
        }
        Ok(())
    }

    fn now() -> i64 {
        Date::now().as_millis() as i64
    }

    /// Counts the alarm in its org's metrics (`parley_alarms_total{object="workspace"}`). The
    /// org is in the object's name (`workspace/{org_id}`); a failure is logged, never fatal.
    async fn count_alarm(&self) {
        let name = self.state.id().name().unwrap_or_default();
        let (Some(org), Ok(db)) = (name.strip_prefix("workspace/"), self.env.d1("DB")) else { return };
        let alarm = telemetry::metrics::count(telemetry::metrics::ALARMS, &[("object", "workspace")]);
        if let Err(e) = tenancy_store::metrics::add(&db, org, &[alarm]).await {
            console_error!("metrics not recorded: {}", e.code());
        }
    }
}
