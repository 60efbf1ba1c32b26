//! `POST /webhooks/clerk`: organizations, users and memberships from Clerk (signed by Svix).
//!
//! Rows are mirrored with their version (Clerk's `updated_at`, or the event time for
//! deletions); `billing::next_mirror_state` decides whether a delivery applies: an older update
//! never overwrites a newer one, and a deletion is final.

use super::{answer, process, read_body, header, payload_refused, signature_refused, Delivery, Outcome, Plan};
use crate::config::required;
use auth::Role;
use billing::{next_mirror_state, ClerkChange, MirrorDecision, MirrorState};
use domain::ApiError;
use serde::Deserialize;
use tenancy_store::{int, opt_text, stmt, text};
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Request, Response};

pub async fn receive(mut req: Request, env: &Env, now_ms: i64) -> Result<Response, ApiError> {
    let secret = required(env, "CLERK_WEBHOOK_SECRET")?;
    let body = read_body(&mut req).await?;
    let id = header(&req, "svix-id");
    webhooks::verify_svix(&secret, id.as_deref(), header(&req, "svix-timestamp").as_deref(), header(&req, "svix-signature").as_deref(), &body, now_ms / 1000)
        .map_err(|e| signature_refused(e, "CLERK_WEBHOOK_SECRET"))?;
    let id = id.unwrap_or_default();
    let event = billing::parse_clerk_event(&body).map_err(payload_refused)?;
    let db = tenancy_store::db(env)?;
    let delivery = Delivery { provider: "clerk", id: &id, event_type: &event.event_type, now_ms };
    let version = event.version();
    let outcome = process(&db, &delivery, || plan(&db, &event.change, version)).await?;
    answer(&delivery, outcome)
}

/// One mirrored object: its table, id, the columns an upsert writes, and the columns a
/// tombstone needs when a deletion arrives before anything else about the object.
struct Mirror {
    table: &'static str,
    id: String,
    columns: Vec<(&'static str, JsValue)>,
    tombstone: Vec<(&'static str, JsValue)>,
    what: &'static str,
}

fn mirror_of(change: &ClerkChange, version: i64) -> Option<Mirror> {
    let m = match change {
        ClerkChange::OrgUpsert { id, name, slug, created_at, .. } => Mirror {
            table: "orgs",
            id: id.clone(),
            columns: vec![("name", text(name)), ("slug", opt_text(slug.as_deref())), ("created_at", int(*created_at))],
            tombstone: vec![],
            what: "organization",
        },
        ClerkChange::OrgDeleted { id } => Mirror {
            table: "orgs",
            id: id.clone(),
            columns: vec![],
            tombstone: vec![("name", text("")), ("created_at", int(version))],
            what: "organization",
        },
        ClerkChange::UserUpsert { id, email, name, created_at, .. } => Mirror {
            table: "users",
            id: id.clone(),
            columns: vec![("email", opt_text(email.as_deref())), ("name", opt_text(name.as_deref())), ("created_at", int(*created_at))],
            tombstone: vec![],
            what: "user",
        },
        ClerkChange::UserDeleted { id } => {
            Mirror { table: "users", id: id.clone(), columns: vec![], tombstone: vec![("created_at", int(version))], what: "user" }
        }
        ClerkChange::MembershipUpsert { id, org_id, user_id, role, created_at, .. } => Mirror {
            table: "memberships",
            id: id.clone(),
            columns: vec![
                ("org_id", text(org_id)),
                ("user_id", text(user_id)),
                ("role", text(Role::parse_clerk(role).as_str())),
                ("clerk_role", text(role)),
                ("created_at", int(*created_at)),
            ],
            tombstone: vec![],
            what: "membership",
        },
        ClerkChange::MembershipDeleted { id, org_id, user_id } => Mirror {
            table: "memberships",
            id: id.clone(),
            columns: vec![],
            tombstone: vec![("org_id", text(org_id)), ("user_id", text(user_id)), ("role", text("member")), ("created_at", int(version))],
            what: "membership",
        },
        ClerkChange::Ignored => return None,
    };
    Some(m)
}

#[derive(Deserialize)]
struct StoredRow {
    source_version: i64,
    deleted_at: Option<i64>,
    revision: i64,
}

async fn plan(db: &D1Database, change: &ClerkChange, version: i64) -> Result<Plan, ApiError> {
    let Some(mirror) = mirror_of(change, version) else {
        return Ok(Plan { outcome: Outcome::Skipped("event type not mirrored"), guarded: None, also: vec![] });
    };
    let row: Option<StoredRow> =
        tenancy_store::first(db, &format!("SELECT source_version, deleted_at, revision FROM {} WHERE id = ?1", mirror.table), &[text(&mirror.id)]).await?;
    let stored = row.as_ref().map(|r| MirrorState { version: r.source_version, deleted: r.deleted_at.is_some() });
    let is_delete = change.is_delete();
    let Some(next) = next_mirror_state(stored.as_ref(), version, is_delete) else {
        let why = match billing::decide_mirror(stored.as_ref(), version, is_delete) {
            MirrorDecision::SkipDeleted => "already deleted",
            _ => "stale: a newer version is stored",
        };
        return Ok(Plan { outcome: Outcome::Skipped(why), guarded: None, also: vec![] });
    };
    let deleted_at = if next.deleted { int(version) } else { JsValue::NULL };
    let guarded = match &row {
        None => {
            let cols = if is_delete { &mirror.tombstone } else { &mirror.columns };
            let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
            let mut args: Vec<JsValue> = vec![text(&mirror.id)];
            args.extend(cols.iter().map(|(_, v)| v.clone()));
            args.extend([int(next.version), deleted_at]);
            let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT INTO {} (id, {}, source_version, deleted_at, revision) VALUES ({}, 1) ON CONFLICT (id) DO NOTHING",
                mirror.table,
                names.join(", "),
                placeholders.join(", ")
            );
            stmt(db, &sql, &args)?
        }
        Some(current) => {
            let cols = if is_delete { &[][..] } else { &mirror.columns[..] };
            let mut sets: Vec<String> = cols.iter().enumerate().map(|(i, (n, _))| format!("{n} = ?{}", i + 1)).collect();
            let mut args: Vec<JsValue> = cols.iter().map(|(_, v)| v.clone()).collect();
            let k = args.len();
            sets.push(format!("source_version = ?{}", k + 1));
            sets.push(format!("deleted_at = ?{}", k + 2));
            args.extend([int(next.version), deleted_at, text(&mirror.id), int(current.revision)]);
            let sql = format!("UPDATE {} SET {}, revision = revision + 1 WHERE id = ?{} AND revision = ?{}", mirror.table, sets.join(", "), k + 3, k + 4);
            stmt(db, &sql, &args)?
        }
    };
    let label = match (mirror.what, is_delete) {
        ("organization", false) => "organization mirrored",
        ("organization", true) => "organization deleted",
        ("user", false) => "user mirrored",
        ("user", true) => "user deleted",
        (_, false) => "membership mirrored",
        (_, true) => "membership deleted",
    };
    Ok(Plan { outcome: Outcome::Applied(label), guarded: Some(guarded), also: vec![] })
}
