//! The tenant gate every `/v1` request passes after sign-in: the org must be provisioned (and
//! not deleted), admin routes need an admin, and routes that run the agent need a paid-up
//! subscription, a seat and quota left. Facts come from D1 in one batch; the decisions are
//! `billing::agent_access` and `billing::check_quotas`.
//!
//! The API rate limits (`billing::check_rate`, per user and per org) are read in the same
//! batch: the stored counts of the user's and the org's windows in `rate_windows`, plus what
//! this isolate has counted and not yet written. Each request is then counted in the isolate's
//! write-behind counts (`crate::write_behind`), so the gate's batch only reads (ADR 17).

use crate::config::setting;
use crate::identity::Identity;
use auth::Role;
use billing::{agent_access, check_quotas, check_rate, rate_window, usage_period, AccessDenied, BillingState, PlanLimits, Period, RateLimits, SubscriptionStatus, UsageSnapshot};
use domain::ids::ChatId;
use domain::routes::{Access, RouteName};
use domain::ApiError;
use serde::{Deserialize, Serialize};
use tenancy_store::{int, stmt, text, unavailable, usage::ORG_SUBSCRIPTION_SQL};
use tenancy_store::rate::{user_bucket, API_REQUESTS_SQL, ORG_BUCKET};
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

/// Past-due subscriptions keep working this long unless `PAST_DUE_GRACE_DAYS` says otherwise.
const DEFAULT_GRACE_DAYS: i64 = 7;
/// The plan whose limits apply when a subscription's price matches no plan.
const FALLBACK_PLAN: &str = "starter";

/// Admin routes need an admin; everyone else is refused with a clear code.
pub fn check_role(route: RouteName, who: &Identity) -> Result<(), ApiError> {
    if route.access() == Access::Admin && who.role != Role::Admin {
        return Err(ApiError::Forbidden { code: "admin_required", message: "only an org admin may do this".into() });
    }
    Ok(())
}

#[derive(Deserialize)]
struct OrgRow {
    deleted_at: Option<i64>,
}

const ORG_SQL: &str = "SELECT deleted_at FROM orgs WHERE id = ?1";

/// The caller's org must exist in Parley's mirror of Clerk and not be deleted, and the caller
/// and the org must be within the API rate limits: one D1 batch.
pub async fn check_org(db: &D1Database, env: &Env, who: &Identity, now_ms: i64) -> Result<(), ApiError> {
    let rate = RateRead::new(who, now_ms);
    let [user, org] = rate.statements(db)?;
    let results = db.batch(vec![stmt(db, ORG_SQL, &[text(who.org.as_str())])?, user, org]).await.map_err(unavailable)?;
    org_provisioned(batch_rows::<OrgRow>(&results, 0)?.into_iter().next())?;
    rate.verdict(env, &results, 1, now_ms)
}

/// The request's rate windows: the user's and the org's.
struct RateRead {
    org: String,
    user_bucket: String,
    window: i64,
}

impl RateRead {
    fn new(who: &Identity, now_ms: i64) -> Self {
        RateRead { org: who.org.as_str().to_owned(), user_bucket: user_bucket(&who.user_id), window: rate_window(now_ms) }
    }

    /// The statements that read the stored counts of the user's and the org's windows.
    fn statements(&self, db: &D1Database) -> Result<[D1PreparedStatement; 2], ApiError> {
        let read = |bucket: &str| stmt(db, API_REQUESTS_SQL, &[text(&self.org), text(bucket), int(self.window)]);
        Ok([read(&self.user_bucket)?, read(ORG_BUCKET)?])
    }

