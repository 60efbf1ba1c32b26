//! Reads and writes of a turn's tool steps, its approvals and the artifacts its tools produced.
//! Synchronous, like `store`: callers compose them inside one transaction.

use domain::agent_protocol::ToolExchange;
use domain::summary::Summary;
use domain::tool_steps::StepState;
use serde::{Deserialize, Serialize};
use worker::{Result, SqlStorage};

/// A stored tool step.
#[derive(Debug, Clone, Deserialize)]
pub struct StepRow {
    pub turn_id: String,
    pub step: i64,
    pub model_step: i64,
    pub call_id: String,
    pub tool: String,
    pub arguments: String,
    pub state: String,
    pub result: Option<String>,
    pub summary: Option<String>,
}

impl StepRow {
    pub fn state(&self) -> StepState {
        StepState::parse(&self.state).unwrap_or(StepState::Failed)
    }

    /// The step as the model replays it.
    pub fn exchange(&self) -> ToolExchange {
        ToolExchange {
            model_step: self.model_step as u32,
            call_id: self.call_id.clone(),
            name: self.tool.clone(),
            arguments: self.arguments.clone(),
            result: self.result.clone().unwrap_or_default(),
        }
    }
}

const STEP_COLUMNS: &str = "turn_id, step, model_step, call_id, tool, arguments, state, result, summary";

/// The turn's steps in order.
pub fn steps_of(sql: &SqlStorage, turn_id: &str) -> Result<Vec<StepRow>> {
    sql.exec(&format!("SELECT {STEP_COLUMNS} FROM turn_steps WHERE turn_id = ? ORDER BY step"), vec![turn_id.into()])?.to_array()
}

pub fn step(sql: &SqlStorage, turn_id: &str, step: i64) -> Result<Option<StepRow>> {
    let rows: Vec<StepRow> =
        sql.exec(&format!("SELECT {STEP_COLUMNS} FROM turn_steps WHERE turn_id = ? AND step = ?"), vec![turn_id.into(), step.into()])?.to_array()?;
    Ok(rows.into_iter().next())
}

/// Stores the tool calls of one model step, all `pending`.
pub fn insert_calls(sql: &SqlStorage, turn_id: &str, model_step: i64, calls: &[(String, String, String)], now: i64) -> Result<()> {
    #[derive(Deserialize)]
    struct Next {
        n: i64,
    }
    let next: Next = sql.exec("SELECT COALESCE(MAX(step) + 1, 0) AS n FROM turn_steps WHERE turn_id = ?", vec![turn_id.into()])?.one()?;
    for (i, (call_id, tool, arguments)) in calls.iter().enumerate() {
        sql.exec(
            "INSERT INTO turn_steps (turn_id, step, model_step, call_id, tool, arguments, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            vec![turn_id.into(), (next.n + i as i64).into(), model_step.into(), call_id.as_str().into(), tool.as_str().into(), arguments.as_str().into(), now.into(), now.into()],
        )?;
    }
    Ok(())
}

/// Moves a step to `state`, with its result and a short summary for the browser.
pub fn set_step(sql: &SqlStorage, turn_id: &str, step: i64, state: StepState, result: Option<&str>, summary: Option<&str>, now: i64) -> Result<()> {
    sql.exec(
        "UPDATE turn_steps SET state = ?, result = COALESCE(?, result), summary = COALESCE(?, summary), updated_at = ? WHERE turn_id = ? AND step = ?",
        vec![state.as_str().into(), result.map(str::to_owned).into(), summary.map(str::to_owned).into(), now.into(), turn_id.into(), step.into()],
    )?;
    Ok(())
}

/// Counts one more model call for the turn.
pub fn count_model_step(sql: &SqlStorage, turn_id: &str) -> Result<i64> {
    sql.exec("UPDATE turns SET model_steps = model_steps + 1 WHERE id = ?", vec![turn_id.into()])?;
    #[derive(Deserialize)]
    struct Row {
        model_steps: i64,
    }
    let r: Row = sql.exec("SELECT model_steps FROM turns WHERE id = ?", vec![turn_id.into()])?.one()?;
    Ok(r.model_steps)
}

pub fn model_steps(sql: &SqlStorage, turn_id: &str) -> Result<i64> {
    #[derive(Deserialize)]
    struct Row {
        model_steps: i64,
    }
    let rows: Vec<Row> = sql.exec("SELECT model_steps FROM turns WHERE id = ?", vec![turn_id.into()])?.to_array()?;
    Ok(rows.first().map_or(0, |r| r.model_steps))
}

pub use domain::tool_steps::ApprovalView as ApprovalRow;

