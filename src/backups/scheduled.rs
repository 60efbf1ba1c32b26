//! Scheduled backups, run from the orchestrator's cron trigger: every chat and every org's
//! workspace gets a snapshot once per `BACKUP_INTERVAL_HOURS` (24 by default), the
//! longest-waiting first, as many as fit in a run's time budget. An object whose content has
//! not changed since its newest snapshot (same digest) gets no new one, unless that snapshot is
//! old (`r2_layout::snapshot_needed`). Failures are recorded and retried on a later run.

use crate::config::setting;
use domain::ids::OrgId;
use domain::ApiError;
use r2_layout::{snapshot_needed, LastSnapshot, ObjectKind};
use serde::Deserialize;
use tenancy_store::{int, text};
use worker::Env;

/// Objects considered per cron run at most.
const BATCH: i64 = 200;
/// A run starts no new backup after this long (a scheduled run may take 15 minutes; runs are
/// 15 minutes apart, so one never overlaps the next).
const RUN_BUDGET_MS: i64 = 60_000;

#[derive(Deserialize)]
struct Due {
    org_id: String,
    kind: String,
    object_id: String,
    last_taken_at: Option<i64>,
    last_digest: Option<String>,
}

/// What one backup attempt came to.
pub enum Attempt<'a> {
    /// A snapshot was written; its content digest.
    Taken { digest: &'a str },
    /// The content was the newest snapshot's: nothing written.
    Unchanged,
    /// The attempt failed with this code.
    Failed { code: &'a str },
}

const DUE_SQL: &str = "SELECT org_id, kind, object_id, last_taken_at, last_digest FROM ( \
       SELECT c.org_id AS org_id, 'chat' AS kind, c.id AS object_id, b.last_taken_at AS last_taken_at, b.last_digest AS last_digest, COALESCE(b.last_attempt_at, 0) AS waited \
       FROM chats c JOIN orgs o ON o.id = c.org_id AND o.deleted_at IS NULL \
       LEFT JOIN backup_runs b ON b.org_id = c.org_id AND b.kind = 'chat' AND b.object_id = c.id \
       WHERE b.last_attempt_at IS NULL OR b.last_attempt_at < ?1 \
     UNION ALL \
       SELECT o.id, 'workspace', o.id, b.last_taken_at, b.last_digest, COALESCE(b.last_attempt_at, 0) \
       FROM orgs o LEFT JOIN backup_runs b ON b.org_id = o.id AND b.kind = 'workspace' AND b.object_id = o.id \
       WHERE o.deleted_at IS NULL AND (b.last_attempt_at IS NULL OR b.last_attempt_at < ?1) \
     ) ORDER BY waited LIMIT ?2";

/// Records the outcome of one backup attempt (from the cron or the admin route), in
/// `backup_runs` and in the org's `parley_backups_total{kind,outcome}`.
pub async fn record(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str, now_ms: i64, attempt: Attempt<'_>) -> Result<(), ApiError> {
    let db = tenancy_store::db(env)?;
    let (taken, digest, outcome, metric) = match attempt {
        Attempt::Taken { digest } => (Some(now_ms), Some(digest), "ok", "ok"),
        Attempt::Unchanged => (None, None, "unchanged", "unchanged"),
        Attempt::Failed { code } => (None, None, code, "failed"),
    };
    let counted = telemetry::metrics::count(telemetry::metrics::BACKUPS, &[("kind", kind.as_str()), ("outcome", metric)]);
    // The run and its metric in one batch.
    let run = tenancy_store::stmt(
        &db,
        "INSERT INTO backup_runs (org_id, kind, object_id, last_taken_at, last_attempt_at, last_outcome, last_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (org_id, kind, object_id) DO UPDATE SET last_taken_at = COALESCE(excluded.last_taken_at, last_taken_at), \
         last_attempt_at = excluded.last_attempt_at, last_outcome = excluded.last_outcome, last_digest = COALESCE(excluded.last_digest, last_digest)",
        &[text(org.as_str()), text(kind.as_str()), text(object_id), tenancy_store::opt_int(taken), int(now_ms), text(outcome), tenancy_store::opt_text(digest)],
    )?;
    db.batch(vec![run, tenancy_store::metrics::add_statement(&db, org.as_str(), &counted)?]).await.map_err(tenancy_store::unavailable)?;
    Ok(())
}

/// One cron run: backs up the objects that are due, until the run's time budget is spent.
/// Returns how many were backed up (or found unchanged) and how many failed.
pub async fn run_scheduled(env: &Env, now_ms: i64) -> Result<(u32, u32), ApiError> {
    let interval_ms = r2_layout::interval_ms(setting(env, "BACKUP_INTERVAL_HOURS").as_deref());
    let db = tenancy_store::db(env)?;
    let due: Vec<Due> = tenancy_store::all(&db, DUE_SQL, &[int(now_ms - interval_ms), int(BATCH)]).await?;
    let (mut ok, mut failed) = (0, 0);
    for object in due {
        if worker::Date::now().as_millis() as i64 - now_ms > RUN_BUDGET_MS {
            break;
        }
        let (Some(org), Some(kind)) = (OrgId::parse(&object.org_id), ObjectKind::parse(&object.kind)) else { continue };
        let last = match (object.last_taken_at, object.last_digest.as_deref()) {
            (Some(taken_at_ms), Some(digest)) => Some(LastSnapshot { taken_at_ms, digest }),
            _ => None,
        };
        let outcome = super::store::take_if(env, &org, kind, &object.object_id, now_ms, |digest| snapshot_needed(last, digest, now_ms, interval_ms)).await;
        let attempt = match &outcome {
            Ok((Some(_), digest)) => Attempt::Taken { digest },
            Ok((None, _)) => Attempt::Unchanged,
            Err(e) => {
                worker::console_warn!("scheduled backup of a {} failed: {}", kind.as_str(), e.code());
                Attempt::Failed { code: e.code() }
            }
        };
        match attempt {
            Attempt::Failed { .. } => failed += 1,
            _ => ok += 1,
        }
        record(env, &org, kind, &object.object_id, now_ms, attempt).await?;
    }
    Ok((ok, failed))
}
