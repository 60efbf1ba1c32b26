//! Per-org rate limits over fixed windows in D1: one atomic upsert counts the call and returns
//! the count, so concurrent callers cannot both slip under the limit.

use crate::{first, int, text};
use domain::ids::OrgId;
use domain::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// Counts one call in `bucket` for the current window of `window_ms`; `Ok(false)` when the
/// call is over `limit` (it is counted all the same, so hammering does not help).
pub async fn take(db: &D1Database, org: &OrgId, bucket: &str, window_ms: i64, limit: i64, now_ms: i64) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        count: i64,
    }
    let window = now_ms.div_euclid(window_ms.max(1));
    let row: Option<Row> = first(
        db,
        "INSERT INTO rate_windows (org_id, bucket, window, count) VALUES (?1, ?2, ?3, 1) \
         ON CONFLICT (org_id, bucket, window) DO UPDATE SET count = count + 1 RETURNING count",
        &[text(org.as_str()), text(bucket), int(window)],
    )
    .await?;
    Ok(row.is_some_and(|r| r.count <= limit))
}

/// The D1 statement that reads a scope's stored count of API requests in a window as `n`; the
/// tenant gate adds it to the batch it runs anyway and adds what its isolate has not written
/// yet (`telemetry::write_behind`).
pub const API_REQUESTS_SQL: &str = "SELECT COALESCE(SUM(count), 0) AS n FROM rate_windows WHERE org_id = ?1 AND bucket = ?2 AND window = ?3";

/// The D1 statement that adds `?4` requests to a window (written behind the responses).
pub const ADD_API_REQUESTS_SQL: &str = "INSERT INTO rate_windows (org_id, bucket, window, count) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (org_id, bucket, window) DO UPDATE SET count = count + excluded.count";

/// The bucket of a user's API requests.
pub fn user_bucket(user_id: &str) -> String {
    let mut b = String::from("api:user:");
    b.push_str(user_id);
    b
}

/// The bucket of an org's API requests.
pub const ORG_BUCKET: &str = "api:org";

/// The D1 statement that deletes an org's API request windows before a window (`?2`).
pub const PRUNE_API_WINDOWS_SQL: &str = "DELETE FROM rate_windows WHERE org_id = ?1 AND window < ?2 AND bucket LIKE 'api:%'";
