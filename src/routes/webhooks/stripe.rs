//! `POST /webhooks/stripe`: checkout, subscription and invoice events from Stripe.
//!
//! `billing::apply_subscription_event` folds each delivery into the stored subscription by the
//! event's `created` second and the subscription's own state, so a stale or reordered delivery
//! never regresses it. Checkout ties a Stripe customer to an org (the first tie wins).

use super::{answer, header, payload_refused, process, read_body, signature_refused, Delivery, Outcome, Plan};
use crate::config::required;
use billing::{apply_subscription_event, BillingChange, StoredSubscription, SubscriptionChange, SubscriptionStatus};
use domain::ApiError;
use serde::Deserialize;
use tenancy_store::{int, opt_int, opt_text, stmt, text};
use worker::{D1Database, D1PreparedStatement, Env, Request, Response};

pub async fn receive(mut req: Request, env: &Env, now_ms: i64) -> Result<Response, ApiError> {
    let secret = required(env, "STRIPE_WEBHOOK_SECRET")?;
    let body = read_body(&mut req).await?;
    webhooks::verify_stripe(&secret, header(&req, "Stripe-Signature").as_deref(), &body, now_ms / 1000)
        .map_err(|e| signature_refused(e, "STRIPE_WEBHOOK_SECRET"))?;
    let event = billing::parse_stripe_event(&body).map_err(payload_refused)?;
    let db = tenancy_store::db(env)?;
    let delivery = Delivery { provider: "stripe", id: &event.id, event_type: &event.event_type, now_ms };
    let outcome = process(&db, &delivery, || plan(&db, &event.change, event.created, now_ms)).await?;
    answer(&delivery, outcome)
}

#[derive(Deserialize)]
struct Row {
    id: String,
    status: String,
    seats: u32,
    price: Option<String>,
    period_start: Option<i64>,
    period_end: Option<i64>,
    past_due_since: Option<i64>,
    source_created: i64,
    revision: i64,
}

impl Row {
    fn stored(&self) -> Option<StoredSubscription> {
        Some(StoredSubscription {
            status: SubscriptionStatus::parse(&self.status)?,
            seats: self.seats,
            price: self.price.clone(),
            period_start: self.period_start,
            period_end: self.period_end,
            source_created: self.source_created,
            past_due_since: self.past_due_since,
        })
    }
}

const ROW_COLUMNS: &str = "id, status, seats, price, period_start, period_end, past_due_since, source_created, revision";

async fn by_id(db: &D1Database, id: &str) -> Result<Option<Row>, ApiError> {
    tenancy_store::first(db, &format!("SELECT {ROW_COLUMNS} FROM subscriptions WHERE id = ?1"), &[text(id)]).await
}

/// The subscription an invoice is about: named by the invoice, else the customer's latest.
async fn for_invoice(db: &D1Database, customer: &str, subscription: Option<&str>) -> Result<Option<Row>, ApiError> {
    match subscription {
        Some(id) => by_id(db, id).await,
        None => {
            tenancy_store::first(
                db,
                &format!("SELECT {ROW_COLUMNS} FROM subscriptions WHERE customer_id = ?1 ORDER BY source_created DESC LIMIT 1"),
                &[text(customer)],
            )
            .await
        }
    }
}

/// Ties a customer to an org; the first tie stands (a customer never changes org).
fn link_customer(db: &D1Database, customer: &str, org: &str, now_ms: i64) -> Result<D1PreparedStatement, ApiError> {
    stmt(
        db,
        "INSERT INTO billing_customers (customer_id, org_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (customer_id) DO NOTHING",
        &[text(customer), text(org), int(now_ms)],
    )
}

