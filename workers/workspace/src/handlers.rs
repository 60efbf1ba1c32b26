//! The workspace's request handlers.

use runtime_support::responses::{error, json};
use crate::lead_actions::actor;
use crate::request::body_or_return;
use crate::{audit_log, crm_loops, outbox, store, Workspace};
use workspace::crm::TurnEvent;
use runtime_support::meta::{meta_get, meta_set};
use runtime_support::transaction::transaction;
use domain::ids::LeadId;
use domain::ApiError;
use policy::{decide, Origin, SendRequest, Verdict};
use runtime_support::random;
use workspace::lead::{LeadFilter, NewLead};
use workspace::send::{verdict_parts, DecisionView, NewSend};
use workspace::followup;
use workspace::settings;
use worker::*;
use worker::SqlStorage;

const LIST_LIMIT: u32 = 500;

impl Workspace {
    pub(crate) fn settings(&self) -> Result<settings::Settings> {
        Ok(settings::from_stored(meta_get(&self.state.storage().sql(), "settings")?.as_deref()))
    }

    pub(crate) fn get_settings(&self) -> Result<Response> {
        json(200, &settings::to_json(&self.settings()?))
    }

    pub(super) async fn put_settings(&self, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        // The body is read first: between reading the current settings and the transaction
        // that replaces them there is no `await`, so a concurrent change is never lost or
        // compared against a stale cadence.
        let bytes = req.bytes().await?;
        let current = self.settings()?;
        let next = match settings::patch(&current, &bytes) {
            Ok(next) => next,
            Err(e) => return error(&e),
        };
        if !self.zones.is_known(&next.policy.default_zone) {
            return error(&ApiError::InvalidField { field: "default_time_zone", reason: format!("unknown time zone `{}`", next.policy.default_zone) });
        }
        let (sql, view, now) = (self.state.storage().sql(), settings::to_json(&next), Self::now());
        let stored = view.clone();
        // A new cadence applies to follow-ups already waiting, in the same transaction.
        let cadence = (current.followup != next.followup).then(|| self.cadence(&next));
        let moved = transaction(&self.state.storage(), move || {
            meta_set(&sql, "settings", &stored.to_string())?;
            audit_log::append(&sql, now, &who, "settings.changed", None, &stored)?;
            let Some(cadence) = cadence else { return Ok(0) };
            let (mut moved, mut revived) = (0, 0);
            for lead in store::cadence_leads(&sql, cadence.config.max_steps)? {
                let before = lead.followup();
                let after = followup::reschedule(&cadence, &lead.facts(), before, lead.anchor, lead.replied(), now);
                if after != before {
                    store::set_followup(&sql, &lead.id, after, now)?;
                    moved += 1;
                    revived += usize::from(before.next_at.is_none());
                }
            }
            if moved > 0 {
                audit_log::append(&sql, now, &who, "followups.rescheduled", None, &serde_json::json!({ "leads": moved, "revived": revived }))?;
            }
            Ok(moved)
        })?;
        if moved > 0 {
            self.arm().await?;
        }
        json(200, &view)
    }

