//! Reads and writes of the workspace's tables; synchronous, composed inside transactions.

use policy::{Contact, ContactHistory, ContactZone, HistoryEvent, Millis, DAY};
use serde::Deserialize;
use workspace::followup::{FollowupState, LeadFacts};
use workspace::lead::{LeadView, NewLead};
use workspace::stage::LeadStage;
use worker::{Result, SqlStorage, SqlStorageValue as V};

/// A lead as stored.
#[derive(Deserialize)]
pub struct LeadRow {
    pub id: String,
    pub name: String,
    email: Option<String>,
    phone: Option<String>,
    time_zone: Option<String>,
    industry: Option<String>,
    company_stage: Option<String>,
    employees: Option<i64>,
    stage: String,
    opted_out: i64,
    human_takeover: i64,
    pub strategy_review: i64,
    suppressed_until: Option<i64>,
    created_at: i64,
    followup_step: i64,
    next_followup_at: Option<i64>,
    pub last_followup_review_at: i64,
    followup_preset: Option<String>,
}

impl LeadRow {
    pub fn view(&self) -> LeadView {
        LeadView {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            time_zone: self.time_zone.clone(),
            industry: self.industry.clone(),
            company_stage: self.company_stage.clone(),
            employees: self.employees.and_then(|e| u32::try_from(e).ok()),
            stage: self.stage.clone(),
            opted_out: self.opted_out != 0,
            human_takeover: self.human_takeover != 0,
            strategy_review: self.strategy_review != 0,
            suppressed_until: self.suppressed_until,
            created_at: self.created_at,
            next_followup_at: self.next_followup_at,
            followup_step: u32::try_from(self.followup_step).unwrap_or(0),
            followup_preset: self.followup_preset.clone().unwrap_or_else(|| "standard".to_owned()),
            tags: Vec::new(),
        }
        .with_tags(worker::Date::now().as_millis() as i64)
    }

    /// What the send policy knows of this lead.
    fn contact(&self) -> Contact {
        Contact {
            zone: self.time_zone.clone().map_or(ContactZone::Unknown, ContactZone::Known),
            opted_out: self.opted_out != 0,
            suppressed_until: self.suppressed_until,
            human_takeover: self.human_takeover != 0,
            industry: self.industry.clone(),
            company_stage: self.company_stage.clone(),
            employees: self.employees.and_then(|e| u32::try_from(e).ok()),
        }
    }

    /// What the CRM loops know of this lead.
    pub fn facts(&self) -> LeadFacts {
        lead_facts(&self.stage, self.opted_out, self.human_takeover)
    }

    /// The lead's follow-up state.
    pub fn followup(&self) -> FollowupState {
        followup_state(self.followup_step, self.next_followup_at)
    }
}

/// What the CRM loops know of a lead, from its stored columns (an unknown stage reads as new).
fn lead_facts(stage: &str, opted_out: i64, human_takeover: i64) -> LeadFacts {
    LeadFacts { stage: LeadStage::parse(stage).unwrap_or(LeadStage::New), opted_out: opted_out != 0, human_takeover: human_takeover != 0 }
}

/// A lead's follow-up state, from its stored columns.
fn followup_state(step: i64, next_at: Option<i64>) -> FollowupState {
    FollowupState { step: u32::try_from(step).unwrap_or(0), next_at }
}

// The preset is the org's, read from the stored settings in the same statement.
const LEAD_COLUMNS: &str = "id, name, email, phone, time_zone, industry, company_stage, employees, stage, opted_out, human_takeover, strategy_review, suppressed_until, created_at, \
    followup_step, next_followup_at, last_followup_review_at, (SELECT json_extract(value, '$.followup_preset') FROM meta WHERE key = 'settings') AS followup_preset";

/// Inserts a lead with its first follow-up (`followup`, from `workspace::followup::on_created`).
pub fn insert_lead(sql: &SqlStorage, id: &str, lead: &NewLead, followup: FollowupState, now: Millis) -> Result<LeadView> {
    let opt = |v: &Option<String>| -> V { v.clone().into() };
    sql.exec(
        "INSERT INTO leads (id, name, email, phone, time_zone, industry, company_stage, employees, created_at, updated_at, last_followup_review_at, next_followup_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![id.into(), lead.name.as_str().into(), opt(&lead.email), opt(&lead.phone), opt(&lead.time_zone), opt(&lead.industry), opt(&lead.company_stage), lead.employees.map(i64::from).into(), now.into(), now.into(), now.into(), followup.next_at.into()],
    )?;
    lead_view(sql, id)?.ok_or_else(|| worker::Error::RustError(format!("lead {id} missing right after its insert")))
}

