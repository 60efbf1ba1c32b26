//! Route handlers, dispatched on the pure route table's names.

mod agent;
mod auth_config;
mod backups;
mod chats;
mod health;
mod inbound;
mod leads;
mod messages;
mod metrics;
mod org;
mod secrets;
mod tickets;
mod webhooks;

use crate::identity::{authenticate, Identity};
use crate::observe::Observed;
use crate::tenancy;
use domain::routes::{Access, Route, RouteName};
use domain::ApiError;
use billing::Period;
use domain::ids::OrgId;
use std::future::Future;
use std::pin::Pin;
use worker::{D1Database, Date, Env, Request, Response};

pub async fn dispatch(route: Route, req: Request, env: &Env, obs: &mut Observed) -> Result<Response, ApiError> {
    let now_ms = Date::now().as_millis() as i64;
    match route.name {
        RouteName::Health => health::health(),
        RouteName::AuthConfig => auth_config::get(&req, env),
        RouteName::Ready => health::ready(env).await,
        RouteName::ClerkWebhook => webhooks::clerk::receive(req, env, now_ms).await,
        RouteName::StripeWebhook => webhooks::stripe::receive(req, env, now_ms).await,
        RouteName::Inbound => inbound::receive(req, env).await,
        _ => signed_in(route, req, env, now_ms, obs).await,
    }
}

/// Everything behind sign-in: the identity, the tenant gate, then the route.
async fn signed_in(route: Route, req: Request, env: &Env, now_ms: i64, obs: &mut Observed) -> Result<Response, ApiError> {
    debug_assert_ne!(route.name.access(), Access::Public);
    let db = tenancy_store::db(env)?;
    let who = match (route.name, &route.chat, socket_ticket(&req)) {
        (RouteName::ChatSocket, Some(chat), Some(ticket)) => tickets::redeem(&db, &ticket, chat, now_ms).await?,
        _ => authenticate(&req, env, now_ms / 1000).await?,
    };
    obs.org = Some(who.org.clone());
    tenancy::check_role(route.name, &who)?;
    let period = match (route.name.runs_agent(), &route.chat) {
        (true, Some(chat)) => Some(tenancy::check_agent_work(&db, env, &who, chat, now_ms).await?),
        _ => {
            tenancy::check_org(&db, env, &who, now_ms).await?;
            None
        }
    };
    if let Some(path) = workspace_path(&route) {
        let body_type = if route.name == RouteName::ImportLeads { "text/csv" } else { "application/json" };
        return leads::forward(&who, req, env, &path, body_type, obs).await;
    }
    if let (RouteName::PostMessage, Some(chat), Some(period)) = (route.name, &route.chat, period) {
        let response = messages::post(&who, chat, req, env, &obs.trace).await?;
        // Only a newly stored message counts (a retried client id answers 200).
        if response.status_code() == 201 {
            obs.after = Some(count_message(db, who.org, period, now_ms));
        }
        return Ok(response);
    }
    member_route(route, req, env, &db, &who, now_ms, obs).await
}

/// Counts a stored message in the org's usage, after the response.
fn count_message(db: D1Database, org: OrgId, period: Period, now_ms: i64) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {
        if let Err(e) = tenancy_store::usage::add_message(&db, &org, &period, now_ms).await {
            worker::console_error!("usage not recorded for a message: {e}");
        }
    })
}

async fn member_route(route: Route, req: Request, env: &Env, db: &D1Database, who: &Identity, now_ms: i64, obs: &mut Observed) -> Result<Response, ApiError> {
    let trace = &obs.trace;
    match (route.name, route.chat.clone(), route.secret.clone()) {
        (RouteName::Me, _, _) => org::me(who),
        (RouteName::GetOrg, _, _) => org::get(db, who).await,
        (RouteName::OrgUsage, _, _) => org::usage(db, who, now_ms).await,
        (RouteName::ListSecrets, _, _) => secrets::list(db, who).await,
        (RouteName::CreateSecret, _, _) => secrets::create(db, env, who, req, now_ms).await,
        (RouteName::DeleteSecret, _, Some(name)) => secrets::delete(db, who, &name, now_ms).await,
        (RouteName::ListChats, _, _) => chats::list(who, env).await,
        (RouteName::CreateChat, _, _) => chats::create(who, req, env).await,
        (RouteName::GetChat, Some(chat), _) => messages::forward(who, &chat, req, env, trace, "/meta").await,
        (RouteName::ListMessages, Some(chat), _) => messages::forward(who, &chat, req, env, trace, "/messages").await,
        (RouteName::ListTurns, Some(chat), _) => messages::forward(who, &chat, req, env, trace, "/turns").await,
        (RouteName::SocketTicket, Some(chat), _) => tickets::issue(db, who, &chat, now_ms).await,
        (RouteName::ChatSocket, Some(chat), _) => messages::socket(who, &chat, req, env, trace).await,
        (RouteName::ListApprovals, Some(chat), _) => messages::forward(who, &chat, req, env, trace, "/approvals").await,
        (RouteName::ListArtifacts, Some(chat), _) => messages::forward(who, &chat, req, env, trace, "/artifacts").await,
        (RouteName::DecideApproval, Some(chat), _) => agent::decide(db, who, &chat, route.key.as_deref().unwrap_or_default(), req, env, obs).await,
        (RouteName::Metrics, _, _) => metrics::get(who, env).await,
        (RouteName::ListEndpoints, _, _) => agent::list_endpoints(db, who).await,
        (RouteName::PutEndpoint, _, _) => agent::put_endpoint(db, who, route.key.as_deref().unwrap_or_default(), req, now_ms).await,
        (RouteName::DeleteEndpoint, _, _) => agent::delete_endpoint(db, who, route.key.as_deref().unwrap_or_default()).await,
        (RouteName::ListBackups, _, _) => backups::list(who, &req, env).await,
        (RouteName::TakeBackup, _, _) => backups::take(who, req, env, now_ms).await,
        (RouteName::GetBackup, _, _) => backups::get(who, route.key.as_deref(), env).await,
        (RouteName::GetBackupPart, _, _) => backups::part(who, route.key.as_deref(), &req, env).await,
        (RouteName::RestoreBackup, _, _) => backups::restore(who, route.key.as_deref(), env).await,
        _ => Err(ApiError::NotFound),
    }
}

