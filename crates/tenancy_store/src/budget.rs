//! The org's monthly AI budget and what its turns have cost this period, for the budget tier.

use crate::{first, int, text, usage::ORG_SUBSCRIPTION_SQL};
use domain::ids::OrgId;
use domain::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// `(spent, budget)` in micro-dollars: this period's turn costs, and the org's plan budget
/// (the starter plan's when the subscription's price matches no plan).
pub async fn spend(db: &D1Database, org: &OrgId, now_ms: i64) -> Result<(u64, u64), ApiError> {
    #[derive(Deserialize)]
    struct Row {
        spent: i64,
        budget: i64,
    }
    let sql = format!(
        "SELECT (SELECT COALESCE(SUM(cost_micros), 0) FROM usage_periods WHERE org_id = ?1 AND period_start <= ?2 AND period_end > ?2) AS spent, \
         (SELECT p.ai_budget_micros FROM plans p WHERE p.id = COALESCE((SELECT pl.id FROM plans pl JOIN (SELECT * FROM ({ORG_SUBSCRIPTION_SQL}) LIMIT 1) s \
         ON pl.stripe_price = s.price OR pl.id = s.price), 'starter')) AS budget"
    );
    let row: Option<Row> = first(db, &sql, &[text(org.as_str()), int(now_ms)]).await?;
    Ok(row.map_or((0, 0), |r| (r.spent.max(0) as u64, r.budget.max(0) as u64)))
}
