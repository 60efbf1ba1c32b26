//! Route handlers, dispatched on the pure route table's names.

mod chats;
mod health;
mod inbound;
mod leads;
mod messages;

use crate::identity::authenticate;
use domain::routes::{Route, RouteName};
use domain::ApiError;
use worker::{Env, Request, Response};

pub async fn dispatch(route: Route, req: Request, env: &Env) -> Result<Response, ApiError> {
    match route.name {
        RouteName::Health => health::health(),
        RouteName::Ready => health::ready(env).await,
        RouteName::Inbound => inbound::receive(req, env).await,
        _ => {
            let who = authenticate(&req, env)?;
            if let Some(path) = workspace_path(&route) {
                let body_type = if route.name == RouteName::ImportLeads { "text/csv" } else { "application/json" };
                return leads::forward(&who, req, env, &path, body_type).await;
            }
            match (route.name, route.chat) {
                (RouteName::Me, _) => chats::me(&who),
                (RouteName::ListChats, _) => chats::list(&who, env).await,
                (RouteName::CreateChat, _) => chats::create(&who, req, env).await,
                (RouteName::GetChat, Some(chat)) => messages::forward(&who, &chat, req, env, "/meta").await,
                (RouteName::ListMessages, Some(chat)) => messages::forward(&who, &chat, req, env, "/messages").await,
                (RouteName::PostMessage, Some(chat)) => messages::post(&who, &chat, req, env).await,
                (RouteName::ListTurns, Some(chat)) => messages::forward(&who, &chat, req, env, "/turns").await,
                (RouteName::ChatSocket, Some(chat)) => messages::socket(&who, &chat, req, env).await,
                _ => Err(ApiError::NotFound),
            }
        }
    }
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