async fn plan(db: &D1Database, change: &BillingChange, created: i64, now_ms: i64) -> Result<Plan, ApiError> {
    match change {
        BillingChange::Ignored => Ok(Plan { outcome: Outcome::Skipped("event type not handled"), guarded: None, also: vec![] }),
        BillingChange::CheckoutCompleted { customer_id, subscription_id, org_id } => {
            let (Some(customer), Some(org)) = (customer_id, org_id) else {
                return Ok(Plan { outcome: Outcome::Skipped("checkout without a customer or an org reference"), guarded: None, also: vec![] });
            };
            let mut also = vec![link_customer(db, customer, org, now_ms)?];
            if let Some(sub) = subscription_id {
                also.push(stmt(db, "UPDATE subscriptions SET org_id = COALESCE(org_id, ?1) WHERE id = ?2", &[text(org), text(sub)])?);
            }
            Ok(Plan { outcome: Outcome::Applied("customer linked to org"), guarded: None, also })
        }
        BillingChange::Subscription(snapshot) => {
            let row = by_id(db, &snapshot.id).await?;
            let stored = row.as_ref().and_then(Row::stored);
            let change = SubscriptionChange::Snapshot(snapshot.clone());
            let mut also = Vec::new();
            if let Some(org) = &snapshot.org_id {
                also.push(link_customer(db, &snapshot.customer_id, org, now_ms)?);
            }
            let Some(next) = apply_subscription_event(stored.as_ref(), created, &change) else {
                return Ok(Plan { outcome: Outcome::Skipped("stale or unchanged"), guarded: None, also });
            };
            let guarded = match &row {
                None => stmt(
                    db,
                    "INSERT INTO subscriptions (id, customer_id, org_id, status, seats, price, period_start, period_end, cancel_at_period_end, \
                     past_due_since, source_created, revision, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12) \
                     ON CONFLICT (id) DO NOTHING",
                    &[
                        text(&snapshot.id),
                        text(&snapshot.customer_id),
                        opt_text(snapshot.org_id.as_deref()),
                        text(next.status.as_str()),
                        int(i64::from(next.seats)),
                        opt_text(next.price.as_deref()),
                        opt_int(next.period_start),
                        opt_int(next.period_end),
                        int(i64::from(snapshot.cancel_at_period_end)),
                        opt_int(next.past_due_since),
                        int(next.source_created),
                        int(now_ms),
                    ],
                )?,
                Some(current) => update(db, current, &next, Some(snapshot.cancel_at_period_end), snapshot.org_id.as_deref(), now_ms)?,
            };
            Ok(Plan { outcome: Outcome::Applied("subscription updated"), guarded: Some(guarded), also })
        }
        BillingChange::InvoicePaid { customer_id, subscription_id } | BillingChange::InvoicePaymentFailed { customer_id, subscription_id } => {
            let Some(change) = change.subscription_change() else {
                return Ok(Plan { outcome: Outcome::Skipped("event type not handled"), guarded: None, also: vec![] });
            };
            let Some(row) = for_invoice(db, customer_id, subscription_id.as_deref()).await? else {
                return Ok(Plan { outcome: Outcome::Skipped("no stored subscription for this invoice"), guarded: None, also: vec![] });
            };
            let Some(next) = row.stored().and_then(|s| apply_subscription_event(Some(&s), created, &change)) else {
                return Ok(Plan { outcome: Outcome::Skipped("stale or no status change"), guarded: None, also: vec![] });
            };
            let label = if matches!(change, SubscriptionChange::InvoicePaid) { "payment recovered" } else { "payment failed: past due" };
            Ok(Plan { outcome: Outcome::Applied(label), guarded: Some(update(db, &row, &next, None, None, now_ms)?), also: vec![] })
        }
    }
}

/// The compare-and-set update of a stored subscription.
fn update(db: &D1Database, current: &Row, next: &StoredSubscription, cancel_at_period_end: Option<bool>, org: Option<&str>, now_ms: i64) -> Result<D1PreparedStatement, ApiError> {
    stmt(
        db,
        "UPDATE subscriptions SET status = ?1, seats = ?2, price = ?3, period_start = ?4, period_end = ?5, past_due_since = ?6, source_created = ?7, \
         cancel_at_period_end = COALESCE(?8, cancel_at_period_end), org_id = COALESCE(org_id, ?9), updated_at = ?10, revision = revision + 1 \
         WHERE id = ?11 AND revision = ?12",
        &[
            text(next.status.as_str()),
            int(i64::from(next.seats)),
            opt_text(next.price.as_deref()),
            opt_int(next.period_start),
            opt_int(next.period_end),
            opt_int(next.past_due_since),
            int(next.source_created),
            opt_int(cancel_at_period_end.map(i64::from)),
            opt_text(org),
            int(now_ms),
            text(&current.id),
            int(current.revision),
        ],
    )
}
