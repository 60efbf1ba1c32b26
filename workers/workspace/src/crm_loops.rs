//! The CRM loops, run from the Workspace's alarm: due follow-ups (drafted or sent, always
//! through the send policy as the agent), the daily review of each lead, and the state update
//! after each conversation event. The decisions are `workspace::crm`'s; here they are carried
//! out, one lead per transaction, each action with its idempotency key in `crm_actions`,
//! written in the same transaction, so an alarm delivered twice or cut short acts once.

use crate::drafts::insert_draft;
use crate::handlers::{decide_and_record, SendAttempt};
use crate::{audit_log, store, Workspace};
use policy::Origin;
use runtime_support::transaction::transaction;
use serde::Deserialize;
use serde_json::json;
use std::rc::Rc;
use workspace::crm::{post_turn, review, Conversation, Dispatch, TurnEvent};
use workspace::followup::{followup_key, followup_text, next, post_turn_key, review_key, stop_reason, Cadence, Event, FollowupState, HOUR_MS};
use workspace::settings::Settings;
use worker::{console_error, Result, SqlStorage};

/// The schedule entries of the loops.
pub(crate) const CRM_DUE: &str = "crm_due";
pub(crate) const CRM_REVIEW: &str = "crm_review";
/// Leads handled per loop per alarm; the rest wait for the next alarm, a moment later.
const BATCH: i64 = 25;
/// Who the loops act as in the audit log and on drafts.
const LOOP_ACTOR: &str = "agent:crm";

/// What one pass of the follow-up loop needs, shared by its transactions.
struct Pass {
    settings: Settings,
    cadence: Cadence,
    zones: Rc<runtime_support::zones::IntlZones>,
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

impl Workspace {
    /// The length of an hour for the loops: `CRM_HOUR_MS` shortens it for tests (it is unset in
    /// production, where it is an hour).
    pub(crate) fn hour_ms(&self) -> i64 {
        self.env.var("CRM_HOUR_MS").ok().and_then(|v| v.to_string().parse().ok()).filter(|h: &i64| *h > 0).unwrap_or(HOUR_MS)
    }

    pub(crate) fn cadence(&self, settings: &Settings) -> Cadence {
        Cadence { config: settings.followup.clone(), hour_ms: self.hour_ms() }
    }

    /// Follows up with the leads whose follow-up is due (a batch, oldest first).
    pub(crate) fn run_followups(&self, now: i64) -> Result<()> {
        let sql = self.state.storage().sql();
        let due: Vec<IdRow> = sql.exec("SELECT id FROM leads WHERE next_followup_at <= ? ORDER BY next_followup_at LIMIT ?", vec![now.into(), BATCH.into()])?.to_array()?;
        if due.is_empty() {
            return Ok(());
        }
        let settings = self.settings()?;
        let pass = Rc::new(Pass { cadence: self.cadence(&settings), settings, zones: self.zones.clone() });
        for lead in due {
            let (sql, pass, id) = (self.state.storage().sql(), pass.clone(), lead.id.clone());
            // One lead's failure (rolled back whole) must not hold up the others.
            if let Err(e) = transaction(&self.state.storage(), move || follow_up(&sql, &pass, &id, now)) {
                console_error!("follow-up of {}: {e}", lead.id);
                // Retried an hour later, not at every alarm.
                postpone(&self.state.storage().sql(), "UPDATE leads SET next_followup_at = ? WHERE id = ?", &lead.id, now + self.hour_ms());
            }
        }
        Ok(())
    }