/// The `ticket` query parameter of a WebSocket upgrade.
fn socket_ticket(req: &Request) -> Option<String> {
    runtime_support::query::param(req, "ticket")
}

/// The Workspace object's path for a workspace route.
fn workspace_path(route: &Route) -> Option<String> {
    let lead = route.lead.as_ref().map(|l| l.as_str());
    match (route.name, lead) {
        (RouteName::GetSettings | RouteName::UpdateSettings, _) => Some("/settings".into()),
        (RouteName::FeatureFlags, _) => Some("/flags".into()),
        (RouteName::ListLeads | RouteName::CreateLead, _) => Some("/leads".into()),
        (RouteName::ImportLeads, _) => Some("/leads/import".into()),
        (RouteName::GetLead | RouteName::UpdateLead, Some(id)) => Some(format!("/leads/{id}")),
        (RouteName::SendToLead, Some(id)) => Some(format!("/leads/{id}/sends")),
        (RouteName::ListDecisions, Some(id)) => Some(format!("/leads/{id}/decisions")),
        (RouteName::ChangeLeadStage, Some(id)) => Some(format!("/leads/{id}/stage")),
        (RouteName::TakeOverLead, Some(id)) => Some(format!("/leads/{id}/takeover")),
        (RouteName::HandBackLead, Some(id)) => Some(format!("/leads/{id}/handback")),
        (RouteName::RecordReply, Some(id)) => Some(format!("/leads/{id}/replies")),
        (RouteName::Suppress | RouteName::ListSuppressions, Some(id)) => Some(format!("/leads/{id}/suppressions")),
        (RouteName::LiftSuppressions, Some(id)) => Some(format!("/leads/{id}/suppressions/lift")),
        (RouteName::AuditLog, _) => Some("/audit".into()),
        (RouteName::IngestKnowledge | RouteName::ListKnowledge, _) => Some("/knowledge".into()),
        (RouteName::SearchKnowledge, _) => Some("/knowledge/search".into()),
        (RouteName::AuditExport, _) => Some("/audit/export".into()),
        (RouteName::Outbox, _) => Some("/outbox".into()),
        (RouteName::CreateDraft, Some(id)) => Some(format!("/leads/{id}/drafts")),
        (RouteName::ListDrafts, _) => Some("/drafts".into()),
        _ => draft_path(route),
    }
}

fn draft_path(route: &Route) -> Option<String> {
    let id = route.draft?;
    match route.name {
        RouteName::ApproveDraft => Some(format!("/drafts/{id}/approve")),
        RouteName::RejectDraft => Some(format!("/drafts/{id}/reject")),
        RouteName::SendDraft => Some(format!("/drafts/{id}/send")),
        _ => None,
    }
}

/// Builds a JSON response; serialisation of our own types cannot fail in practice, and if it
/// did the caller would see a 503 rather than a panic.
pub fn json<T: serde::Serialize>(status: u16, body: &T) -> Result<Response, ApiError> {
    Response::from_json(body)
        .map(|r| r.with_status(status))
        .map_err(|e| crate::error::unavailable("response encoding", e))
}

/// Checks that a request with a body declares JSON.
pub fn require_json(req: &Request) -> Result<(), ApiError> {
    require_type(req, "application/json")
}

/// Checks that a request with a body declares `mime` (parameters such as charset allowed).
pub fn require_type(req: &Request, expected: &'static str) -> Result<(), ApiError> {
    let content_type = req.headers().get("Content-Type").ok().flatten().unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime == expected {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(if content_type.is_empty() { "none".into() } else { content_type }, expected))
    }
}
