//! The cron safety nets: every tick wakes the Workspaces (below), reseals secrets during a
//! master key rotation (ADR 19), then takes the backups that are due
//! (`crate::backups::run_scheduled`).
//!
//! Each Workspace's alarm runs its CRM loops and retries; if an alarm
//! went missing (an error in an alarm handler, an object restored from a backup), the org's
//! follow-ups would stop silently. Every cron tick lists the live orgs from D1, a page at a
//! time, and pokes each org's Workspace (`POST /wake`), which re-arms its alarm from its
//! schedule. A Workspace never used is left untouched.

use domain::ids::{workspace_object_name, OrgId};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{console_error, console_log, Env, Method, Request, RequestInit};

/// Orgs read per D1 query.
const PAGE: u32 = 100;
/// Most pages per tick (10,000 orgs); the next tick starts again from the first.
const MAX_PAGES: u32 = 100;

#[derive(Deserialize)]
struct OrgRow {
    id: String,
}

/// Secrets resealed per tick during a master key rotation (ADR 19).
const RESEAL_PER_TICK: u32 = 200;

/// One cron tick.
pub async fn run(env: &Env, now_ms: i64) {
    wake_workspaces(env, now_ms).await;
    reseal_secrets(env, now_ms).await;
    let backup_time = worker::Date::now().as_millis() as i64;
    match crate::backups::run_scheduled(env, backup_time).await {
        Ok((ok, failed)) => console_log!("{}", serde_json::json!({ "event": "cron.backups", "ok": ok, "failed": failed })),
        Err(e) => console_error!("cron: scheduled backups failed: {}", e.code()),
    }
}

/// Wakes every live org's Workspace. Failures are logged and the run goes on: one org's
/// broken object must not keep the others asleep.
async fn wake_workspaces(env: &Env, now_ms: i64) {
    let (mut woken, mut failed) = (0u32, 0u32);
    let mut after = String::new();
    for _ in 0..MAX_PAGES {
        let page = match live_orgs(env, &after).await {
            Ok(page) => page,
            Err(e) => {
                console_error!("cron: listing orgs failed: {e}");
                break;
            }
        };
        for org in page.iter().filter_map(|r| OrgId::parse(&r.id)) {
            match wake(env, &org).await {
                Ok(()) => woken += 1,
                Err(e) => {
                    failed += 1;
                    console_error!("cron: waking workspace of {}: {e}", org.as_str());
                }
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = last.id.clone(),
            _ => break,
        }
    }
    console_log!("{}", serde_json::json!({ "event": "cron.workspaces_woken", "at": now_ms, "woken": woken, "failed": failed }));
}

/// Moves secrets still sealed under the previous master key (or sealed before key ids were
/// recorded) to the current key, a page per tick, and logs what is left, so on-call can see
/// when `PARLEY_MASTER_KEY_PREVIOUS` may be removed (`remaining` 0).
async fn reseal_secrets(env: &Env, now_ms: i64) {
    let keys = match tenancy_store::secrets::master_keys(env) {
        Ok(keys) => keys,
        Err(e) => return console_error!("cron: secrets not resealed: {e}"),
    };
    let db = match tenancy_store::db(env) {
        Ok(db) => db,
        Err(e) => return console_error!("cron: secrets not resealed: {e}"),
    };
    match tenancy_store::secrets::reseal(&db, &keys, RESEAL_PER_TICK, now_ms).await {
        Ok(r) if r.resealed > 0 || r.unopened > 0 || r.remaining > 0 => console_log!(
            "{}",
            serde_json::json!({ "event": "cron.secrets_resealed", "key_id": keys.current().id(), "resealed": r.resealed, "unopened": r.unopened, "remaining": r.remaining })
        ),
        Ok(_) => {}
        Err(e) => console_error!("cron: resealing secrets failed: {e}"),
    }
}

async fn live_orgs(env: &Env, after: &str) -> worker::Result<Vec<OrgRow>> {
    env.d1("DB")?
        .prepare("SELECT id FROM orgs WHERE deleted_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2")
        .bind(&[JsValue::from_str(after), JsValue::from_f64(f64::from(PAGE))])?
        .all()
        .await?
        .results()
}

async fn wake(env: &Env, org: &OrgId) -> worker::Result<()> {
    let stub = env.durable_object("WORKSPACE")?.get_by_name(&workspace_object_name(org))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post);
    let res = stub.fetch_with_request(Request::new_with_init("https://workspace/wake", &init)?).await?;
    if res.status_code() == 200 {
        Ok(())
    } else {
        Err(worker::Error::RustError(format!("status {}", res.status_code())))
    }
}
