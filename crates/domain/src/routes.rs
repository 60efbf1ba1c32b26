//! The orchestrator's route table and a pure matcher over it.
//!
//! The table is the single source of truth for which routes exist: the worker dispatches on
//! [`resolve`], and a test checks `docs/openapi.yaml` against [`ROUTES`].

use crate::ids::{ChatId, LeadId, SecretName};
use crate::ApiError;

/// Something the orchestrator can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteName {
    Health,
    Ready,
    AuthConfig,
    ClerkWebhook,
    StripeWebhook,
    Inbound,
    Me,
    GetOrg,
    OrgUsage,
    ListSecrets,
    CreateSecret,
    DeleteSecret,
    SocketTicket,
    ListApprovals,
    DecideApproval,
    ListArtifacts,
    ListEndpoints,
    PutEndpoint,
    DeleteEndpoint,
    IngestKnowledge,
    ListKnowledge,
    SearchKnowledge,
    ListChats,
    CreateChat,
    GetChat,
    ListMessages,
    PostMessage,
    ListTurns,
    ChatSocket,
    GetSettings,
    UpdateSettings,
    FeatureFlags,
    ListLeads,
    CreateLead,
    ImportLeads,
    GetLead,
    UpdateLead,
    SendToLead,
    ListDecisions,
    ChangeLeadStage,
    TakeOverLead,
    HandBackLead,
    RecordReply,
    Suppress,
    ListSuppressions,
    LiftSuppressions,
    AuditLog,
    AuditExport,
    Outbox,
    CreateDraft,
    ListDrafts,
    ApproveDraft,
    RejectDraft,
    SendDraft,
    ListBackups,
    TakeBackup,
    GetBackup,
    GetBackupPart,
    RestoreBackup,
    Metrics,
}

/// Every route: method, path template, name. `{chat_id}`, `{lead_id}`, `{draft_id}` and
/// `{secret_name}` match one segment.
pub const ROUTES: &[(&str, &str, RouteName)] = &[
    ("GET", "/health", RouteName::Health),
    ("GET", "/ready", RouteName::Ready),
    ("GET", "/auth/config", RouteName::AuthConfig),
    ("POST", "/webhooks/clerk", RouteName::ClerkWebhook),
    ("POST", "/webhooks/stripe", RouteName::StripeWebhook),
    ("POST", "/v1/inbound", RouteName::Inbound),
    ("GET", "/v1/me", RouteName::Me),
    ("GET", "/v1/org", RouteName::GetOrg),
    ("GET", "/v1/org/usage", RouteName::OrgUsage),
    ("GET", "/v1/secrets", RouteName::ListSecrets),
    ("POST", "/v1/secrets", RouteName::CreateSecret),
    ("DELETE", "/v1/secrets/{secret_name}", RouteName::DeleteSecret),
    ("POST", "/v1/chats/{chat_id}/ws-ticket", RouteName::SocketTicket),
    ("GET", "/v1/chats/{chat_id}/approvals", RouteName::ListApprovals),
    ("POST", "/v1/chats/{chat_id}/approvals/{approval_id}", RouteName::DecideApproval),
    ("GET", "/v1/chats/{chat_id}/artifacts", RouteName::ListArtifacts),
    ("GET", "/v1/tools/endpoints", RouteName::ListEndpoints),
    ("PUT", "/v1/tools/endpoints/{endpoint_name}", RouteName::PutEndpoint),
    ("DELETE", "/v1/tools/endpoints/{endpoint_name}", RouteName::DeleteEndpoint),
    ("POST", "/v1/knowledge", RouteName::IngestKnowledge),
    ("GET", "/v1/knowledge", RouteName::ListKnowledge),
    ("GET", "/v1/knowledge/search", RouteName::SearchKnowledge),
    ("GET", "/v1/chats", RouteName::ListChats),
    ("POST", "/v1/chats", RouteName::CreateChat),
    ("GET", "/v1/chats/{chat_id}", RouteName::GetChat),
    ("GET", "/v1/chats/{chat_id}/messages", RouteName::ListMessages),
    ("POST", "/v1/chats/{chat_id}/messages", RouteName::PostMessage),
    ("GET", "/v1/chats/{chat_id}/turns", RouteName::ListTurns),
    ("GET", "/v1/chats/{chat_id}/ws", RouteName::ChatSocket),
    ("GET", "/v1/workspace/settings", RouteName::GetSettings),
    ("PUT", "/v1/workspace/settings", RouteName::UpdateSettings),
    ("GET", "/v1/workspace/flags", RouteName::FeatureFlags),
    ("GET", "/v1/leads", RouteName::ListLeads),
    ("POST", "/v1/leads", RouteName::CreateLead),
    ("POST", "/v1/leads/import", RouteName::ImportLeads),
    ("GET", "/v1/leads/{lead_id}", RouteName::GetLead),
    ("PATCH", "/v1/leads/{lead_id}", RouteName::UpdateLead),
    ("POST", "/v1/leads/{lead_id}/sends", RouteName::SendToLead),
    ("GET", "/v1/leads/{lead_id}/decisions", RouteName::ListDecisions),
    ("POST", "/v1/leads/{lead_id}/stage", RouteName::ChangeLeadStage),
    ("POST", "/v1/leads/{lead_id}/takeover", RouteName::TakeOverLead),
    ("POST", "/v1/leads/{lead_id}/handback", RouteName::HandBackLead),
    ("POST", "/v1/leads/{lead_id}/replies", RouteName::RecordReply),
    ("POST", "/v1/leads/{lead_id}/suppressions", RouteName::Suppress),
    ("GET", "/v1/leads/{lead_id}/suppressions", RouteName::ListSuppressions),
    ("POST", "/v1/leads/{lead_id}/suppressions/lift", RouteName::LiftSuppressions),
    ("GET", "/v1/audit", RouteName::AuditLog),
    ("GET", "/v1/audit/export", RouteName::AuditExport),
    ("GET", "/v1/outbox", RouteName::Outbox),
    ("POST", "/v1/leads/{lead_id}/drafts", RouteName::CreateDraft),
    ("GET", "/v1/drafts", RouteName::ListDrafts),
    ("POST", "/v1/drafts/{draft_id}/approve", RouteName::ApproveDraft),
    ("POST", "/v1/drafts/{draft_id}/reject", RouteName::RejectDraft),
    ("POST", "/v1/drafts/{draft_id}/send", RouteName::SendDraft),
    ("GET", "/v1/backups", RouteName::ListBackups),
    ("POST", "/v1/backups", RouteName::TakeBackup),
    ("GET", "/v1/backups/{backup_id}", RouteName::GetBackup),
    ("GET", "/v1/backups/{backup_id}/parts", RouteName::GetBackupPart),
    ("POST", "/v1/backups/{backup_id}/restore", RouteName::RestoreBackup),
    ("GET", "/metrics", RouteName::Metrics),
];

