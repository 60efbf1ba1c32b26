//! Drafts: written, gated, approved or rejected by a person, and sent through the policy.

use crate::handlers::{decide_and_record, SendAttempt};
use crate::lead_actions::actor;
use crate::request::body_or_return;
use crate::{audit_log, store, Workspace};
use domain::json_fields::{parse_object, required_str};
use domain::message::NewUserMessage;
use domain::ApiError;
use policy::Verdict;
use runtime_support::responses::{error, json};
use runtime_support::transaction::transaction;
use serde::Deserialize;
use serde_json::{json, Value};
use workspace::draft::{initial_state, DraftEvent, DraftState};
use worker::*;

#[derive(Deserialize)]
struct DraftRow {
    id: i64,
    lead_id: String,
    content: String,
    origin: String,
    state: String,
    gate_verdict: String,
    risk_score: i64,
    violations: String,
    reject_reason: Option<String>,
    created_by: String,
    created_at: i64,
}

impl DraftRow {
    fn state(&self, now: i64) -> DraftState {
        DraftState::parse(&self.state).unwrap_or(DraftState::Blocked).at(self.created_at, now)
    }

    fn view(&self, now: i64) -> Value {
        json!({
            "id": self.id, "lead_id": self.lead_id, "content": self.content, "origin": self.origin,
            "state": self.state(now).as_str(), "reject_reason": self.reject_reason, "created_by": self.created_by, "created_at": self.created_at,
            "quality": { "verdict": self.gate_verdict, "risk_score": self.risk_score, "violations": serde_json::from_str::<Value>(&self.violations).unwrap_or_default() },
        })
    }
}

const COLUMNS: &str = "id, lead_id, content, origin, state, gate_verdict, risk_score, violations, reject_reason, created_by, created_at";

fn draft(sql: &SqlStorage, id: i64) -> Result<Option<DraftRow>> {
    let rows: Vec<DraftRow> = sql.exec(&format!("SELECT {COLUMNS} FROM drafts WHERE id = ?"), vec![id.into()])?.to_array()?;
    Ok(rows.into_iter().next())
}

fn set_state(sql: &SqlStorage, id: i64, state: DraftState, reason: Option<&str>, now: i64) -> Result<()> {
    sql.exec("UPDATE drafts SET state = ?, reject_reason = COALESCE(?, reject_reason), updated_at = ? WHERE id = ?", vec![state.as_str().into(), reason.map(str::to_owned).into(), now.into(), id.into()])?;
    Ok(())
}

/// Stores a draft with the quality gate's report (blocked if it failed) and its audit entry;
/// returns its id. Call inside a transaction, for an existing lead.
pub(crate) fn insert_draft(sql: &SqlStorage, lead: &str, content: &str, origin: &str, report: &quality_gate::Report, who: &str, now: i64) -> Result<i64> {
    let state = initial_state(report.verdict);
    let violations = serde_json::to_string(&report.violations).unwrap_or_default();
    let verdict = serde_json::to_value(report.verdict).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    sql.exec(
        "INSERT INTO drafts (lead_id, content, origin, state, gate_verdict, risk_score, violations, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![lead.into(), content.into(), origin.into(), state.as_str().into(), verdict.as_str().into(), i64::from(report.risk_score).into(), violations.into(), who.into(), now.into(), now.into()],
    )?;
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let id = sql.exec("SELECT last_insert_rowid() AS id", None)?.one::<Id>()?.id;
    audit_log::append(sql, now, who, "draft.created", Some(lead), &json!({ "draft_id": id, "state": state.as_str(), "quality": verdict, "risk_score": report.risk_score }))?;
    Ok(id)
}

fn parse_draft_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|n| *n > 0)
}

impl Workspace {
    /// `POST /leads/{id}/drafts` with `{ "client_id", "content" }`: a person (or the agent's
    /// `draft_message` tool, acting as `agent:{turn}`) writes a draft. The quality gate runs at
    /// once; a failing draft is stored blocked, with its violations.
    pub(crate) async fn create_draft(&self, lead_id: &str, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        let origin = if who.starts_with("agent:") { "agent" } else { "human" };
        let new = body_or_return!(req, NewUserMessage::from_body);
        let report = quality_gate::check(&new.content, &self.settings()?.gate);
        let (sql, lead, now) = (self.state.storage().sql(), lead_id.to_owned(), Self::now());
        let created = transaction(&self.state.storage(), move || {
            if store::lead_view(&sql, &lead)?.is_none() {
                return Ok(None);
            }
            let id = insert_draft(&sql, &lead, &new.content, origin, &report, &who, now)?;
            Ok(draft(&sql, id)?.map(|d| d.view(now)))
        })?;
        match created {
            Some(view) => json(201, &view),
            None => error(&ApiError::UnknownLead),
        }
    }

