//! Reads and writes of the Chat Controller's tables. Every function is synchronous: callers
//! compose them inside one `transaction` so a check and the write that depends on it can never
//! be separated by an `await`.

use domain::message::{MessageView, Role};
use domain::turn::{TurnError, TurnState, TurnView};
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue as V};

pub use runtime_support::meta::{meta_get, meta_set};

#[derive(Deserialize)]
struct MessageRow {
    seq: i64,
    role: String,
    content: String,
    client_id: Option<String>,
    turn_id: Option<String>,
    created_at: i64,
}

impl MessageRow {
    fn into_view(self) -> MessageView {
        MessageView {
            seq: self.seq,
            role: Role::parse(&self.role).unwrap_or(Role::System),
            content: self.content,
            client_id: self.client_id,
            turn_id: self.turn_id,
            created_at: self.created_at,
        }
    }
}

const MESSAGE_COLUMNS: &str = "seq, role, content, client_id, turn_id, created_at";

fn messages(sql: &SqlStorage, query: &str, bindings: Vec<V>) -> Result<Vec<MessageView>> {
    let rows: Vec<MessageRow> = sql.exec(query, bindings)?.to_array()?;
    Ok(rows.into_iter().map(MessageRow::into_view).collect())
}

pub fn message_by_client_id(sql: &SqlStorage, client_id: &str) -> Result<Option<MessageView>> {
    let q = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_id = ?");
    Ok(messages(sql, &q, vec![client_id.into()])?.into_iter().next())
}

/// Messages with `seq > after`, oldest first, at most `limit`.
pub fn messages_after(sql: &SqlStorage, after: i64, limit: u32) -> Result<Vec<MessageView>> {
    let q = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?");
    messages(sql, &q, vec![after.into(), i64::from(limit).into()])
}

/// The newest `limit` messages, oldest first.
pub fn recent_messages(sql: &SqlStorage, limit: u32) -> Result<Vec<MessageView>> {
    let q = format!("SELECT {MESSAGE_COLUMNS} FROM (SELECT * FROM messages ORDER BY seq DESC LIMIT ?) ORDER BY seq");
    messages(sql, &q, vec![i64::from(limit).into()])
}

pub fn last_seq(sql: &SqlStorage) -> Result<i64> {
    #[derive(Deserialize)]
    struct Row {
        last: i64,
    }
    let r: Row = sql.exec("SELECT COALESCE(MAX(seq), 0) AS last FROM messages", None)?.one()?;
    Ok(r.last)
}

/// Appends a message at the next sequence number and returns it.
pub fn append_message(sql: &SqlStorage, role: Role, content: &str, client_id: Option<&str>, turn_id: &str, now: i64) -> Result<MessageView> {
    let seq = last_seq(sql)? + 1;
    sql.exec(
        "INSERT INTO messages (seq, role, content, client_id, turn_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        vec![seq.into(), role.as_str().into(), content.into(), client_id.map(str::to_owned).into(), turn_id.into(), now.into()],
    )?;
    Ok(MessageView {
        seq,
        role,
        content: content.to_owned(),
        client_id: client_id.map(str::to_owned),
        turn_id: Some(turn_id.to_owned()),
        created_at: now,
    })
}

/// A turn row with the bookkeeping the runner needs.
#[derive(Debug, Clone, Deserialize)]
pub struct TurnRow {
    pub id: String,
    pub trigger_seq: i64,
    pub state: String,
    pub attempts: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub model: Option<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub tier: Option<String>,
    pub cost_micros: i64,
    pub trace_id: Option<String>,
}

impl TurnRow {
    pub fn state(&self) -> TurnState {
        TurnState::parse(&self.state).unwrap_or(TurnState::Failed)
    }

    pub fn view(&self) -> TurnView {
        TurnView {
            id: self.id.clone(),
            state: self.state(),
            trigger_seq: self.trigger_seq,
            error: match (&self.error_code, &self.error_message) {
                (Some(code), message) => Some(TurnError { code: code.clone(), message: message.clone().unwrap_or_default() }),
                _ => None,
            },
            model: self.model.clone(),
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            tier: self.tier.clone(),
            cost_micros: self.cost_micros,
        }
    }
}

const TURN_COLUMNS: &str = "id, trigger_seq, state, attempts, error_code, error_message, model, tokens_in, tokens_out, tier, cost_micros, trace_id";