/// A matched route with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub name: RouteName,
    pub chat: Option<ChatId>,
    pub lead: Option<LeadId>,
    /// A draft's number within the org's workspace.
    pub draft: Option<i64>,
    /// A secret's name.
    pub secret: Option<SecretName>,
    /// An approval's id, an HTTP tool endpoint's name, or a backup's id.
    pub key: Option<String>,
}

/// Who may call a route once signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: no session (health, the sign-in configuration, signed webhooks).
    Public,
    /// Any member of the org.
    Member,
    /// Only the org's admins: settings, suppression lifts, secrets, the audit export.
    Admin,
}

impl RouteName {
    /// Who may call the route.
    pub fn access(self) -> Access {
        match self {
            RouteName::Health | RouteName::Ready | RouteName::AuthConfig | RouteName::ClerkWebhook | RouteName::StripeWebhook | RouteName::Inbound => {
                Access::Public
            }
            RouteName::UpdateSettings
            | RouteName::LiftSuppressions
            | RouteName::ListSecrets
            | RouteName::CreateSecret
            | RouteName::DeleteSecret
            | RouteName::AuditExport
            | RouteName::DecideApproval
            | RouteName::ListEndpoints
            | RouteName::PutEndpoint
            | RouteName::DeleteEndpoint
            | RouteName::ListBackups
            | RouteName::TakeBackup
            | RouteName::GetBackup
            | RouteName::GetBackupPart
            | RouteName::RestoreBackup
            | RouteName::Metrics => Access::Admin,
            _ => Access::Member,
        }
    }

    /// Whether the route can start agent work, and so needs a paid-up subscription, a seat
    /// and quota left. (Deciding an approval continues a turn the gate already admitted.)
    pub fn runs_agent(self) -> bool {
        matches!(self, RouteName::PostMessage)
    }
}