pub fn lead_row(sql: &SqlStorage, id: &str) -> Result<Option<LeadRow>> {
    let rows: Vec<LeadRow> = sql.exec(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = ?"), vec![id.into()])?.to_array()?;
    Ok(rows.into_iter().next())
}

pub fn lead_view(sql: &SqlStorage, id: &str) -> Result<Option<LeadView>> {
    Ok(lead_row(sql, id)?.map(|r| r.view()))
}

pub fn lead_contact(sql: &SqlStorage, id: &str) -> Result<Option<Contact>> {
    Ok(lead_row(sql, id)?.map(|r| r.contact()))
}

/// Leads matching the filter, newest first. The filter runs in SQL, before the limit, so the
/// limit never hides an older match.
pub fn list_leads(sql: &SqlStorage, filter: &workspace::lead::LeadFilter, limit: u32) -> Result<Vec<LeadView>> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<V> = Vec::new();
    if let Some(stage) = &filter.stage {
        clauses.push("stage = ?");
        values.push(stage.as_str().into());
    }
    match filter.tag.as_deref() {
        Some("opted_out") => clauses.push("opted_out = 1"),
        Some("human_takeover") => clauses.push("human_takeover = 1"),
        Some(workspace::lead::STRATEGY_REVIEW_TAG) => clauses.push("strategy_review = 1"),
        _ => {}
    }
    if let Some(q) = &filter.q {
        let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        clauses.push("(lower(name) LIKE ? ESCAPE '\\' OR lower(COALESCE(email, '')) LIKE ? ESCAPE '\\')");
        values.push(pattern.clone().into());
        values.push(pattern.into());
    }
    let filter_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    values.push(i64::from(limit).into());
    let rows: Vec<LeadRow> = sql.exec(&format!("SELECT {LEAD_COLUMNS} FROM leads {filter_sql} ORDER BY created_at DESC, id LIMIT ?"), values)?.to_array()?;
    Ok(rows.iter().map(LeadRow::view).collect())
}

/// The lead's messages, and the org's sends over the last week: what the time rules read.
pub fn history(sql: &SqlStorage, lead_id: &str, now: Millis) -> Result<ContactHistory> {
    #[derive(Deserialize)]
    struct Event {
        direction: String,
        at: i64,
    }
    #[derive(Deserialize)]
    struct Sent {
        created_at: i64,
    }
    let events: Vec<Event> = sql.exec("SELECT direction, at FROM contact_events WHERE lead_id = ? AND at > ?", vec![lead_id.into(), (now - 30 * DAY).into()])?.to_array()?;
    let sends: Vec<Sent> = sql.exec("SELECT created_at FROM outbox WHERE created_at > ?", vec![(now - 8 * DAY).into()])?.to_array()?;
    Ok(ContactHistory {
        events: events.into_iter().map(|e| if e.direction == "inbound" { HistoryEvent::Inbound(e.at) } else { HistoryEvent::Outbound(e.at) }).collect(),
        org_sends: sends.into_iter().map(|s| s.created_at).collect(),
    })
}

/// A decision as recorded: the send it is for, who asked, the verdict, and the policy's
/// reasons and rule trace (JSON).
pub struct NewDecision<'a> {
    pub lead_id: &'a str,
    pub client_id: &'a str,
    pub origin: &'a str,
    pub verdict: &'a str,
    pub until: Option<Millis>,
    pub reasons: &'a str,
    pub trace: &'a str,
}

/// Records a decision at `now`; returns its id.
pub fn insert_decision(sql: &SqlStorage, d: &NewDecision<'_>, now: Millis) -> Result<i64> {
    sql.exec(
        "INSERT INTO decisions (lead_id, client_id, origin, verdict, until, reasons, rule_trace, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![d.lead_id.into(), d.client_id.into(), d.origin.into(), d.verdict.into(), d.until.into(), d.reasons.into(), d.trace.into(), now.into()],
    )?;
    last_id(sql)
}

fn last_id(sql: &SqlStorage) -> Result<i64> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
    }
    Ok(sql.exec("SELECT last_insert_rowid() AS id", None)?.one::<Row>()?.id)
}

#[derive(Deserialize)]
struct DecisionRow {
    id: i64,
    lead_id: String,
    origin: String,
    verdict: String,
    until: Option<i64>,
    reasons: String,
    rule_trace: String,
    decided_at: i64,
}