    /// `GET /drafts?state=pending`: the queue (newest first), or every draft.
    pub(crate) fn list_drafts(&self, req: &Request) -> Result<Response> {
        let wanted = crate::request::query_param(req, "state");
        if let Some(w) = &wanted {
            if DraftState::parse(w).is_none() {
                return error(&ApiError::InvalidQuery { param: "state", reason: format!("unknown draft state `{w}`") });
            }
        }
        let now = Self::now();
        let rows: Vec<DraftRow> = self.state.storage().sql().exec(&format!("SELECT {COLUMNS} FROM drafts ORDER BY id DESC LIMIT 500"), None)?.to_array()?;
        let drafts: Vec<Value> = rows.iter().filter(|d| wanted.as_deref().is_none_or(|w| d.state(now).as_str() == w)).map(|d| d.view(now)).collect();
        json(200, &json!({ "drafts": drafts }))
    }

    /// `POST /drafts/{id}/approve`, `/reject` (with `{ "reason" }`) and `/send`.
    pub(crate) async fn act_on_draft(&self, raw_id: &str, action: &str, mut req: Request) -> Result<Response> {
        let Some(id) = parse_draft_id(raw_id) else { return error(&ApiError::UnknownDraft) };
        let (who, trace) = (actor(&req), runtime_support::trace::of(&req));
        let reason = if action == "reject" {
            Some(body_or_return!(req, |b| {
                let reason = required_str(&parse_object(b)?, "reason")?.trim().to_owned();
                if reason.is_empty() {
                    return Err(ApiError::InvalidField { field: "reason", reason: "must not be empty".into() });
                }
                Ok(reason)
            }))
        } else {
            None
        };
        let all = self.settings()?;
        let cadence = self.cadence(&all);
        let (sql, settings, channel, zones, now, action) = (self.state.storage().sql(), all.policy, all.channel, self.zones.clone(), Self::now(), action.to_owned());
        let result = transaction(&self.state.storage(), move || -> Result<std::result::Result<(u16, Value), ApiError>> {
            let Some(d) = draft(&sql, id)? else { return Ok(Err(ApiError::UnknownDraft)) };
            let current = d.state(now);
            let event = match action.as_str() {
                "approve" => DraftEvent::Approve,
                "reject" => DraftEvent::Reject,
                _ => DraftEvent::PolicyAllowed,
            };
            let refused = |what: &str| Ok(Err(ApiError::InvalidTransition(format!("a {} draft cannot be {what}", current.as_str()))));
            let Some(next) = current.apply(event) else {
                return refused(match event { DraftEvent::Approve => "approved", DraftEvent::Reject => "rejected", _ => "sent" });
            };
            if event != DraftEvent::PolicyAllowed {
                set_state(&sql, id, next, reason.as_deref(), now)?;
                audit_log::append(&sql, now, &who, &format!("draft.{}", next.as_str()), Some(&d.lead_id), &json!({ "draft_id": id, "reason": reason }))?;
                return Ok(Ok((200, draft(&sql, id)?.map(|x| x.view(now)).unwrap_or_default())));
            }
            // Sending asks the policy again, now; the decision is recorded whatever it is.
            let client_id = format!("draft-{id}");
            let attempt = SendAttempt { lead_id: &d.lead_id, client_id: &client_id, content: &d.content, risk: d.risk_score.clamp(0, 100) as u8, actor: &who, channel: &channel, origin: policy::Origin::Human, cadence: &cadence, trace: trace.as_deref() };
            let Some(outcome) = decide_and_record(&sql, &settings, zones.as_ref(), &attempt, now)? else { return Ok(Err(ApiError::UnknownLead)) };
            let next = match outcome.verdict {
                Verdict::Allow => Some(DraftState::Sent),
                Verdict::Deny => Some(DraftState::Blocked),
                Verdict::Defer { .. } | Verdict::Review => None,
            };
            if let Some(next) = next {
                set_state(&sql, id, next, None, now)?;
                audit_log::append(&sql, now, &who, &format!("draft.{}", next.as_str()), Some(&d.lead_id), &json!({ "draft_id": id }))?;
            }
            let mut body = outcome.body;
            body["draft"] = draft(&sql, id)?.map(|x| x.view(now)).unwrap_or_default();
            Ok(Ok((outcome.status, body)))
        })?;
        self.deliver_due().await?;
        match result {
            Ok((status, body)) => crate::handlers::send_answer(status, &body),
            Err(e) => error(&e),
        }
    }
}
