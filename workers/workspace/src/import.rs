//! `POST /leads/import`: many leads from a CSV file, with a report of every row.

use crate::lead_actions::actor;
use crate::{audit_log, store, Workspace};
use domain::ApiError;
use runtime_support::random;
use runtime_support::responses::{error, json};
use runtime_support::transaction::transaction;
use serde_json::json;
use workspace::csv_import::{parse, FileError, RejectedRow};
use domain::ids::LeadId;
use worker::*;

impl Workspace {
    /// Imports every valid row and reports each rejected one with its reasons. Rows whose
    /// email is already a lead (or appears earlier in the file) are rejected, so an import can
    /// be retried without making duplicates. All the inserts are one transaction.
    pub(crate) async fn import_leads(&self, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        let body = req.bytes().await?;
        let parsed = match parse(&body) {
            Ok(p) => p,
            Err(FileError::TooLarge) => return error(&ApiError::PayloadTooLarge { what: "CSV file", limit: workspace::csv_import::MAX_BYTES }),
            Err(e) => return error(&ApiError::InvalidField { field: "file", reason: e.to_string() }),
        };
        let mut ids = Vec::with_capacity(parsed.leads.len());
        for _ in &parsed.leads {
            let Some(bytes) = random::bytes16() else { return error(&ApiError::Unavailable { dependency: "crypto" }) };
            ids.push(LeadId::from_random(bytes));
        }
        let (sql, zones, now) = (self.state.storage().sql(), self.zones.clone(), Self::now());
        let first = workspace::followup::on_created(&self.cadence(&self.settings()?), now);
        let report = transaction(&self.state.storage(), move || {
            let mut created = Vec::new();
            let mut rejected: Vec<RejectedRow> = parsed.rejected;
            let mut seen_emails: Vec<String> = Vec::new();
            for ((row, lead), id) in parsed.leads.into_iter().zip(ids) {
                let mut errors = Vec::new();
                if let Some(zone) = &lead.time_zone {
                    if !zones.is_known(zone) {
                        errors.push(format!("unknown time zone `{zone}`"));
                    }
                }
                if let Some(email) = lead.email.as_ref().map(|e| e.to_lowercase()) {
                    if seen_emails.contains(&email) || store::lead_id_by_email(&sql, &email)?.is_some() {
                        errors.push(format!("a lead with email {email} already exists"));
                    }
                    seen_emails.push(email);
                }
                if errors.is_empty() {
                    store::insert_lead(&sql, id.as_str(), &lead, first, now)?;
                    created.push(json!({ "row": row, "id": id.as_str() }));
                } else {
                    rejected.push(RejectedRow { row, errors });
                }
            }
            rejected.sort_by_key(|r| r.row);
            audit_log::append(&sql, now, &who, "leads.imported", None, &json!({ "created": created.len(), "rejected": rejected.len() }))?;
            Ok(json!({ "created": created, "rejected": rejected }))
        })?;
        self.arm().await?;
        json(200, &report)
    }
}