    /// `GET /leads?stage&tag&q`: newest first.
    pub(super) fn list_leads(&self, req: &Request) -> Result<Response> {
        let pairs = crate::request::query(req);
        let filter = match LeadFilter::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(f) => f,
            Err(e) => return error(&e),
        };
        let leads = store::list_leads(&self.state.storage().sql(), &filter, LIST_LIMIT)?;
        json(200, &serde_json::json!({ "leads": leads }))
    }

    /// `GET /flags?subject=...`: every feature flag, its rollout and whether it is on for the
    /// subject (a lead, chat or user id).
    pub(super) fn evaluate_flags(&self, req: &Request) -> Result<Response> {
        let Some(subject) = crate::request::query_param(req, "subject").filter(|s| !s.is_empty()) else {
            return error(&ApiError::InvalidQuery { param: "subject", reason: "is required".into() });
        };
        let flags = self.settings()?.flags;
        let evaluated: serde_json::Map<String, serde_json::Value> = flags
            .iter()
            .map(|(name, pct)| (name.clone(), serde_json::json!({ "percentage": pct, "enabled": workspace::flags::is_enabled(&flags, name, &subject) })))
            .collect();
        json(200, &serde_json::json!({ "subject": subject, "flags": evaluated }))
    }

    /// `GET /outbox`: what the outbox channel recorded as sent, newest first.
    pub(super) fn list_outbox(&self) -> Result<Response> {
        json(200, &serde_json::json!({ "sent": store::outbox(&self.state.storage().sql(), LIST_LIMIT)? }))
    }

    pub(super) async fn create_lead(&self, mut req: Request) -> Result<Response> {
        let lead = body_or_return!(req, NewLead::from_body);
        if let Some(zone) = &lead.time_zone {
            if !self.zones.is_known(zone) {
                return error(&ApiError::InvalidField { field: "time_zone", reason: format!("unknown time zone `{zone}`") });
            }
        }
        let Some(bytes) = random::bytes16() else {
            return error(&ApiError::Unavailable { dependency: "crypto" });
        };
        let id = LeadId::from_random(bytes);
        let now = Self::now();
        let first = workspace::followup::on_created(&self.cadence(&self.settings()?), now);
        let view = store::insert_lead(&self.state.storage().sql(), id.as_str(), &lead, first, now)?;
        // The new lead's first follow-up and review join the schedule.
        self.arm().await?;
        json(201, &view)
    }

    pub(super) fn get_lead(&self, id: &str) -> Result<Response> {
        match store::lead_view(&self.state.storage().sql(), id)? {
            Some(view) => json(200, &view),
            None => error(&ApiError::UnknownLead),
        }
    }

    pub(super) fn list_decisions(&self, id: &str) -> Result<Response> {
        let sql = self.state.storage().sql();
        if store::lead_view(&sql, id)?.is_none() {
            return error(&ApiError::UnknownLead);
        }
        json(200, &serde_json::json!({ "decisions": store::decisions(&sql, id, LIST_LIMIT)? }))
    }

    /// Decides and records a person's send to a lead.
    pub(super) async fn send(&self, id: &str, mut req: Request) -> Result<Response> {
        let (who, trace) = (actor(&req), runtime_support::trace::of(&req));
        let new = body_or_return!(req, NewSend::from_body);
        let all = self.settings()?;
        let cadence = self.cadence(&all);
        let (sql, settings, channel, zones, lead_id, now) = (self.state.storage().sql(), all.policy, all.channel, self.zones.clone(), id.to_owned(), Self::now());
        let outcome = transaction(&self.state.storage(), move || {
            if store::lead_contact(&sql, &lead_id)?.is_none() {
                return Ok(Ok(None));
            }
            // A retry repeats what was sent to this lead; a reused id is refused, unsent (ADR 20).
            if let Some(sent) = store::sent_by_client_id(&sql, new.client_id.as_str())? {
                if let Err(e) = new.check_retry_of(&lead_id, &sent.lead_id, &sent.content) {
                    return Ok(Err(e));
                }
            }
            let attempt = SendAttempt { lead_id: &lead_id, client_id: new.client_id.as_str(), content: &new.content, risk: 0, actor: &who, channel: &channel, origin: Origin::Human, cadence: &cadence, trace: trace.as_deref() };
            decide_and_record(&sql, &settings, zones.as_ref(), &attempt, now).map(Ok)
        })?;
        // The intent is stored; delivery happens after, and is retried from the alarm.
        self.deliver_due().await?;
        match outcome {
            Ok(Some(o)) => send_answer(o.status, &o.body),
            Ok(None) => error(&ApiError::UnknownLead),
            Err(e) => error(&e),
        }
    }
}

/// A send's answer, with its decision in `x-parley-policy` for the orchestrator's metrics
/// (a duplicate decided nothing new, so it carries none).
pub(crate) fn send_answer(status: u16, body: &serde_json::Value) -> Result<Response> {
    let mut res = json(status, body)?;
    let d = &body["decision"];
    if let (Some(verdict), false) = (d["verdict"].as_str(), body["duplicate"] == true) {
        res.headers_mut().set(telemetry::metrics::POLICY_HEADER, &[verdict, " ", d["reasons"][0].as_str().unwrap_or("none")].concat())?;
    }
    Ok(res)
}

/// One send: a person's, or the agent's (a follow-up).
pub(crate) struct SendAttempt<'a> {
    pub lead_id: &'a str,
    /// Makes retries idempotent: a send already recorded under it is returned, not redone.
    pub client_id: &'a str,
    pub content: &'a str,
    /// The quality gate's risk score for the text (0 for a message typed and sent at once).
    pub risk: u8,
    pub actor: &'a str,
    /// Where an allowed send goes.
    pub channel: &'a workspace::channel::Channel,
    /// A person (`human`) or the agent on its own (`agent`: the policy's state rules for
    /// autonomous sends apply).
    pub origin: Origin,
    /// The org's follow-up cadence, for the state update after an allowed send.
    pub cadence: &'a workspace::followup::Cadence,
    /// The request's trace id, for the decision's log line.
    pub trace: Option<&'a str>,
}

