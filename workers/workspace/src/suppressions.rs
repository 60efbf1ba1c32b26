//! The suppression list: adding (opt-outs are permanent), listing and lifting (never an opt-out).

use crate::lead_actions::actor;
use crate::request::body_or_return;
use crate::{audit_log, store, Workspace};
use domain::ApiError;
use runtime_support::responses::{error, json};
use runtime_support::transaction::transaction;
use serde::Deserialize;
use serde_json::json;
use workspace::suppression::{NewSuppression, Reason};
use worker::*;

impl Workspace {
    /// `POST /leads/{id}/suppressions`.
    pub(crate) async fn suppress(&self, id: &str, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        let now = Self::now();
        let new = body_or_return!(req, |b| NewSuppression::from_body(b, now));
        let (sql, lead_id) = (self.state.storage().sql(), id.to_owned());
        let view = transaction(&self.state.storage(), move || {
            if store::lead_view(&sql, &lead_id)?.is_none() {
                return Ok(None);
            }
            sql.exec(
                "INSERT INTO suppressions (lead_id, reason, until, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                vec![lead_id.as_str().into(), new.reason.as_str().into(), new.until.into(), new.note.clone().into(), who.as_str().into(), now.into()],
            )?;
            if new.reason == Reason::OptOut {
                store::opt_out(&sql, &lead_id, now)?;
            } else {
                store::extend_suppression(&sql, &lead_id, new.suppressed_until(), now)?;
            }
            audit_log::append(&sql, now, &who, "lead.suppressed", Some(&lead_id), &json!({ "reason": new.reason.as_str(), "until": new.until }))?;
            Ok(Some(json!({ "lead": store::lead_view(&sql, &lead_id)?, "suppressions": list(&sql, &lead_id)? })))
        })?;
        match view {
            Some(v) => json(201, &v),
            None => error(&ApiError::UnknownLead),
        }
    }

    /// `GET /leads/{id}/suppressions`.
    pub(crate) fn suppressions(&self, id: &str) -> Result<Response> {
        let sql = self.state.storage().sql();
        if store::lead_view(&sql, id)?.is_none() {
            return error(&ApiError::UnknownLead);
        }
        json(200, &json!({ "suppressions": list(&sql, id)? }))
    }

    /// `POST /leads/{id}/suppressions/lift`: lifts every suppression but an opt-out.
    pub(crate) fn lift(&self, id: &str, req: &Request) -> Result<Response> {
        let (sql, lead_id, now, who) = (self.state.storage().sql(), id.to_owned(), Self::now(), actor(req));
        let view = transaction(&self.state.storage(), move || {
            if store::lead_view(&sql, &lead_id)?.is_none() {
                return Ok(None);
            }
            sql.exec("UPDATE suppressions SET lifted_at = ? WHERE lead_id = ? AND reason != 'opt_out' AND lifted_at IS NULL", vec![now.into(), lead_id.as_str().into()])?;
            store::clear_suppression(&sql, &lead_id, now)?;
            audit_log::append(&sql, now, &who, "lead.suppression_lifted", Some(&lead_id), &json!({}))?;
            Ok(Some(json!({ "lead": store::lead_view(&sql, &lead_id)?, "suppressions": list(&sql, &lead_id)? })))
        })?;
        match view {
            Some(v) => json(200, &v),
            None => error(&ApiError::UnknownLead),
        }
    }
}

fn list(sql: &SqlStorage, lead_id: &str) -> Result<Vec<serde_json::Value>> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        reason: String,
        until: Option<i64>,
        note: Option<String>,
        created_by: String,
        created_at: i64,
        lifted_at: Option<i64>,
    }
    let rows: Vec<Row> = sql.exec("SELECT id, reason, until, note, created_by, created_at, lifted_at FROM suppressions WHERE lead_id = ? ORDER BY id", vec![lead_id.into()])?.to_array()?;
    Ok(rows
        .into_iter()
        .map(|r| json!({ "id": r.id, "reason": r.reason, "until": r.until, "note": r.note, "created_by": r.created_by, "created_at": r.created_at, "lifted_at": r.lifted_at, "permanent": r.reason == "opt_out" }))
        .collect())
}
