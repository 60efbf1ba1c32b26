//! Stripe webhook payloads turned into billing changes. Signature verification happens before
//! this, in the `webhooks` crate.
//!
//! Stripe's payload shapes depend on the account's API version; where a field moved between
//! versions both places are read (noted at each site).

use crate::error::EventError;
use crate::json::{parse_object, Fields};
use crate::status::SubscriptionStatus;
use crate::subscription::SubscriptionChange;

/// One Stripe webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeEvent {
    /// Stripe's event id (`evt_...`), for idempotency.
    pub id: String,
    /// Stripe's event type as sent, e.g. `customer.subscription.updated`.
    pub event_type: String,
    /// When Stripe created the event, seconds since the epoch. Orders deliveries.
    pub created: i64,
    pub change: BillingChange,
}

/// What a Stripe event changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingChange {
    /// `checkout.session.completed`: links a Stripe customer and subscription to an org.
    /// `org_id` comes from `client_reference_id`, else `metadata.org_id`.
    CheckoutCompleted { customer_id: Option<String>, subscription_id: Option<String>, org_id: Option<String> },
    /// `customer.subscription.created` / `.updated` / `.deleted`: the subscription as it now is.
    Subscription(SubscriptionSnapshot),
    /// `invoice.paid`.
    InvoicePaid { customer_id: String, subscription_id: Option<String> },
    /// `invoice.payment_failed`.
    InvoicePaymentFailed { customer_id: String, subscription_id: Option<String> },
    /// A well-formed event of a type Parley does not act on.
    Ignored,
}

impl BillingChange {
    /// The change to feed [`crate::apply_subscription_event`], for events that touch a stored
    /// subscription (`None` for checkout and ignored events).
    pub fn subscription_change(&self) -> Option<SubscriptionChange> {
        match self {
            BillingChange::Subscription(snapshot) => Some(SubscriptionChange::Snapshot(snapshot.clone())),
            BillingChange::InvoicePaid { .. } => Some(SubscriptionChange::InvoicePaid),
            BillingChange::InvoicePaymentFailed { .. } => Some(SubscriptionChange::InvoicePaymentFailed),
            BillingChange::CheckoutCompleted { .. } | BillingChange::Ignored => None,
        }
    }
}

/// A subscription as a `customer.subscription.*` event describes it. Times are seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSnapshot {
    pub id: String,
    pub customer_id: String,
    /// `metadata.org_id`, set by Parley when it creates the checkout session.
    pub org_id: Option<String>,
    pub status: SubscriptionStatus,
    /// Sum of the items' quantities (else the subscription's `quantity`, else 1).
    pub seats: u32,
    /// The first item's price `lookup_key`, else its price id.
    pub price: Option<String>,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
}

/// Parses a Stripe webhook body (`{"id", "object": "event", "type", "created", "data": {"object"}}`).
///
/// Unknown event types parse to [`BillingChange::Ignored`]; a known type whose object lacks a
/// field Parley needs is an error.
pub fn parse_stripe_event(body: &[u8]) -> Result<StripeEvent, EventError> {
    let root = parse_object(body)?;
    let envelope = Fields::root(&root);
    let id = envelope.req_str("id")?;
    let event_type = envelope.req_str("type")?;
    let created = envelope.req_i64("created")?;
    let object = envelope.req_obj("data")?.req_obj("object")?;

    let change = match event_type.as_str() {
        "checkout.session.completed" => BillingChange::CheckoutCompleted {
            customer_id: object.opt_expandable_id("customer")?,
            subscription_id: object.opt_expandable_id("subscription")?,
            org_id: match object.opt_nonempty_str("client_reference_id")? {
                Some(org) => Some(org),
                None => metadata_org_id(&object)?,
            },
        },
        "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted" => {
            BillingChange::Subscription(parse_subscription(&object)?)
        }
        "invoice.paid" => BillingChange::InvoicePaid {
            customer_id: object.req_expandable_id("customer")?,
            subscription_id: invoice_subscription(&object)?,
        },
        "invoice.payment_failed" => BillingChange::InvoicePaymentFailed {
            customer_id: object.req_expandable_id("customer")?,
            subscription_id: invoice_subscription(&object)?,
        },
        _ => BillingChange::Ignored,
    };
    Ok(StripeEvent { id, event_type, created, change })
}

fn metadata_org_id(object: &Fields<'_>) -> Result<Option<String>, EventError> {
    match object.opt_obj("metadata")? {
        Some(metadata) => metadata.opt_nonempty_str("org_id"),
        None => Ok(None),
    }
}

