//! The org's monthly AI budget and what its turns have cost this period, for the budget tier.

use crate::{first, int, text, usage::ORG_SUBSCRIPTION_SQL};
use billing::{usage_period, Period};
use domain::ids::OrgId;
use domain::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// An org's spending at the start of a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    /// This period's turn costs, in micro-dollars.
    pub spent: u64,
    /// The org's plan budget, in micro-dollars (the starter plan's when the subscription's
    /// price matches no plan).
    pub budget: u64,
    /// The usage period now is in (`usage::current_period`), which the turn's usage is added to.
    pub period: Period,
}

/// What the org has spent this period and its budget, and the period itself, in one read.
pub async fn spend(db: &D1Database, org: &OrgId, now_ms: i64) -> Result<Spend, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        spent: i64,
        budget: i64,
        period_start: Option<i64>,
        period_end: Option<i64>,
    }
    // The governing subscription is read once and gives both the plan (by its price; the
    // starter plan's budget when the price matches no plan) and the period.
    let sql = format!(
        "SELECT (SELECT COALESCE(SUM(cost_micros), 0) FROM usage_periods WHERE org_id = ?1 AND period_start <= ?2 AND period_end > ?2) AS spent, \
         COALESCE((SELECT p.ai_budget_micros FROM plans p WHERE p.stripe_price = s.price OR p.id = s.price LIMIT 1), \
                  (SELECT ai_budget_micros FROM plans WHERE id = 'starter')) AS budget, \
         s.period_start, s.period_end FROM (SELECT 1) LEFT JOIN (SELECT * FROM ({ORG_SUBSCRIPTION_SQL}) LIMIT 1) s"
    );
    let row: Option<Row> = first(db, &sql, &[text(org.as_str()), int(now_ms)]).await?;
    let sub = row.as_ref().and_then(|r| Some((r.period_start?, r.period_end?)));
    let (spent, budget) = row.map_or((0, 0), |r| (r.spent.max(0) as u64, r.budget.max(0) as u64));
    Ok(Spend { spent, budget, period: usage_period(sub, now_ms) })
}