/// Matches a request. An id that is not well formed is unknown (404), exactly as a
/// well-formed id that does not exist.
pub fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut allowed: Vec<&str> = Vec::new();
    for (m, template, route_name) in ROUTES {
        let Some(params) = match_template(template, &segments) else { continue };
        if *m != method {
            allowed.push(m);
            continue;
        }
        let (mut chat, mut lead, mut draft, mut secret, mut key) = (None, None, None, None, None);
        for param in params {
            match param {
                ("{chat_id}", raw) => chat = Some(ChatId::parse(raw).ok_or(ApiError::UnknownChat)?),
                ("{lead_id}", raw) => lead = Some(LeadId::parse(raw).ok_or(ApiError::UnknownLead)?),
                ("{draft_id}", raw) => draft = Some(raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or(ApiError::UnknownDraft)?),
                ("{secret_name}", raw) => secret = Some(SecretName::parse(raw).ok_or(ApiError::UnknownSecret)?),
                ("{backup_id}", raw) => key = Some(backup_id_shaped(raw).then(|| raw.to_owned()).ok_or(ApiError::NotFound)?),
                (_, raw) => key = Some(crate::endpoint::valid_name(raw).then(|| raw.to_owned()).ok_or(ApiError::NotFound)?),
            }
        }
        return Ok(Route { name: *route_name, chat, lead, draft, secret, key });
    }
    if allowed.is_empty() {
        Err(ApiError::NotFound)
    } else {
        Err(ApiError::MethodNotAllowed { allowed: allowed.join(", ") })
    }
}

/// Whether a segment can be a backup id (`{kind}.{object_id}.{taken_at}`, parsed in full by
/// `r2_layout::BackupId`): letters, digits, `_`, `-` and `.`, at most 128 bytes.
fn backup_id_shaped(raw: &str) -> bool {
    raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `Some(params)` when the template matches: each parameter's placeholder and its segment.
fn match_template<'t, 'a>(template: &'t str, segments: &[&'a str]) -> Option<Vec<(&'t str, &'a str)>> {
    let parts: Vec<&str> = template.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, seg) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            if seg.is_empty() {
                return None;
            }
            params.push((*part, *seg));
        } else if part != seg {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: &str = "chat_0123456789abcdefghjkmnpqrs";
    const LEAD: &str = "lead_0123456789abcdefghjkmnpqrs";

    #[test]
    fn every_table_entry_resolves_to_itself() {
        for (method, template, name) in ROUTES {
            let path = template.replace("{chat_id}", CHAT).replace("{lead_id}", LEAD).replace("{draft_id}", "7").replace("{secret_name}", "CRM_KEY").replace("{approval_id}", "apr_turn_1_0").replace("{endpoint_name}", "crm").replace("{backup_id}", "chat.chat_x.20261122T084420123Z");
            let route = resolve(method, &path).unwrap();
            assert_eq!(route.name, *name);
            assert_eq!(route.chat.is_some(), template.contains("{chat_id}"));
            assert_eq!(route.lead.is_some(), template.contains("{lead_id}"));
            assert_eq!(route.draft, template.contains("{draft_id}").then_some(7));
            assert_eq!(route.secret.is_some(), template.contains("{secret_name}"));
            assert_eq!(route.key.is_some(), template.contains("{approval_id}") || template.contains("{endpoint_name}") || template.contains("{backup_id}"));
        }
    }

    #[test]
    fn unknown_paths_methods_and_chats() {
        assert_eq!(resolve("GET", "/nope"), Err(ApiError::NotFound));
        assert_eq!(resolve("GET", "/v1/chats//messages"), Err(ApiError::NotFound));
        assert_eq!(
            resolve("DELETE", "/v1/chats"),
            Err(ApiError::MethodNotAllowed { allowed: "GET, POST".into() })
        );
        assert_eq!(resolve("GET", "/v1/chats/not-a-chat/messages"), Err(ApiError::UnknownChat));
        assert_eq!(resolve("GET", &format!("/v1/leads/{CHAT}")), Err(ApiError::UnknownLead));
        assert_eq!(resolve("POST", "/v1/drafts/0/send"), Err(ApiError::UnknownDraft));
        assert_eq!(resolve("POST", "/v1/drafts/x/send"), Err(ApiError::UnknownDraft));
        assert_eq!(resolve("GET", "/v1/chats/").unwrap().name, RouteName::ListChats);
        assert_eq!(resolve("DELETE", "/v1/secrets/has%20space"), Err(ApiError::UnknownSecret));
    }

    #[test]
    fn only_webhooks_health_and_sign_in_config_are_public() {
        let public: Vec<_> = ROUTES.iter().filter(|(_, _, n)| n.access() == Access::Public).map(|(_, t, _)| *t).collect();
        assert_eq!(public, ["/health", "/ready", "/auth/config", "/webhooks/clerk", "/webhooks/stripe", "/v1/inbound"]);
        assert_eq!(RouteName::CreateSecret.access(), Access::Admin);
        assert_eq!(RouteName::PostMessage.access(), Access::Member);
    }
}
