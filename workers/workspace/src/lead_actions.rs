//! What people do to a lead besides sending: move its stage, take it over and hand it back,
//! record a reply. Each change and its audit entry are written in one transaction.

use crate::request::body_or_return;
use crate::{audit_log, crm_loops, store, Workspace};
use workspace::crm::TurnEvent;
use domain::json_fields::{parse_object, required_str};
use domain::ApiError;
use runtime_support::responses::{error, json};
use runtime_support::transaction::transaction;
use serde_json::json;
use workspace::audit::{to_csv, AuditQuery};
use workspace::lead::LeadPatch;
use workspace::opt_out::is_opt_out;
use workspace::send::NewSend;
use workspace::stage::{Actor, LeadStage};
use worker::*;

/// The acting user, set by the orchestrator from the authenticated identity.
pub fn actor(req: &Request) -> String {
    req.headers().get("x-parley-actor").ok().flatten().unwrap_or_else(|| "unknown".into())
}

impl Workspace {
    /// `PATCH /leads/{id}`: changes contact fields (audited with the names of the fields).
    pub(crate) async fn update_lead(&self, id: &str, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        let patch = body_or_return!(req, LeadPatch::from_body);
        if let Some(Some(zone)) = &patch.time_zone {
            if !self.zones.is_known(zone) {
                return error(&ApiError::InvalidField { field: "time_zone", reason: format!("unknown time zone `{zone}`") });
            }
        }
        let (sql, lead_id, now) = (self.state.storage().sql(), id.to_owned(), Self::now());
        let view = transaction(&self.state.storage(), move || {
            if store::lead_view(&sql, &lead_id)?.is_none() {
                return Ok(None);
            }
            store::update_lead(&sql, &lead_id, &patch, now)?;
            audit_log::append(&sql, now, &who, "lead.updated", Some(&lead_id), &json!({ "fields": patch.fields() }))?;
            store::lead_view(&sql, &lead_id)
        })?;
        match view {
            Some(v) => json(200, &v),
            None => error(&ApiError::UnknownLead),
        }
    }

    /// `POST /leads/{id}/stage` with `{ "stage" }`, by a person.
    pub(crate) async fn change_stage(&self, id: &str, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        let to = body_or_return!(req, |b| {
            let o = parse_object(b)?;
            let raw = required_str(&o, "stage")?;
            LeadStage::parse(raw).ok_or(ApiError::InvalidField { field: "stage", reason: format!("unknown stage `{raw}`") })
        });
        let (sql, lead_id, now) = (self.state.storage().sql(), id.to_owned(), Self::now());
        let result = transaction(&self.state.storage(), move || {
            let Some(lead) = store::lead_view(&sql, &lead_id)? else { return Ok(Err(ApiError::UnknownLead)) };
            let from = LeadStage::parse(&lead.stage).unwrap_or(LeadStage::New);
            if let Err(e) = from.transition(to, Actor::Human) {
                return Ok(Err(ApiError::InvalidTransition(e.to_string())));
            }
            store::set_stage(&sql, &lead_id, to.as_str(), now)?;
            audit_log::append(&sql, now, &who, "lead.stage_changed", Some(&lead_id), &json!({ "from": from.as_str(), "to": to.as_str() }))?;
            Ok(Ok(store::lead_view(&sql, &lead_id)?))
        })?;
        match result {
            Ok(view) => json(200, &view),
            Err(e) => error(&e),
        }
    }

    /// `POST /leads/{id}/takeover` or `/handback`: a person takes the lead from the agent, or
    /// gives it back. While taken over, no autonomous send passes the policy.
    pub(crate) fn set_takeover(&self, id: &str, req: &Request, on: bool) -> Result<Response> {
        let (sql, lead_id, now, who) = (self.state.storage().sql(), id.to_owned(), Self::now(), actor(req));
        let view = transaction(&self.state.storage(), move || {
            if store::lead_view(&sql, &lead_id)?.is_none() {
                return Ok(None);
            }
            store::set_takeover(&sql, &lead_id, on, now)?;
            audit_log::append(&sql, now, &who, if on { "lead.taken_over" } else { "lead.handed_back" }, Some(&lead_id), &json!({}))?;
            store::lead_view(&sql, &lead_id)
        })?;
        match view {
            Some(v) => json(200, &v),
            None => error(&ApiError::UnknownLead),
        }
    }

    /// `POST /leads/{id}/replies` with `{ "client_id", "content" }`: records the contact's
    /// reply, which resets the unanswered count; an opt-out phrase opts them out for good.
    pub(crate) async fn record_reply(&self, id: &str, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        let reply = body_or_return!(req, NewSend::from_body);
        let opted_out = is_opt_out(&reply.content);
        let cadence = self.cadence(&self.settings()?);
        let (sql, lead_id, now) = (self.state.storage().sql(), id.to_owned(), Self::now());
        let view = transaction(&self.state.storage(), move || {
            if store::lead_view(&sql, &lead_id)?.is_none() {
                return Ok(None);
            }
            if store::record_inbound(&sql, &lead_id, reply.client_id.as_str(), now)? {
                audit_log::append(&sql, now, &who, "lead.reply_recorded", Some(&lead_id), &json!({ "opt_out": opted_out }))?;
                if opted_out {
                    store::opt_out(&sql, &lead_id, now)?;
                    audit_log::append(&sql, now, &who, "lead.opted_out", Some(&lead_id), &json!({ "source": "reply" }))?;
                }
                let event = TurnEvent::Replied { opt_out: opted_out };
                crm_loops::after_event(&sql, &cadence, &lead_id, event, &format!("reply:{}", reply.client_id.as_str()), &who, now)?;
            }
            store::lead_view(&sql, &lead_id)
        })?;
        // A paused follow-up leaves the schedule.
        self.arm().await?;
        match view {
            Some(v) => json(200, &v),
            None => error(&ApiError::UnknownLead),
        }
    }

    /// `GET /audit?lead_id&action&from&to&after&limit`: matching entries (paged by `seq`), and
    /// whether the whole chain verifies. `GET /audit/export` gives the same entries as CSV.
    pub(crate) fn audit(&self, req: &Request, csv: bool) -> Result<Response> {
        let pairs = crate::request::query(req);
        let query = match AuditQuery::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(q) => q,
            Err(e) => return error(&e),
        };
        let entries = audit_log::all(&self.state.storage().sql())?;
        let broken = workspace::audit::first_broken(&entries);
        let page: Vec<_> = entries.into_iter().filter(|e| query.matches(e)).take(query.limit as usize).collect();
        if csv {
            let headers = Headers::new();
            headers.set("Content-Type", "text/csv; charset=utf-8")?;
            headers.set("Content-Disposition", "attachment; filename=\"parley-audit.csv\"")?;
            return Ok(Response::ok(to_csv(&page))?.with_headers(headers));
        }
        let next_after = page.last().map(|e| e.seq);
        json(200, &json!({ "entries": page, "chain_intact": broken.is_none(), "first_broken": broken, "next_after": next_after }))
    }
}
