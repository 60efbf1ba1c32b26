//! Clerk and Stripe webhooks: verified with the providers' own signing schemes
//! (`webhooks::svix`, `webhooks::stripe`), parsed by the `billing` core, and mirrored into D1.
//!
//! Each delivery is committed in one D1 batch (a transaction): the mirrored row's write, guarded
//! by compare-and-set on the row's `revision`, and the delivery's record in `webhook_events`,
//! inserted only if that write happened (`changes()`). So a delivery either lands whole or not
//! at all: a duplicate trips the `webhook_events` primary key and rolls the batch back, and a
//! concurrent writer makes the compare-and-set miss, in which case the delivery is re-read and
//! re-decided. Bad signatures and bodies are refused before anything is written.

pub mod clerk;
pub mod stripe;

use domain::ApiError;
use serde_json::json;
use tenancy_store::{int, stmt, text, unavailable};
use worker::{D1Database, D1PreparedStatement, Request, Response};

/// The largest webhook body accepted (Clerk and Stripe events are a few KiB).
const MAX_BODY_BYTES: usize = 256 * 1024;
/// How many times a delivery is re-decided after losing a compare-and-set race.
const MAX_ATTEMPTS: usize = 5;

/// Reads the raw body (signatures cover the exact bytes).
async fn read_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let body = req.bytes().await.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge { what: "webhook body", limit: MAX_BODY_BYTES });
    }
    Ok(body)
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// A signature refusal as an API error; a secret that cannot be used is a configuration error.
fn signature_refused(e: webhooks::SignatureError, secret_name: &'static str) -> ApiError {
    match e {
        webhooks::SignatureError::BadSecret => ApiError::Misconfigured(secret_name),
        other => ApiError::BadSignature { code: other.code(), message: other.to_string() },
    }
}

fn payload_refused(e: billing::EventError) -> ApiError {
    ApiError::BadWebhookPayload { code: e.code(), message: e.to_string() }
}

/// The delivery being recorded.
pub struct Delivery<'a> {
    pub provider: &'static str,
    pub id: &'a str,
    pub event_type: &'a str,
    pub now_ms: i64,
}

/// What happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The change was written; the string says what it was.
    Applied(&'static str),
    /// Nothing to write (stale, after a deletion, an ignored type); recorded all the same.
    Skipped(&'static str),
    /// This delivery was already processed.
    Duplicate,
}

enum Commit {
    Done,
    Lost,
    Duplicate,
}

async fn already_processed(db: &D1Database, d: &Delivery<'_>) -> Result<bool, ApiError> {
    #[derive(serde::Deserialize)]
    struct Row {
        #[allow(dead_code)]
        id: String,
    }
    let row: Option<Row> = tenancy_store::first(db, "SELECT id FROM webhook_events WHERE provider = ?1 AND id = ?2", &[text(d.provider), text(d.id)]).await?;
    Ok(row.is_some())
}

/// Commits a delivery: `guarded` (a compare-and-set write, or none), the delivery record
/// (only if the guarded write changed a row), then `also` (idempotent writes that ride along).
async fn commit(db: &D1Database, d: &Delivery<'_>, outcome: &str, guarded: Option<D1PreparedStatement>, also: Vec<D1PreparedStatement>) -> Result<Commit, ApiError> {
    let has_guard = guarded.is_some();
    let record_sql = if has_guard {
        "INSERT INTO webhook_events (provider, id, type, outcome, received_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE changes() > 0"
    } else {
        "INSERT INTO webhook_events (provider, id, type, outcome, received_at) VALUES (?1, ?2, ?3, ?4, ?5)"
    };
    let mut batch: Vec<D1PreparedStatement> = guarded.into_iter().collect();
    batch.push(stmt(db, record_sql, &[text(d.provider), text(d.id), text(d.event_type), text(outcome), int(d.now_ms)])?);
    batch.extend(also);
    match db.batch(batch).await {
        Ok(results) => {
            let changed = |i: usize| results.get(i).and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0);
            if has_guard && changed(0) == 0 {
                Ok(Commit::Lost)
            } else {
                Ok(Commit::Done)
            }
        }
        Err(e) if e.to_string().contains("UNIQUE constraint failed: webhook_events") => Ok(Commit::Duplicate),
        Err(e) => Err(unavailable(e)),
    }
}

/// A decided write for one delivery: what to call it, the guarded statement, the rest.
pub struct Plan {
    pub outcome: Outcome,
    pub guarded: Option<D1PreparedStatement>,
    pub also: Vec<D1PreparedStatement>,
}

/// Runs `decide` (read, decide, build statements) and commits, re-deciding after a lost race.
pub async fn process<F, Fut>(db: &D1Database, d: &Delivery<'_>, mut decide: F) -> Result<Outcome, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Plan, ApiError>>,
{
    if already_processed(db, d).await? {
        return Ok(Outcome::Duplicate);
    }
    for _ in 0..MAX_ATTEMPTS {
        let plan = decide().await?;
        let label = match plan.outcome {
            Outcome::Applied(s) | Outcome::Skipped(s) => s,
            Outcome::Duplicate => "duplicate",
        };
        match commit(db, d, label, plan.guarded, plan.also).await? {
            Commit::Done => return Ok(plan.outcome),
            Commit::Duplicate => return Ok(Outcome::Duplicate),
            Commit::Lost => continue,
        }
    }
    worker::console_error!("{} webhook {} kept losing compare-and-set races", d.provider, d.id);
    Err(ApiError::Unavailable { dependency: "d1" })
}

/// The 200 answer for a processed delivery.
pub fn answer(d: &Delivery<'_>, outcome: Outcome) -> Result<Response, ApiError> {
    let (status, detail) = match outcome {
        Outcome::Applied(s) => ("applied", s),
        Outcome::Skipped(s) => ("skipped", s),
        Outcome::Duplicate => ("duplicate", "already processed"),
    };
    super::json(200, &json!({ "received": true, "id": d.id, "type": d.event_type, "status": status, "detail": detail }))
}