impl DecisionRow {
    /// The row as JSON, its reasons and trace parsed back.
    fn json(self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "lead_id": self.lead_id, "origin": self.origin, "verdict": self.verdict, "until": self.until, "decided_at": self.decided_at,
            "reasons": serde_json::from_str::<serde_json::Value>(&self.reasons).unwrap_or_default(),
            "rule_trace": serde_json::from_str::<serde_json::Value>(&self.rule_trace).unwrap_or_default(),
        })
    }
}

const DECISION_COLUMNS: &str = "id, lead_id, origin, verdict, until, reasons, rule_trace, decided_at";

/// The lead's decisions, newest first.
pub fn decisions(sql: &SqlStorage, lead_id: &str, limit: u32) -> Result<Vec<serde_json::Value>> {
    let q = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE lead_id = ? ORDER BY id DESC LIMIT ?");
    let rows: Vec<DecisionRow> = sql.exec(&q, vec![lead_id.into(), i64::from(limit).into()])?.to_array()?;
    Ok(rows.into_iter().map(DecisionRow::json).collect())
}

/// One decision by id.
pub fn decision(sql: &SqlStorage, id: i64) -> Result<Option<serde_json::Value>> {
    let rows: Vec<DecisionRow> = sql.exec(&format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE id = ?"), vec![id.into()])?.to_array()?;
    Ok(rows.into_iter().next().map(DecisionRow::json))
}

/// A send recorded in the outbox: the answer to a retry, and what a reused client id is
/// compared with.
#[derive(Deserialize)]
pub struct RecordedSend {
    pub id: i64,
    pub lead_id: String,
    /// The decision that allowed it.
    pub decision_id: i64,
    pub content: String,
    pub created_at: i64,
}

/// The send already recorded under this client id, if any.
pub fn sent_by_client_id(sql: &SqlStorage, client_id: &str) -> Result<Option<RecordedSend>> {
    let rows: Vec<RecordedSend> = sql.exec("SELECT id, lead_id, decision_id, content, created_at FROM outbox WHERE client_id = ?", vec![client_id.into()])?.to_array()?;
    Ok(rows.into_iter().next())
}

pub fn set_stage(sql: &SqlStorage, id: &str, stage: &str, now: Millis) -> Result<()> {
    sql.exec("UPDATE leads SET stage = ?, updated_at = ? WHERE id = ?", vec![stage.into(), now.into(), id.into()])?;
    Ok(())
}

/// Sets or clears the strategy-review tag.
pub fn set_strategy_review(sql: &SqlStorage, id: &str, on: bool, now: Millis) -> Result<()> {
    sql.exec("UPDATE leads SET strategy_review = ?, updated_at = ? WHERE id = ?", vec![i64::from(on).into(), now.into(), id.into()])?;
    Ok(())
}

pub fn set_takeover(sql: &SqlStorage, id: &str, on: bool, now: Millis) -> Result<()> {
    sql.exec("UPDATE leads SET human_takeover = ?, updated_at = ? WHERE id = ?", vec![i64::from(on).into(), now.into(), id.into()])?;
    Ok(())
}

/// Opt-out is permanent: this is the only statement that writes `opted_out`, and it only ever
/// sets it.
pub fn opt_out(sql: &SqlStorage, id: &str, now: Millis) -> Result<()> {
    sql.exec("UPDATE leads SET opted_out = 1, updated_at = ? WHERE id = ?", vec![now.into(), id.into()])?;
    Ok(())
}

/// Records a reply once per client id; returns whether it was new.
pub fn record_inbound(sql: &SqlStorage, id: &str, client_id: &str, now: Millis) -> Result<bool> {
    let inserted = sql.exec(
        "INSERT INTO contact_events (lead_id, direction, at, client_id) VALUES (?, 'inbound', ?, ?) ON CONFLICT (client_id) DO NOTHING",
        vec![id.into(), now.into(), client_id.into()],
    )?;
    Ok(inserted.rows_written() > 0)
}

/// The lead with this email (compared case-insensitively), if any.
pub fn lead_id_by_email(sql: &SqlStorage, email: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let rows: Vec<Row> = sql.exec("SELECT id FROM leads WHERE lower(email) = lower(?) LIMIT 1", vec![email.into()])?.to_array()?;
    Ok(rows.into_iter().next().map(|r| r.id))
}

/// The outbox, newest first.
pub fn outbox(sql: &SqlStorage, limit: u32) -> Result<Vec<serde_json::Value>> {
    #[derive(Deserialize, serde::Serialize)]
    struct Row {
        id: i64,
        lead_id: String,
        decision_id: i64,
        content: String,
        created_at: i64,
        channel: String,
        delivery_state: String,
        attempts: i64,
        last_error: Option<String>,
        delivered_at: Option<i64>,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT id, lead_id, decision_id, content, created_at, channel, delivery_state, attempts, last_error, delivered_at FROM outbox ORDER BY id DESC LIMIT ?",
            vec![i64::from(limit).into()],
        )?
        .to_array()?;
    Ok(rows.into_iter().filter_map(|r| serde_json::to_value(r).ok()).collect())
}

/// Suppresses the lead until at least `until` (a later suppression never shortens one).
pub fn extend_suppression(sql: &SqlStorage, id: &str, until: Millis, now: Millis) -> Result<()> {
    sql.exec("UPDATE leads SET suppressed_until = MAX(COALESCE(suppressed_until, 0), ?), updated_at = ? WHERE id = ?", vec![until.into(), now.into(), id.into()])?;
    Ok(())
}

/// Clears the lead's non-opt-out suppression (opt-out lives in `opted_out`, which stays).
pub fn clear_suppression(sql: &SqlStorage, id: &str, now: Millis) -> Result<()> {
    sql.exec("UPDATE leads SET suppressed_until = NULL, updated_at = ? WHERE id = ?", vec![now.into(), id.into()])?;
    Ok(())
}

/// Applies a patch to the lead's contact fields.
pub fn update_lead(sql: &SqlStorage, id: &str, p: &workspace::lead::LeadPatch, now: Millis) -> Result<()> {
    let mut sets: Vec<&str> = Vec::new();
    let mut values: Vec<V> = Vec::new();
    if let Some(name) = &p.name {
        sets.push("name = ?");
        values.push(name.as_str().into());
    }
    for (column, value) in [("email", &p.email), ("phone", &p.phone), ("time_zone", &p.time_zone), ("industry", &p.industry), ("company_stage", &p.company_stage)] {
        if let Some(v) = value {
            sets.push(match column {
                "email" => "email = ?",
                "phone" => "phone = ?",
                "time_zone" => "time_zone = ?",
                "industry" => "industry = ?",
                _ => "company_stage = ?",
            });
            values.push(v.clone().into());
        }
    }
    if let Some(e) = p.employees {
        sets.push("employees = ?");
        values.push(e.map(i64::from).into());
    }
    if sets.is_empty() {
        return Ok(());
    }
    values.push(now.into());
    values.push(id.into());
    sql.exec(&format!("UPDATE leads SET {}, updated_at = ? WHERE id = ?", sets.join(", ")), values)?;
    Ok(())
}

/// A lead a cadence change may move: one with a follow-up waiting, or one below the new number
/// of steps without one. With when we last wrote to it (else when it was created) and whether
/// a reply paused it: what `workspace::followup::reschedule` needs.
#[derive(Deserialize)]
pub struct CadenceLead {
    pub id: String,
    stage: String,
    opted_out: i64,
    human_takeover: i64,
    followup_step: i64,
    next_followup_at: Option<i64>,
    pub anchor: i64,
    /// 1 when the lead's latest contact event is a message from it.
    replied: i64,
}

impl CadenceLead {
    pub fn facts(&self) -> LeadFacts {
        lead_facts(&self.stage, self.opted_out, self.human_takeover)
    }

    pub fn followup(&self) -> FollowupState {
        followup_state(self.followup_step, self.next_followup_at)
    }

    pub fn replied(&self) -> bool {
        self.replied != 0
    }
}

/// Every lead with a follow-up waiting, and every lead without one that is below `max_steps`
/// (the new cadence's), with its anchor and whether a reply paused it.
pub fn cadence_leads(sql: &SqlStorage, max_steps: u8) -> Result<Vec<CadenceLead>> {
    sql.exec(
        "SELECT id, stage, opted_out, human_takeover, followup_step, next_followup_at,          COALESCE(last_out, created_at) AS anchor, (last_in IS NOT NULL AND last_in >= COALESCE(last_out, -1)) AS replied          FROM (SELECT leads.*,            (SELECT MAX(at) FROM contact_events c WHERE c.lead_id = leads.id AND c.direction = 'outbound') AS last_out,            (SELECT MAX(at) FROM contact_events c WHERE c.lead_id = leads.id AND c.direction = 'inbound') AS last_in            FROM leads WHERE next_followup_at IS NOT NULL OR followup_step < ?)",
        vec![i64::from(max_steps).into()],
    )?
    .to_array()
}

/// Stores a lead's follow-up state.
pub fn set_followup(sql: &SqlStorage, id: &str, s: FollowupState, now: Millis) -> Result<()> {
    sql.exec("UPDATE leads SET followup_step = ?, next_followup_at = ?, updated_at = ? WHERE id = ?", vec![i64::from(s.step).into(), s.next_at.into(), now.into(), id.into()])?;
    Ok(())
}
