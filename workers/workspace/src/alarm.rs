//! The Workspace's one alarm, multiplexed over the `schedule` table: webhook deliveries and
//! their retries (`crate::delivery`), due follow-ups and lead reviews (`crate::crm_loops`).
//! The schedule is derived from the tables that own the work, so re-arming is always safe, and
//! the cron safety net (`POST /wake`) can restore an alarm that went missing.

use crate::crm_loops::{CRM_DUE, CRM_REVIEW};
use crate::Workspace;
use domain::schedule::{due, next_alarm};
use runtime_support::responses::json;
use runtime_support::schedule;
use serde::Deserialize;
use worker::*;

/// The schedule entry for deliveries.
const DELIVER: &str = "deliver_sends";
/// Work already due when the alarm is armed runs this much later, never "now": the alarm
/// handler re-arms too, and a batch left over waits a moment.
const REARM_DELAY_MS: i64 = 1_000;

#[derive(Deserialize)]
struct Next {
    at: Option<i64>,
}

fn earliest(sql: &SqlStorage, query: &str) -> Result<Option<i64>> {
    Ok(sql.exec(query, None)?.one::<Next>()?.at)
}

fn put(sql: &SqlStorage, kind: &str, at: Option<i64>) -> Result<()> {
    match at {
        Some(at) => schedule::set(sql, kind, at),
        None => schedule::remove(sql, kind),
    }
}

impl Workspace {
    /// Rewrites the schedule from the work waiting (the next delivery retry or lease expiry,
    /// the earliest follow-up, the oldest review) and arms the one alarm for its earliest
    /// entry. Returns when the alarm is set for, if at all.
    pub(crate) async fn arm(&self) -> Result<Option<i64>> {
        let sql = self.state.storage().sql();
        let now = Self::now();
        let soon = now + REARM_DELAY_MS;
        let delivery = earliest(
            &sql,
            "SELECT MIN(CASE WHEN delivery_state = 'delivering' THEN lease_until ELSE next_attempt_at END) AS at FROM outbox \
             WHERE channel = 'webhook' AND delivery_state IN ('pending', 'failed', 'delivering')",
        )?;
        put(&sql, DELIVER, delivery)?;
        let followup = earliest(&sql, "SELECT MIN(next_followup_at) AS at FROM leads")?;
        put(&sql, CRM_DUE, followup.map(|at| at.max(soon)))?;
        let review = earliest(&sql, "SELECT MIN(last_followup_review_at) AS at FROM leads")?;
        let period = 24 * self.hour_ms();
        put(&sql, CRM_REVIEW, review.map(|at| at.saturating_add(period).max(soon)))?;
        let Some(at) = next_alarm(&schedule::all(&sql)?) else { return Ok(None) };
        let at = at.max(now + 1);
        self.state.storage().set_alarm(runtime_support::alarm_at(at)).await?;
        Ok(Some(at))
    }

    /// The alarm: runs whatever in the schedule is due, the loops first, so follow-ups sent
    /// now are delivered in this same run; delivering re-arms the alarm, also after a loop
    /// failed, so a failure never leaves the object without its alarm.
    pub(crate) async fn run_due(&self) -> Result<()> {
        self.migrate()?;
        let now = Self::now();
        let entries = schedule::all(&self.state.storage().sql())?;
        let due = due(&entries, now);
        let mut loops = Ok(());
        if due.iter().any(|e| e.kind == CRM_DUE) {
            loops = self.run_followups(now);
        }
        if loops.is_ok() && due.iter().any(|e| e.kind == CRM_REVIEW) {
            loops = self.run_reviews(now);
        }
        let delivered = self.deliver_due().await;
        loops.and(delivered)
    }

    /// `POST /wake` (the orchestrator's cron): re-arms the alarm from the schedule. An object
    /// never used has nothing to wake and is left unwritten.
    pub(crate) async fn wake(&self) -> Result<Response> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let used = self.state.storage().sql().exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'", None)?.one::<Count>()?.n > 0;
        if !used {
            return json(200, &serde_json::json!({ "used": false, "alarm_at": null }));
        }
        self.migrate()?;
        let before = self.state.storage().get_alarm().await?;
        let at = self.arm().await?;
        console_log!("{}", serde_json::json!({ "event": "workspace.wake", "alarm_was_set": before.is_some(), "alarm_at": at }));
        json(200, &serde_json::json!({ "used": true, "alarm_was_set": before.is_some(), "alarm_at": at }))
    }
}