const APPROVAL_COLUMNS: &str = "id, turn_id, step, tool, request, state, requested_by, decided_by, note, created_at, expires_at, decided_at";

pub fn insert_approval(sql: &SqlStorage, a: &ApprovalRow) -> Result<()> {
    sql.exec(
        "INSERT INTO approvals (id, turn_id, step, tool, request, state, requested_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)
         ON CONFLICT (turn_id, step) DO NOTHING",
        vec![
            a.id.as_str().into(),
            a.turn_id.as_str().into(),
            a.step.into(),
            a.tool.as_str().into(),
            a.request.as_str().into(),
            a.requested_by.as_str().into(),
            a.created_at.into(),
            a.expires_at.into(),
        ],
    )?;
    Ok(())
}

pub fn approval(sql: &SqlStorage, id: &str) -> Result<Option<ApprovalRow>> {
    let rows: Vec<ApprovalRow> = sql.exec(&format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?"), vec![id.into()])?.to_array()?;
    Ok(rows.into_iter().next())
}

/// Approvals, pending first, newest first within each state.
pub fn approvals(sql: &SqlStorage, limit: u32) -> Result<Vec<ApprovalRow>> {
    sql.exec(
        &format!("SELECT {APPROVAL_COLUMNS} FROM approvals ORDER BY (state = 'pending') DESC, created_at DESC LIMIT ?"),
        vec![i64::from(limit).into()],
    )?
    .to_array()
}

/// Pending approvals whose time is up.
pub fn expired_approvals(sql: &SqlStorage, now: i64) -> Result<Vec<ApprovalRow>> {
    sql.exec(&format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE state = 'pending' AND expires_at <= ?"), vec![now.into()])?.to_array()
}

/// The earliest expiry among pending approvals.
pub fn next_expiry(sql: &SqlStorage) -> Result<Option<i64>> {
    #[derive(Deserialize)]
    struct Row {
        at: Option<i64>,
    }
    let r: Row = sql.exec("SELECT MIN(expires_at) AS at FROM approvals WHERE state = 'pending'", None)?.one()?;
    Ok(r.at)
}

pub fn decide_approval(sql: &SqlStorage, id: &str, state: &str, by: Option<&str>, note: Option<&str>, now: i64) -> Result<()> {
    sql.exec(
        "UPDATE approvals SET state = ?, decided_by = ?, note = ?, decided_at = ? WHERE id = ? AND state = 'pending'",
        vec![state.into(), by.map(str::to_owned).into(), note.map(str::to_owned).into(), now.into(), id.into()],
    )?;
    Ok(())
}

/// Stores what a tool returned, for the browser.
pub fn insert_artifact(sql: &SqlStorage, turn_id: &str, step: i64, kind: &str, title: &str, body: &str, now: i64) -> Result<()> {
    sql.exec(
        "INSERT INTO artifacts (turn_id, step, kind, title, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        vec![turn_id.into(), step.into(), kind.into(), title.into(), body.into(), now.into()],
    )?;
    Ok(())
}

/// An artifact as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactRow {
    pub id: i64,
    pub turn_id: String,
    pub step: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
}

pub fn artifacts(sql: &SqlStorage, limit: u32) -> Result<Vec<ArtifactRow>> {
    sql.exec("SELECT id, turn_id, step, kind, title, body, created_at FROM artifacts ORDER BY id DESC LIMIT ?", vec![i64::from(limit).into()])?.to_array()
}

#[derive(Deserialize)]
struct SummaryRow {
    version: i64,
    message_cursor: i64,
    text: String,
    pinned: String,
}

/// The newest rolling summary, if any.
pub fn latest_summary(sql: &SqlStorage) -> Result<Option<Summary>> {
    let rows: Vec<SummaryRow> = sql.exec("SELECT version, message_cursor, text, pinned FROM summaries ORDER BY version DESC LIMIT 1", None)?.to_array()?;
    Ok(rows.into_iter().next().map(|r| Summary {
        version: r.version as u32,
        message_cursor: r.message_cursor,
        text: r.text,
        pinned: serde_json::from_str(&r.pinned).unwrap_or_default(),
    }))
}

/// Stores a new summary version (kept: older versions stay for inspection).
pub fn insert_summary(sql: &SqlStorage, s: &Summary, now: i64) -> Result<()> {
    sql.exec(
        "INSERT INTO summaries (version, message_cursor, text, pinned, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
        vec![i64::from(s.version).into(), s.message_cursor.into(), s.text.as_str().into(), serde_json::to_string(&s.pinned).unwrap_or_else(|_| "[]".into()).into(), now.into()],
    )?;
    Ok(())
}
