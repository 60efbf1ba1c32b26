//! The caller's org: who they are, the plan and billing standing, and usage this period.

use super::json;
use crate::identity::Identity;
use crate::tenancy;
use domain::ApiError;
use serde_json::json;
use worker::{D1Database, Response};

/// `GET /v1/me`.
pub fn me(who: &Identity) -> Result<Response, ApiError> {
    json(200, &json!({ "org_id": who.org.as_str(), "user_id": who.user_id, "role": who.role.as_str(), "auth": "clerk_session" }))
}

/// `GET /v1/org`: the plan, subscription status, seats and limits.
pub async fn get(db: &D1Database, who: &Identity) -> Result<Response, ApiError> {
    let standing = tenancy::standing(db, who).await?;
    #[derive(serde::Deserialize)]
    struct Row {
        name: String,
        members: i64,
    }
    let org: Option<Row> = tenancy_store::first(
        db,
        "SELECT o.name, (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.deleted_at IS NULL) AS members FROM orgs o WHERE o.id = ?1",
        &[tenancy_store::text(who.org.as_str())],
    )
    .await?;
    let (name, members) = org.map_or((String::new(), 0), |o| (o.name, o.members));
    json(200, &json!({ "org_id": who.org.as_str(), "name": name, "members": members, "billing": standing }))
}

/// `GET /v1/org/usage`: this period's counters, today's messages and the plan's limits.
pub async fn usage(db: &D1Database, who: &Identity, now_ms: i64) -> Result<Response, ApiError> {
    let period = tenancy_store::usage::in_current_period(db, &who.org, now_ms).await?;
    let today = tenancy_store::usage::messages_today(db, &who.org, now_ms).await?;
    let active = tenancy_store::active_turns::elsewhere(db, &who.org, "", now_ms).await?;
    let standing = tenancy::standing(db, who).await?;
    let tenancy_store::budget::Spend { spent, budget, .. } = tenancy_store::budget::spend(db, &who.org, now_ms).await?;
    json(
        200,
        &json!({
            "tier": domain::budget::tier(spent, budget).as_str(),
            "ai_budget_micros": budget,
            "spent_micros": spent,
            "period": { "start": period.period_start, "end": period.period_end },
            "messages": period.messages,
            "tokens_in": period.tokens_in,
            "tokens_out": period.tokens_out,
            "tool_calls": period.tool_calls,
            "messages_today": today,
            "active_turns": active,
            "limits": standing.limits,
            "plan": standing.plan,
        }),
    )
}