    /// Counts this request (refused or not, so hammering does not help) and decides the limits
    /// from the stored counts at `results[first]` (user) and `results[first + 1]` (org), plus
    /// what this isolate has counted and not yet written.
    fn verdict(&self, env: &Env, results: &[D1Result], first: usize, now_ms: i64) -> Result<(), ApiError> {
        let stored = |i: usize| -> Result<i64, ApiError> { Ok(batch_rows::<Count>(results, i)?.first().map_or(0, |c| c.n)) };
        let (user_stored, org_stored) = (stored(first)?, stored(first + 1)?);
        let count = |bucket: &str, stored: i64| {
            crate::write_behind::count_request(&self.org, bucket, self.window);
            stored + crate::write_behind::unwritten_requests(&self.org, bucket, self.window)
        };
        let (user, org) = (count(&self.user_bucket, user_stored), count(ORG_BUCKET, org_stored));
        let limits = RateLimits::from_settings(setting(env, "RATE_LIMIT_USER").as_deref(), setting(env, "RATE_LIMIT_ORG").as_deref());
        check_rate(&limits, user, org, now_ms)
            .map_err(|r| ApiError::RateLimited { scope: r.scope.as_str(), limit: u64::from(r.limit), retry_after_secs: r.retry_after_secs })
    }
}

/// The rows of one statement of a batch.
fn batch_rows<T: serde::de::DeserializeOwned>(results: &[D1Result], i: usize) -> Result<Vec<T>, ApiError> {
    results.get(i).ok_or_else(|| unavailable("short batch"))?.results().map_err(unavailable)
}

fn org_provisioned(row: Option<OrgRow>) -> Result<(), ApiError> {
    match row {
        Some(OrgRow { deleted_at: None }) => Ok(()),
        _ => Err(ApiError::Forbidden {
            code: "org_unavailable",
            message: "this organization is not provisioned in Parley, or it was deleted".into(),
        }),
    }
}

/// The org's subscription and plan, as `GET /v1/org` shows them and the gate uses them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Standing {
    pub status: Option<String>,
    pub seats: u32,
    pub plan: String,
    pub price: Option<String>,
    /// Stripe seconds.
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub past_due_since: Option<i64>,
    pub cancel_at_period_end: bool,
    pub limits: PlanLimits,
}

#[derive(Deserialize)]
struct StandingRow {
    status: Option<String>,
    seats: Option<u32>,
    price: Option<String>,
    period_start: Option<i64>,
    period_end: Option<i64>,
    past_due_since: Option<i64>,
    cancel_at_period_end: Option<i64>,
    plan: String,
    messages_per_day: u32,
    tokens_per_month: u64,
    concurrent_turns: u32,
}

const STANDING_SQL: &str = "SELECT sub.status, sub.seats, sub.price, sub.period_start, sub.period_end, sub.past_due_since, sub.cancel_at_period_end, \
     p.id AS plan, p.messages_per_day, p.tokens_per_month, p.concurrent_turns \
     FROM plans p LEFT JOIN (SELECT * FROM (ORG_SUBSCRIPTION) LIMIT 1) sub ON 1 = 1 \
     WHERE p.id = COALESCE((SELECT id FROM plans WHERE stripe_price = sub.price OR id = sub.price), ?2) LIMIT 1";

fn standing_sql() -> String {
    STANDING_SQL.replace("ORG_SUBSCRIPTION", ORG_SUBSCRIPTION_SQL)
}

impl StandingRow {
    fn standing(self) -> Standing {
        Standing {
            status: self.status,
            seats: self.seats.unwrap_or(0),
            plan: self.plan,
            price: self.price,
            period_start: self.period_start,
            period_end: self.period_end,
            past_due_since: self.past_due_since,
            cancel_at_period_end: self.cancel_at_period_end.unwrap_or(0) != 0,
            limits: PlanLimits { messages_per_day: self.messages_per_day, tokens_per_month: self.tokens_per_month, concurrent_turns: self.concurrent_turns },
        }
    }
}

/// The org's standing.
pub async fn standing(db: &D1Database, who: &Identity) -> Result<Standing, ApiError> {
    let row: Option<StandingRow> = tenancy_store::first(db, &standing_sql(), &[text(who.org.as_str()), text(FALLBACK_PLAN)]).await?;
    row.map(StandingRow::standing).ok_or_else(|| unavailable("the fallback plan is missing from `plans`"))
}

impl Standing {
    fn billing(&self) -> BillingState {
        BillingState {
            status: self.status.as_deref().and_then(SubscriptionStatus::parse),
            seats: self.seats,
            past_due_since_ms: self.past_due_since.map(|s| s.saturating_mul(1000)),
        }
    }
}