fn turns(sql: &SqlStorage, query: &str, bindings: Vec<V>) -> Result<Vec<TurnRow>> {
    sql.exec(query, bindings)?.to_array()
}

pub fn insert_turn(sql: &SqlStorage, id: &str, trigger_seq: i64, now: i64, trace: Option<&str>) -> Result<()> {
    sql.exec(
        "INSERT INTO turns (id, trigger_seq, state, created_at, updated_at, trace_id) VALUES (?, ?, 'queued', ?, ?, ?)",
        vec![id.into(), trigger_seq.into(), now.into(), now.into(), trace.map_or(V::Null, V::from)],
    )?;
    Ok(())
}

pub fn turn(sql: &SqlStorage, id: &str) -> Result<Option<TurnRow>> {
    let q = format!("SELECT {TURN_COLUMNS} FROM turns WHERE id = ?");
    Ok(turns(sql, &q, vec![id.into()])?.into_iter().next())
}

/// Turns in a state, oldest trigger first.
pub fn turns_in(sql: &SqlStorage, state: TurnState, limit: u32) -> Result<Vec<TurnRow>> {
    let q = format!("SELECT {TURN_COLUMNS} FROM turns WHERE state = ? ORDER BY trigger_seq LIMIT ?");
    turns(sql, &q, vec![state.as_str().into(), i64::from(limit).into()])
}

/// Whether any turn is queued or running.
pub fn has_unfinished_turns(sql: &SqlStorage) -> Result<bool> {
    Ok(!turns_in(sql, TurnState::Queued, 1)?.is_empty() || !turns_in(sql, TurnState::Running, 1)?.is_empty())
}

/// Queued, running and parked turns, oldest first.
pub fn active_turns(sql: &SqlStorage) -> Result<Vec<TurnView>> {
    let q = format!("SELECT {TURN_COLUMNS} FROM turns WHERE state IN ('queued', 'running', 'awaiting_approval') ORDER BY trigger_seq");
    Ok(turns(sql, &q, vec![])?.iter().map(TurnRow::view).collect())
}

/// Turns with `trigger_seq > after`, oldest first.
pub fn turns_after(sql: &SqlStorage, after: i64, limit: u32) -> Result<Vec<TurnView>> {
    let q = format!("SELECT {TURN_COLUMNS} FROM turns WHERE trigger_seq > ? ORDER BY trigger_seq LIMIT ?");
    Ok(turns(sql, &q, vec![after.into(), i64::from(limit).into()])?.iter().map(TurnRow::view).collect())
}

/// Everything a turn's state change may update.
pub struct TurnUpdate<'a> {
    pub state: TurnState,
    pub attempts: i64,
    pub error: Option<(&'a str, &'a str)>,
    pub model: Option<&'a str>,
    pub tokens: (i64, i64),
}

pub fn update_turn(sql: &SqlStorage, id: &str, u: TurnUpdate<'_>, now: i64) -> Result<()> {
    sql.exec(
        "UPDATE turns SET state = ?, attempts = ?, error_code = ?, error_message = ?, model = COALESCE(?, model),
         tokens_in = ?, tokens_out = ?, updated_at = ? WHERE id = ?",
        vec![
            u.state.as_str().into(),
            u.attempts.into(),
            u.error.map(|e| e.0.to_owned()).into(),
            u.error.map(|e| e.1.to_owned()).into(),
            u.model.map(str::to_owned).into(),
            u.tokens.0.into(),
            u.tokens.1.into(),
            now.into(),
            id.into(),
        ],
    )?;
    Ok(())
}

/// Adds a model call's tokens and cost to the turn's totals.
pub fn add_turn_usage(sql: &SqlStorage, id: &str, tokens: (i64, i64), cost_micros: u64) -> Result<()> {
    sql.exec(
        "UPDATE turns SET tokens_in = tokens_in + ?, tokens_out = tokens_out + ?, cost_micros = cost_micros + ? WHERE id = ?",
        vec![tokens.0.into(), tokens.1.into(), (cost_micros.min(i64::MAX as u64) as i64).into(), id.into()],
    )?;
    Ok(())
}

/// Records the budget tier the turn runs under.
pub fn set_turn_tier(sql: &SqlStorage, id: &str, tier: &str) -> Result<()> {
    sql.exec("UPDATE turns SET tier = ? WHERE id = ?", vec![tier.into(), id.into()])?;
    Ok(())
}


pub use runtime_support::schedule::{all as schedule_all, remove as schedule_remove, set_earliest as schedule_set};