    /// Reviews the leads not reviewed for 24 hours (a batch, oldest review first).
    pub(crate) fn run_reviews(&self, now: i64) -> Result<()> {
        let cadence = Rc::new(self.cadence(&self.settings()?));
        let sql = self.state.storage().sql();
        let cutoff = now - cadence.review_period_ms();
        let due: Vec<IdRow> = sql.exec("SELECT id FROM leads WHERE last_followup_review_at <= ? ORDER BY last_followup_review_at LIMIT ?", vec![cutoff.into(), BATCH.into()])?.to_array()?;
        for lead in due {
            let (sql, cadence, id) = (self.state.storage().sql(), cadence.clone(), lead.id.clone());
            if let Err(e) = transaction(&self.state.storage(), move || review_lead(&sql, &cadence, &id, now)) {
                console_error!("review of {}: {e}", lead.id);
                // Counted as reviewed: the next try is a review period later.
                postpone(&self.state.storage().sql(), "UPDATE leads SET last_followup_review_at = ? WHERE id = ?", &lead.id, now);
            }
        }
        Ok(())
    }
}

/// Moves a lead that failed its loop out of the way (best effort: the failure is logged).
fn postpone(sql: &SqlStorage, statement: &str, lead_id: &str, at: i64) {
    if let Err(e) = sql.exec(statement, vec![at.into(), lead_id.into()]) {
        console_error!("postponing {lead_id}: {e}");
    }
}

/// Records an action's idempotency key; `false` if it was already there (the action was done).
fn claim(sql: &SqlStorage, key: &str, lead_id: &str, action: &str, now: i64) -> Result<bool> {
    let written = sql.exec("INSERT INTO crm_actions (key, lead_id, action, at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING", vec![key.into(), lead_id.into(), action.into(), now.into()])?;
    Ok(written.rows_written() > 0)
}

/// Whether the action with this key was done.
fn is_done(sql: &SqlStorage, key: &str) -> Result<bool> {
    Ok(sql.exec("SELECT key FROM crm_actions WHERE key = ?", vec![key.into()])?.raw().count() > 0)
}

/// One lead's due follow-up. Inside a transaction, so the check that it is due, the decision,
/// the draft or send, the key and the new schedule are written together or not at all.
fn follow_up(sql: &SqlStorage, pass: &Pass, lead_id: &str, now: i64) -> Result<()> {
    let Some(row) = store::lead_row(sql, lead_id)? else { return Ok(()) };
    let (facts, state, c) = (row.facts(), row.followup(), &pass.cadence);
    if state.next_at.is_none_or(|at| at > now) {
        return Ok(()); // no longer due: another pass got here first
    }
    if state.step >= u32::from(c.config.max_steps) {
        // The org lowered its number of steps after this one was scheduled: none is due.
        return store::set_followup(sql, lead_id, FollowupState { next_at: None, ..state }, now);
    }
    let key = followup_key(lead_id, state.step);
    if is_done(sql, &key)? {
        // Already drafted or sent: only the schedule moves on.
        return store::set_followup(sql, lead_id, next(c, &facts, state, Event::Done, now), now);
    }
    if let Some(reason) = stop_reason(&facts) {
        store::set_followup(sql, lead_id, FollowupState { next_at: None, ..state }, now)?;
        return audit_log::append(sql, now, LOOP_ACTOR, "crm.followup", Some(lead_id), &json!({ "step": state.step, "outcome": "stopped", "reason": reason.as_str() }));
    }
    let text = followup_text(&row.name, state.step);
    let report = quality_gate::check(&text, &pass.settings.gate);
    let (dispatch, decision_id) = if report.verdict == quality_gate::Verdict::Fail {
        // The org's word lists refuse the template: a person sees it blocked, nothing is sent.
        (Dispatch::Draft, None)
    } else {
        let attempt = SendAttempt { lead_id, client_id: &key, content: &text, risk: report.risk_score, actor: LOOP_ACTOR, channel: &pass.settings.channel, origin: Origin::Autonomous, cadence: c, trace: None };
        let Some(outcome) = decide_and_record(sql, &pass.settings.policy, pass.zones.as_ref(), &attempt, now)? else { return Ok(()) };
        (Dispatch::from_decision(outcome.verdict, &outcome.reasons), Some(outcome.decision_id))
    };
    let event = dispatch.event();
    if event == Event::Done {
        claim(sql, &key, lead_id, "followup", now)?;
    }
    let draft_id = if dispatch == Dispatch::Draft { Some(insert_draft(sql, lead_id, &text, "agent", &report, LOOP_ACTOR, now)?) } else { None };
    let after = next(c, &facts, state, event, now);
    store::set_followup(sql, lead_id, after, now)?;
    let detail = json!({ "step": state.step, "outcome": dispatch.as_str(), "key": key, "decision_id": decision_id, "draft_id": draft_id, "next_followup_at": after.next_at });
    audit_log::append(sql, now, LOOP_ACTOR, "crm.followup", Some(lead_id), &detail)
}

/// What the review reads of the lead's conversation.
fn conversation(sql: &SqlStorage, lead_id: &str) -> Result<Conversation> {
    #[derive(Deserialize)]
    struct Row {
        outbound: i64,
        replied: i64,
        unanswered: i64,
    }
    let r: Row = sql
        .exec(
            "SELECT COUNT(*) FILTER (WHERE direction = 'outbound') AS outbound, COUNT(*) FILTER (WHERE direction = 'inbound') AS replied, \
             COUNT(*) FILTER (WHERE direction = 'outbound' AND at > COALESCE((SELECT MAX(at) FROM contact_events WHERE lead_id = ? AND direction = 'inbound'), -1)) AS unanswered \
             FROM contact_events WHERE lead_id = ?",
            vec![lead_id.into(), lead_id.into()],
        )?
        .one()?;
    Ok(Conversation { outbound: r.outbound as usize, replied: r.replied > 0, unanswered: r.unanswered as usize })
}

/// One lead's review, keyed by the time of the review before it.
fn review_lead(sql: &SqlStorage, c: &Cadence, lead_id: &str, now: i64) -> Result<()> {
    let Some(row) = store::lead_row(sql, lead_id)? else { return Ok(()) };
    if row.last_followup_review_at > now - c.review_period_ms() || !claim(sql, &review_key(lead_id, row.last_followup_review_at), lead_id, "review", now)? {
        return Ok(());
    }
    let (facts, state) = (row.facts(), row.followup());
    let r = review(c, &facts, state, row.strategy_review != 0, &conversation(sql, lead_id)?, now);
    sql.exec("UPDATE leads SET last_followup_review_at = ? WHERE id = ?", vec![now.into(), lead_id.into()])?;
    if r.findings.is_empty() {
        return Ok(());
    }
    if r.followup != state {
        store::set_followup(sql, lead_id, r.followup, now)?;
    }
    if let Some(on) = r.tag {
        store::set_strategy_review(sql, lead_id, on, now)?;
    }
    if let Some(to) = r.stage {
        store::set_stage(sql, lead_id, to.as_str(), now)?;
    }
    let detail = json!({ "findings": r.findings, "stage": r.stage.map(|to| json!({ "from": facts.stage.as_str(), "to": to.as_str() })), "tagged": r.tag, "followup_step": r.followup.step, "next_followup_at": r.followup.next_at });
    audit_log::append(sql, now, LOOP_ACTOR, "crm.reviewed", Some(lead_id), &detail)
}

/// The stage and follow-up update after a conversation event (`event_key`: `send:{client_id}`
/// or `reply:{client_id}`), audited when it changes anything. Call inside the transaction that
/// records the event.
pub(crate) fn after_event(sql: &SqlStorage, c: &Cadence, lead_id: &str, event: TurnEvent, event_key: &str, actor: &str, now: i64) -> Result<()> {
    if !claim(sql, &post_turn_key(lead_id, event_key), lead_id, "post_turn", now)? {
        return Ok(());
    }
    let Some(row) = store::lead_row(sql, lead_id)? else { return Ok(()) };
    let (facts, before) = (row.facts(), row.followup());
    let p = post_turn(c, &facts, before, event, now);
    if p.stage.is_none() && p.followup == before {
        return Ok(());
    }
    if let Some(to) = p.stage {
        store::set_stage(sql, lead_id, to.as_str(), now)?;
    }
    store::set_followup(sql, lead_id, p.followup, now)?;
    let name = if event == TurnEvent::Sent { "sent" } else { "replied" };
    let detail = json!({ "event": name, "stage": p.stage.map(|to| json!({ "from": facts.stage.as_str(), "to": to.as_str() })), "followup_step": p.followup.step, "next_followup_at": p.followup.next_at });
    audit_log::append(sql, now, actor, "crm.post_turn", Some(lead_id), &detail)
}
