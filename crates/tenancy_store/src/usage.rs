//! Usage counters per org: per billing period (messages, model tokens in and out, tool calls)
//! and per UTC day (messages, for the daily quota). Counters only ever grow, by
//! `INSERT ... ON CONFLICT DO UPDATE` so concurrent writers add up instead of overwriting.

use crate::{first, int, stmt, text, unavailable};
use billing::{usage_period, utc_day, Period};
use domain::ids::OrgId;
use domain::ApiError;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

/// What an org used in one billing period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodUsage {
    pub period_start: i64,
    pub period_end: i64,
    pub messages: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub tool_calls: i64,
    /// What the period's turns cost, in micro-dollars (from the configured model prices).
    pub cost_micros: i64,
}

#[derive(Deserialize)]
struct PeriodRow {
    period_start: Option<i64>,
    period_end: Option<i64>,
}

/// The org's current usage period: its subscription's current period when that contains now,
/// else the calendar month (seconds in Stripe, milliseconds here).
pub async fn current_period(db: &D1Database, org: &OrgId, now_ms: i64) -> Result<Period, ApiError> {
    let row: Option<PeriodRow> = first(db, &format!("SELECT period_start, period_end FROM ({}) LIMIT 1", crate::usage::ORG_SUBSCRIPTION_SQL), &[text(org.as_str())]).await?;
    let sub = row.and_then(|r| Some((r.period_start?, r.period_end?)));
    Ok(usage_period(sub, now_ms))
}

/// The subscription that governs an org: linked by its own metadata or through the customer
/// that checkout tied to the org; a live one first, then the most recently changed.
pub const ORG_SUBSCRIPTION_SQL: &str = "SELECT s.* FROM subscriptions s \
     LEFT JOIN billing_customers c ON c.customer_id = s.customer_id \
     WHERE s.org_id = ?1 OR c.org_id = ?1 \
     ORDER BY (s.status IN ('active', 'trialing', 'past_due')) DESC, s.source_created DESC, s.updated_at DESC";

/// What to add to a period's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Increment {
    pub messages: i64,
    pub tokens: (i64, i64),
    pub tool_calls: i64,
    pub cost_micros: i64,
}

const ADD_SQL: &str = "INSERT INTO usage_periods (org_id, period_start, period_end, messages, tokens_in, tokens_out, tool_calls, cost_micros) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
     ON CONFLICT (org_id, period_start) DO UPDATE SET messages = messages + excluded.messages, tokens_in = tokens_in + excluded.tokens_in, \
     tokens_out = tokens_out + excluded.tokens_out, tool_calls = tool_calls + excluded.tool_calls, cost_micros = cost_micros + excluded.cost_micros";

/// The statement that adds `by` to the period's counters.
pub fn add_statement(db: &D1Database, org: &OrgId, period: &Period, by: Increment) -> Result<D1PreparedStatement, ApiError> {
    stmt(
        db,
        ADD_SQL,
        &[text(org.as_str()), int(period.start_ms), int(period.end_ms), int(by.messages), int(by.tokens.0), int(by.tokens.1), int(by.tool_calls), int(by.cost_micros)],
    )
}

/// Counts one accepted user message in `period` (the tenant gate already knows it) and in
/// today's counter, in one batch.
pub async fn add_message(db: &D1Database, org: &OrgId, period: &Period, now_ms: i64) -> Result<(), ApiError> {
    let o = text(org.as_str());
    db.batch(vec![
        stmt(db, ADD_SQL, &[o.clone(), int(period.start_ms), int(period.end_ms), int(1), int(0), int(0), int(0), int(0)])?,
        stmt(db, "INSERT INTO usage_days (org_id, day, messages) VALUES (?1, ?2, 1) ON CONFLICT (org_id, day) DO UPDATE SET messages = messages + 1", &[o, text(&utc_day(now_ms))])?,
    ])
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// The org's usage in its current period (zeros when nothing was used yet).
pub async fn in_current_period(db: &D1Database, org: &OrgId, now_ms: i64) -> Result<PeriodUsage, ApiError> {
    let period = current_period(db, org, now_ms).await?;
    let row: Option<PeriodUsage> = first(
        db,
        "SELECT period_start, period_end, messages, tokens_in, tokens_out, tool_calls, cost_micros FROM usage_periods WHERE org_id = ?1 AND period_start = ?2",
        &[text(org.as_str()), int(period.start_ms)],
    )
    .await?;
    Ok(row.unwrap_or(PeriodUsage { period_start: period.start_ms, period_end: period.end_ms, ..Default::default() }))
}

/// Messages the org sent today (UTC).
pub async fn messages_today(db: &D1Database, org: &OrgId, now_ms: i64) -> Result<i64, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        messages: i64,
    }
    let row: Option<Row> = first(db, "SELECT messages FROM usage_days WHERE org_id = ?1 AND day = ?2", &[text(org.as_str()), text(&utc_day(now_ms))]).await?;
    Ok(row.map_or(0, |r| r.messages))
}