/// What a send attempt produced.
pub(crate) struct SendOutcome {
    pub status: u16,
    pub body: serde_json::Value,
    pub verdict: Verdict,
    /// The decision's reasons (empty for a duplicate).
    pub reasons: Vec<policy::ReasonCode>,
    pub decision_id: i64,
}

/// Decides a send under the policy and records it, all synchronously: call inside a
/// transaction. The decision and its audit entry are always written; the outbox row only with
/// the permit the policy gives. `None` when the lead does not exist.
pub(crate) fn decide_and_record(sql: &SqlStorage, settings: &policy::OrgSettings, zones: &dyn policy::ZoneRules, a: &SendAttempt<'_>, now: i64) -> Result<Option<SendOutcome>> {
    let Some(contact) = store::lead_contact(sql, a.lead_id)? else { return Ok(None) };
    if let Some(sent) = store::sent_by_client_id(sql, a.client_id)? {
        let decision = store::decision(sql, sent.decision_id)?;
        let body = serde_json::json!({ "decision": decision, "sent": { "id": sent.id, "content": sent.content, "created_at": sent.created_at }, "duplicate": true });
        return Ok(Some(SendOutcome { status: 200, body, verdict: Verdict::Allow, reasons: Vec::new(), decision_id: sent.decision_id }));
    }
    let history = store::history(sql, a.lead_id, now)?;
    // Templates and people's messages are written as meant: full confidence; risk from the gate.
    let request = SendRequest { contact_id: a.lead_id.to_owned(), origin: a.origin, confidence: 100, risk: a.risk };
    let origin = if a.origin == Origin::Human { "human" } else { "agent" };
    let decision = decide(&request, &contact, &history, settings, zones, now);
    let verdict = decision.verdict;
    let (name, until) = verdict_parts(verdict);
    let line = telemetry::LogLine::new(now, telemetry::Level::Info, "policy.decided").trace(a.trace).lead(Some(a.lead_id)).text("verdict", Some(name));
    worker::console_log!("{}", line.text("reason", decision.reasons.first().map(|r| r.as_str())).render());
    let reasons = serde_json::to_string(&decision.reasons).unwrap_or_default();
    let trace = serde_json::to_string(&decision.rule_trace).unwrap_or_default();
    let recorded = store::NewDecision { lead_id: a.lead_id, client_id: a.client_id, origin, verdict: name, until, reasons: &reasons, trace: &trace };
    let decision_id = store::insert_decision(sql, &recorded, now)?;
    audit_log::append(sql, now, a.actor, "send.decided", Some(a.lead_id), &serde_json::json!({ "decision_id": decision_id, "verdict": name, "reasons": decision.reasons }))?;
    // A send sent to strategy review tags the lead; a person's allowed send resolves it.
    let tagged = store::lead_view(sql, a.lead_id)?.is_some_and(|l| l.strategy_review);
    if let Some(on) = workspace::lead::review_tag_change(tagged, verdict) {
        store::set_strategy_review(sql, a.lead_id, on, now)?;
        let action = if on { "lead.tagged" } else { "lead.untagged" };
        audit_log::append(sql, now, a.actor, action, Some(a.lead_id), &serde_json::json!({ "tag": workspace::lead::STRATEGY_REVIEW_TAG, "decision_id": decision_id }))?;
    }
    let view = DecisionView::new(decision_id, a.lead_id, origin, &decision);
    let reasons = decision.reasons.clone();
    Ok(Some(match decision.into_permit() {
        Some(permit) => {
            let send_id = outbox::send(sql, permit, decision_id, a.client_id, a.content, a.channel)?;
            crm_loops::after_event(sql, a.cadence, a.lead_id, TurnEvent::Sent, &format!("send:{}", a.client_id), a.actor, now)?;
            let body = serde_json::json!({ "decision": view, "sent": { "id": send_id, "content": a.content, "created_at": now }, "duplicate": false });
            SendOutcome { status: 201, body, verdict, reasons, decision_id }
        }
        None => SendOutcome { status: 200, body: serde_json::json!({ "decision": view, "sent": null, "duplicate": false }), verdict, reasons, decision_id },
    }))
}