fn parse_subscription(object: &Fields<'_>) -> Result<SubscriptionSnapshot, EventError> {
    let status_text = object.req_str("status")?;
    let status = SubscriptionStatus::parse(&status_text).ok_or_else(|| {
        EventError::invalid("data.object.status", format!("unknown subscription status `{status_text}`"))
    })?;

    let items = match object.opt_obj("items")? {
        Some(list) => list
            .opt_array("data")?
            .into_iter()
            .map(|(path, value)| Fields::object_at(value, path))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let first = items.first();

    let mut item_quantity: Option<u64> = None;
    for item in &items {
        // Metered items carry no quantity; they add nothing to the seat count.
        if let Some(q) = item.opt_u64("quantity")? {
            item_quantity = Some(item_quantity.unwrap_or(0).saturating_add(q));
        }
    }
    let seats = match item_quantity {
        Some(q) => q,
        None => object.opt_u64("quantity")?.unwrap_or(1),
    };
    let seats = u32::try_from(seats).map_err(|_| EventError::invalid("data.object.items", "seat count is too large"))?;

    let price = match first.map(|item| item.opt_obj("price")).transpose()?.flatten() {
        Some(price) => match price.opt_nonempty_str("lookup_key")? {
            Some(key) => Some(key),
            None => price.opt_nonempty_str("id")?,
        },
        None => None,
    };

    // API versions from 2025-03-31 ("basil") moved the billing period from the subscription
    // onto each item; read the subscription first and fall back to the first item.
    let period = |key: &str| -> Result<Option<i64>, EventError> {
        match object.opt_i64(key)? {
            Some(t) => Ok(Some(t)),
            None => first.map(|item| item.opt_i64(key)).transpose().map(Option::flatten),
        }
    };

    Ok(SubscriptionSnapshot {
        id: object.req_str("id")?,
        customer_id: object.req_expandable_id("customer")?,
        org_id: metadata_org_id(object)?,
        status,
        seats,
        price,
        current_period_start: period("current_period_start")?,
        current_period_end: period("current_period_end")?,
        cancel_at_period_end: object.opt_bool("cancel_at_period_end")?.unwrap_or(false),
    })
}

/// The invoice's subscription: top-level `subscription` on older API versions, or
/// `parent.subscription_details.subscription` on newer ones. Absent for one-off invoices.
fn invoice_subscription(invoice: &Fields<'_>) -> Result<Option<String>, EventError> {
    if let Some(id) = invoice.opt_expandable_id("subscription")? {
        return Ok(Some(id));
    }
    let Some(parent) = invoice.opt_obj("parent")? else { return Ok(None) };
    match parent.opt_obj("subscription_details")? {
        Some(details) => details.opt_expandable_id("subscription"),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn event(event_type: &str, object: Value) -> Value {
        json!({"id": "evt_1", "object": "event", "type": event_type, "created": 1_700_000_000, "data": {"object": object}})
    }

    fn parse(v: Value) -> Result<StripeEvent, EventError> {
        parse_stripe_event(v.to_string().as_bytes())
    }

    fn subscription() -> Value {
        json!({
            "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
            "metadata": {"org_id": "org_1"}, "cancel_at_period_end": false,
            "current_period_start": 1000, "current_period_end": 2000,
            "items": {"object": "list", "data": [
                {"id": "si_1", "quantity": 3, "price": {"id": "price_1", "lookup_key": "team_monthly"}},
                {"id": "si_2", "quantity": 2, "price": {"id": "price_2", "lookup_key": null}}
            ]}
        })
    }

    fn snapshot_of(v: Value) -> SubscriptionSnapshot {
        match parse(event("customer.subscription.updated", v)).unwrap().change {
            BillingChange::Subscription(s) => s,
            other => panic!("expected a subscription, got {other:?}"),
        }
    }

    #[test]
    fn envelope_fields() {
        let e = parse(event("customer.subscription.created", subscription())).unwrap();
        assert_eq!((e.id.as_str(), e.event_type.as_str(), e.created), ("evt_1", "customer.subscription.created", 1_700_000_000));
    }

    #[test]
    fn subscription_snapshot() {
        assert_eq!(
            snapshot_of(subscription()),
            SubscriptionSnapshot {
                id: "sub_1".into(),
                customer_id: "cus_1".into(),
                org_id: Some("org_1".into()),
                status: SubscriptionStatus::Active,
                seats: 5,
                price: Some("team_monthly".into()),
                current_period_start: Some(1000),
                current_period_end: Some(2000),
                cancel_at_period_end: false,
            }
        );
    }

    #[test]
    fn newer_api_periods_on_items_and_expanded_customer() {
        let mut sub = subscription();
        let obj = sub.as_object_mut().unwrap();
        obj.remove("current_period_start");
        obj.remove("current_period_end");
        obj.insert("customer".into(), json!({"id": "cus_9", "object": "customer"}));
        obj.insert("cancel_at_period_end".into(), json!(true));
        sub["items"]["data"][0]["current_period_start"] = json!(3000);
        sub["items"]["data"][0]["current_period_end"] = json!(4000);
        sub["items"]["data"][0]["price"]["lookup_key"] = Value::Null;
        let s = snapshot_of(sub);
        assert_eq!((s.current_period_start, s.current_period_end), (Some(3000), Some(4000)));
        assert_eq!(s.customer_id, "cus_9");
        assert_eq!(s.price.as_deref(), Some("price_1"));
        assert!(s.cancel_at_period_end);
    }

    #[test]
    fn seats_fall_back_to_top_level_quantity_then_one() {
        let mut sub = subscription();
        sub["items"]["data"] = json!([{"id": "si_1", "price": {"id": "price_1"}}]);
        sub["quantity"] = json!(7);
        assert_eq!(snapshot_of(sub.clone()).seats, 7);
        sub.as_object_mut().unwrap().remove("quantity");
        assert_eq!(snapshot_of(sub.clone()).seats, 1);
        sub.as_object_mut().unwrap().remove("items");
        let s = snapshot_of(sub);
        assert_eq!((s.seats, s.price), (1, None));
    }

    #[test]
    fn deleted_subscription_is_a_snapshot() {
        let mut sub = subscription();
        sub["status"] = json!("canceled");
        let e = parse(event("customer.subscription.deleted", sub)).unwrap();
        assert!(matches!(e.change, BillingChange::Subscription(ref s) if s.status == SubscriptionStatus::Canceled));
    }

    #[test]
    fn unknown_status_is_invalid() {
        let mut sub = subscription();
        sub["status"] = json!("dormant");
        let err = parse(event("customer.subscription.updated", sub)).unwrap_err();
        assert!(matches!(err, EventError::InvalidField { ref field, .. } if field == "data.object.status"));
    }

    #[test]
    fn subscription_without_customer_is_missing() {
        let mut sub = subscription();
        sub.as_object_mut().unwrap().remove("customer");
        let err = parse(event("customer.subscription.updated", sub)).unwrap_err();
        assert_eq!(err, EventError::MissingField("data.object.customer".into()));
    }

    #[test]
    fn checkout_org_from_reference_then_metadata() {
        let session = json!({"id": "cs_1", "customer": "cus_1", "subscription": "sub_1",
                             "client_reference_id": "org_ref", "metadata": {"org_id": "org_meta"}});
        let e = parse(event("checkout.session.completed", session.clone())).unwrap();
        assert_eq!(
            e.change,
            BillingChange::CheckoutCompleted {
                customer_id: Some("cus_1".into()),
                subscription_id: Some("sub_1".into()),
                org_id: Some("org_ref".into())
            }
        );
        let mut session = session;
        session["client_reference_id"] = Value::Null;
        session["customer"] = Value::Null;
        let e = parse(event("checkout.session.completed", session)).unwrap();
        assert_eq!(
            e.change,
            BillingChange::CheckoutCompleted { customer_id: None, subscription_id: Some("sub_1".into()), org_id: Some("org_meta".into()) }
        );
    }

    #[test]
    fn invoice_subscription_in_either_place() {
        let old = json!({"id": "in_1", "customer": "cus_1", "subscription": "sub_1"});
        let new = json!({"id": "in_1", "customer": "cus_1", "parent": {"type": "subscription_details",
                         "subscription_details": {"subscription": "sub_1"}}});
        for invoice in [old, new] {
            let e = parse(event("invoice.paid", invoice.clone())).unwrap();
            assert_eq!(e.change, BillingChange::InvoicePaid { customer_id: "cus_1".into(), subscription_id: Some("sub_1".into()) });
            let e = parse(event("invoice.payment_failed", invoice)).unwrap();
            assert_eq!(
                e.change,
                BillingChange::InvoicePaymentFailed { customer_id: "cus_1".into(), subscription_id: Some("sub_1".into()) }
            );
        }
        let one_off = json!({"id": "in_2", "customer": "cus_1", "subscription": null, "parent": null});
        let e = parse(event("invoice.paid", one_off)).unwrap();
        assert_eq!(e.change, BillingChange::InvoicePaid { customer_id: "cus_1".into(), subscription_id: None });
    }

    #[test]
    fn subscription_change_mapping() {
        let e = parse(event("invoice.payment_failed", json!({"customer": "cus_1"}))).unwrap();
        assert_eq!(e.change.subscription_change(), Some(SubscriptionChange::InvoicePaymentFailed));
        assert_eq!(BillingChange::Ignored.subscription_change(), None);
    }

    #[test]
    fn unknown_type_ignored_but_envelope_checked() {
        let e = parse(event("customer.created", json!({"id": "cus_1"}))).unwrap();
        assert_eq!(e.change, BillingChange::Ignored);
        let err = parse(json!({"id": "evt_1", "type": "customer.created", "created": 1, "data": {}})).unwrap_err();
        assert_eq!(err, EventError::MissingField("data.object".into()));
        let err = parse(json!({"type": "customer.created", "created": 1, "data": {"object": {}}})).unwrap_err();
        assert_eq!(err, EventError::MissingField("id".into()));
        assert!(matches!(parse_stripe_event(b"\"evt\""), Err(EventError::MalformedJson(_))));
    }
}