fn grace_ms(env: &Env) -> i64 {
    let days = setting(env, "PAST_DUE_GRACE_DAYS").and_then(|d| d.parse::<i64>().ok()).filter(|d| (0..=90).contains(d)).unwrap_or(DEFAULT_GRACE_DAYS);
    days * billing::DAY_MS
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// Whether the caller may start agent work in `chat` now: a provisioned org, subscription, seat,
/// then quotas, and the rate limits, all in one D1 batch (this is on the path of every posted
/// message). Answers the org's usage period, in which the work is counted.
pub async fn check_agent_work(db: &D1Database, env: &Env, who: &Identity, chat: &ChatId, now_ms: i64) -> Result<Period, ApiError> {
    let org = text(who.org.as_str());
    let day = text(&billing::utc_day(now_ms));
    let rate = RateRead::new(who, now_ms);
    let [user_rate, org_rate] = rate.statements(db)?;
    let results = db
        .batch(vec![
            stmt(db, &standing_sql(), &[org.clone(), text(FALLBACK_PLAN)])?,
            // The member's seat: how many live members (whose users are not deleted) joined before them.
            stmt(
                db,
                "SELECT (SELECT COUNT(*) FROM memberships o WHERE o.org_id = m.org_id AND o.deleted_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id AND u.deleted_at IS NOT NULL) \
                 AND (o.created_at < m.created_at OR (o.created_at = m.created_at AND o.id < m.id))) AS n \
                 FROM memberships m WHERE m.org_id = ?1 AND m.user_id = ?2 AND m.deleted_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id AND u.deleted_at IS NOT NULL) ORDER BY m.created_at LIMIT 1",
                &[org.clone(), text(&who.user_id)],
            )?,
            stmt(db, "SELECT COALESCE(SUM(messages), 0) AS n FROM usage_days WHERE org_id = ?1 AND day = ?2", &[org.clone(), day])?,
            stmt(
                db,
                "SELECT COALESCE(SUM(tokens_in + tokens_out), 0) AS n FROM usage_periods WHERE org_id = ?1 AND period_start <= ?2 AND period_end > ?2",
                &[org.clone(), int(now_ms)],
            )?,
            stmt(
                db,
                "SELECT COUNT(*) AS n FROM active_turns WHERE org_id = ?1 AND chat_id != ?2 AND started_at > ?3",
                &[org.clone(), text(chat.as_str()), int(now_ms - tenancy_store::active_turns::STALE_AFTER_MS)],
            )?,
            stmt(db, ORG_SQL, &[org])?,
            user_rate,
            org_rate,
        ])
        .await
        .map_err(unavailable)?;
    let rows = |i: usize| batch_rows::<Count>(&results, i);
    let count = |i: usize| -> Result<i64, ApiError> { Ok(rows(i)?.first().map_or(0, |c| c.n)) };
    org_provisioned(batch_rows::<OrgRow>(&results, 5)?.into_iter().next())?;
    rate.verdict(env, &results, 6, now_ms)?;
    let standing: Standing = batch_rows::<StandingRow>(&results, 0)?
        .into_iter()
        .next()
        .map(StandingRow::standing)
        .ok_or_else(|| unavailable("the fallback plan is missing from `plans`"))?;
    let seat = rows(1)?.first().map(|c| c.n.clamp(0, i64::from(u32::MAX)) as u32);

    agent_access(&standing.billing(), grace_ms(env), seat, now_ms).map_err(denied)?;
    let usage = UsageSnapshot {
        messages_today: count(2)?.clamp(0, i64::from(u32::MAX)) as u32,
        tokens_this_period: count(3)?.max(0) as u64,
        active_turns_elsewhere: count(4)?.clamp(0, i64::from(u32::MAX)) as u32,
    };
    let period = usage_period(standing.period_start.zip(standing.period_end), now_ms);
    check_quotas(&standing.limits, &usage, period.end_ms, now_ms)
        .map_err(|q| ApiError::QuotaExceeded { quota: q.quota.as_str(), limit: q.limit, retry_after_secs: q.retry_after_secs })?;
    Ok(period)
}

fn denied(e: AccessDenied) -> ApiError {
    match e.status() {
        403 => ApiError::Forbidden { code: e.code(), message: e.to_string() },
        _ => ApiError::PaymentRequired { code: e.code(), message: e.to_string() },
    }
}
