//! Scheduled backups, run from the orchestrator's cron trigger: every chat and every org's
//! workspace gets a snapshot once per `BACKUP_INTERVAL_HOURS` (24 by default), a bounded batch
//! per run, the longest-waiting first. Failures are recorded and retried on a later run.

use crate::config::setting;
use domain::ids::OrgId;
use domain::ApiError;
use r2_layout::ObjectKind;
use serde::Deserialize;
use tenancy_store::{int, text};
use worker::Env;

const DEFAULT_INTERVAL_HOURS: i64 = 24;
/// Objects backed up per cron run at most (a run must finish well within its time limit).
const BATCH: i64 = 20;

#[derive(Deserialize)]
struct Due {
    org_id: String,
    kind: String,
    object_id: String,
}

const DUE_SQL: &str = "SELECT org_id, kind, object_id FROM ( \
       SELECT c.org_id AS org_id, 'chat' AS kind, c.id AS object_id, COALESCE(b.last_attempt_at, 0) AS waited \
       FROM chats c JOIN orgs o ON o.id = c.org_id AND o.deleted_at IS NULL \
       LEFT JOIN backup_runs b ON b.org_id = c.org_id AND b.kind = 'chat' AND b.object_id = c.id \
       WHERE b.last_attempt_at IS NULL OR b.last_attempt_at < ?1 \
     UNION ALL \
       SELECT o.id, 'workspace', o.id, COALESCE(b.last_attempt_at, 0) \
       FROM orgs o LEFT JOIN backup_runs b ON b.org_id = o.id AND b.kind = 'workspace' AND b.object_id = o.id \
       WHERE o.deleted_at IS NULL AND (b.last_attempt_at IS NULL OR b.last_attempt_at < ?1) \
     ) ORDER BY waited LIMIT ?2";

/// Records the outcome of one backup attempt (from the cron or the admin route), in
/// `backup_runs` and in the org's `parley_backups_total{kind,outcome}`.
pub async fn record(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str, now_ms: i64, outcome: Result<(), &str>) -> Result<(), ApiError> {
    let db = tenancy_store::db(env)?;
    let (taken, code) = match outcome {
        Ok(()) => (Some(now_ms), "ok"),
        Err(code) => (None, code),
    };
    let counted = telemetry::metrics::count(telemetry::metrics::BACKUPS, &[("kind", kind.as_str()), ("outcome", if taken.is_some() { "ok" } else { "failed" })]);
    if let Err(e) = tenancy_store::metrics::add(&db, org.as_str(), &[counted]).await {
        worker::console_warn!("backup metric not recorded: {}", e.code());
    }
    tenancy_store::run(
        &db,
        "INSERT INTO backup_runs (org_id, kind, object_id, last_taken_at, last_attempt_at, last_outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (org_id, kind, object_id) DO UPDATE SET last_taken_at = COALESCE(excluded.last_taken_at, last_taken_at), \
         last_attempt_at = excluded.last_attempt_at, last_outcome = excluded.last_outcome",
        &[text(org.as_str()), text(kind.as_str()), text(object_id), tenancy_store::opt_int(taken), int(now_ms), text(code)],
    )
    .await
}

/// One cron run: backs up the objects that are due. Returns how many succeeded and failed.
pub async fn run_scheduled(env: &Env, now_ms: i64) -> Result<(u32, u32), ApiError> {
    let hours = setting(env, "BACKUP_INTERVAL_HOURS").and_then(|h| h.parse::<i64>().ok()).filter(|h| (1..=24 * 30).contains(h)).unwrap_or(DEFAULT_INTERVAL_HOURS);
    let db = tenancy_store::db(env)?;
    let due: Vec<Due> = tenancy_store::all(&db, DUE_SQL, &[int(now_ms - hours * 3_600_000), int(BATCH)]).await?;
    let (mut ok, mut failed) = (0, 0);
    for object in due {
        let (Some(org), Some(kind)) = (OrgId::parse(&object.org_id), ObjectKind::parse(&object.kind)) else { continue };
        let outcome = super::take(env, &org, kind, &object.object_id, now_ms).await;
        match &outcome {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                worker::console_warn!("scheduled backup of a {} failed: {}", kind.as_str(), e.code());
            }
        }
        record(env, &org, kind, &object.object_id, now_ms, outcome.as_ref().map(|_| ()).map_err(|e| e.code())).await?;
    }
    Ok((ok, failed))
}
