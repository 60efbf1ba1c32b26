//! Delivering send intents over the webhook channel. Each intent was recorded with the policy's
//! decision; here it is claimed (a lease, so two deliveries of one intent never overlap),
//! handed to the agents worker (which guards, signs and posts it with its idempotency key; all
//! third-party calls leave through there), and marked delivered, or retried from the alarm with
//! backoff, then given up. A crash mid-delivery leaves a lease that expires; the retry carries
//! the same key, so the receiver sends once.

use crate::Workspace;
use serde::Deserialize;
use workspace::channel::{idempotency_key, payload, retry_after_ms};
use worker::*;

/// How long a claimed delivery may take before another attempt may claim it, unless
/// `OUTBOUND_LEASE_MS` says otherwise.
const DEFAULT_LEASE_MS: i64 = 60_000;
/// A lease is never shorter than the agents worker's 10 s delivery timeout plus a margin, so a
/// delivery still in flight is never claimed a second time.
const MIN_LEASE_MS: i64 = 12_000;
/// Intents delivered per pass.
const BATCH: i64 = 20;
/// The first retry's delay unless `OUTBOUND_RETRY_BASE_MS` says otherwise.
const DEFAULT_RETRY_BASE_MS: i64 = 30_000;

#[derive(Deserialize)]
struct Intent {
    id: i64,
    lead_id: String,
    content: String,
    created_at: i64,
    channel_url: Option<String>,
    attempts: i64,
}

impl Workspace {
    /// Delivers every due intent, then arms the alarm for the next retry.
    pub(crate) async fn deliver_due(&self) -> Result<()> {
        let now = Self::now();
        let sql = self.state.storage().sql();
        let intents: Vec<Intent> = sql
            .exec(
                "SELECT id, lead_id, content, created_at, channel_url, attempts FROM outbox WHERE channel = 'webhook' AND \
                 ((delivery_state IN ('pending', 'failed') AND next_attempt_at <= ?) OR (delivery_state = 'delivering' AND lease_until <= ?)) ORDER BY id LIMIT ?",
                vec![now.into(), now.into(), BATCH.into()],
            )?
            .to_array()?;
        for intent in intents {
            // Claimed with no await between the check and the write.
            let claimed = sql.exec(
                "UPDATE outbox SET delivery_state = 'delivering', lease_until = ? WHERE id = ? AND ((delivery_state IN ('pending', 'failed') AND next_attempt_at <= ?) OR (delivery_state = 'delivering' AND lease_until <= ?))",
                vec![(now + self.setting_ms("OUTBOUND_LEASE_MS", DEFAULT_LEASE_MS).max(MIN_LEASE_MS)).into(), intent.id.into(), now.into(), now.into()],
            )?;
            if claimed.rows_written() == 0 {
                continue;
            }
            // The alarm covers the lease before the call, so a crash mid-delivery is retried.
            self.arm().await.map(|_| ())?;
            let outcome = self.deliver(&intent).await;
            let attempts = intent.attempts + 1;
            let done = Self::now();
            match outcome {
                Ok(()) => {
                    sql.exec("UPDATE outbox SET delivery_state = 'delivered', attempts = ?, delivered_at = ?, last_error = NULL, lease_until = NULL WHERE id = ?", vec![attempts.into(), done.into(), intent.id.into()])?;
                }
                Err(e) => {
                    let next = retry_after_ms(attempts as u32, self.retry_base_ms()).map(|d| done + d);
                    let state = if next.is_some() { "failed" } else { "gave_up" };
                    sql.exec(
                        "UPDATE outbox SET delivery_state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, lease_until = NULL WHERE id = ?",
                        vec![state.into(), attempts.into(), next.into(), e.into(), intent.id.into()],
                    )?;
                }
            }
        }
        self.arm().await.map(|_| ())
    }

    fn retry_base_ms(&self) -> i64 {
        self.setting_ms("OUTBOUND_RETRY_BASE_MS", DEFAULT_RETRY_BASE_MS)
    }

    /// A positive number of milliseconds from the variable `name`, else `default`.
    fn setting_ms(&self, name: &str, default: i64) -> i64 {
        self.env.var(name).ok().and_then(|v| v.to_string().parse().ok()).filter(|b: &i64| *b > 0).unwrap_or(default)
    }

    /// Hands the intent to the agents worker, which guards, signs and sends it.
    async fn deliver(&self, intent: &Intent) -> std::result::Result<(), String> {
        let url = intent.channel_url.as_deref().ok_or("the intent has no URL")?;
        let lead = crate::store::lead_view(&self.state.storage().sql(), &intent.lead_id).map_err(|e| e.to_string())?;
        let org = self.state.id().name().unwrap_or_default();
        let key = idempotency_key(&org, intent.id);
        let body = payload(&key, &intent.lead_id, lead.as_ref().and_then(|l| l.email.as_deref()), lead.as_ref().and_then(|l| l.phone.as_deref()), &intent.content, intent.created_at).to_string();
        let request = serde_json::json!({ "url": url, "idempotency_key": key, "body": body }).to_string();
        let agents = self.env.service("AGENTS").map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(request.into()));
        let req = Request::new_with_init("https://agents/v1/channel/deliver", &init).map_err(|e| e.to_string())?;
        let mut res = agents.fetch_request(req).await.map_err(|e| e.to_string())?;
        let v: serde_json::Value = res.json().await.map_err(|e| e.to_string())?;
        if v["ok"].as_bool() == Some(true) {
            Ok(())
        } else {
            Err(v["error"].as_str().unwrap_or("delivery failed").to_owned())
        }
    }
}
