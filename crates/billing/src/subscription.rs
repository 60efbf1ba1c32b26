//! Ordering Stripe deliveries into one stored subscription. Stripe retries and does not
//! guarantee order, so each event is judged against what is stored, by its `created` second.
//!
//! Subscription snapshots (`customer.subscription.*`) are authoritative: they carry the whole
//! subscription. Invoice events are hints that move the status early (a failed payment should
//! start the grace period even if the matching subscription update is delayed); they never
//! advance [`StoredSubscription::source_created`], so a hint can never make the snapshot it
//! anticipates look stale. That matters most for cancellation: Stripe may fail the final
//! invoice a second after canceling, and that later failure must not block the cancellation.

use serde::{Deserialize, Serialize};

use crate::status::SubscriptionStatus;
use crate::stripe_events::SubscriptionSnapshot;

/// What Parley keeps of a subscription. Times are seconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSubscription {
    pub status: SubscriptionStatus,
    pub seats: u32,
    pub price: Option<String>,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    /// `created` of the snapshot event that last set this record; older snapshots are stale.
    pub source_created: i64,
    /// When the subscription entered `past_due` (the event's `created`); the grace period runs
    /// from here. `None` whenever the status is not `past_due`.
    pub past_due_since: Option<i64>,
}

/// An event that may change a stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionChange {
    Snapshot(SubscriptionSnapshot),
    InvoicePaid,
    InvoicePaymentFailed,
}

/// The record to write after an event created at `event_created` (seconds), or `None` when
/// there is nothing to write: the event is stale, would leave a terminal status, does not
/// apply to the current status, concerns a subscription not yet stored, or changes nothing.
///
/// - A snapshot older than `source_created` never applies. An equal second applies (Stripe
///   emits several events per second and `created` is all there is to order them by), except
///   that nothing leaves a terminal status (`canceled`, `incomplete_expired`), at any time.
/// - `invoice.payment_failed` moves `active`/`trialing` to `past_due`; `invoice.paid` moves
///   `past_due`/`unpaid` back to `active`; both only if not older than the stored snapshot.
/// - `past_due_since` is set on entering `past_due` and cleared on leaving it.
pub fn apply_subscription_event(
    stored: Option<&StoredSubscription>,
    event_created: i64,
    change: &SubscriptionChange,
) -> Option<StoredSubscription> {
    let next = match change {
        SubscriptionChange::Snapshot(snapshot) => apply_snapshot(stored, event_created, snapshot)?,
        SubscriptionChange::InvoicePaid => {
            let current = fresh(stored?, event_created)?;
            match current.status {
                SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid => {
                    StoredSubscription { status: SubscriptionStatus::Active, past_due_since: None, ..current.clone() }
                }
                _ => return None,
            }
        }
        SubscriptionChange::InvoicePaymentFailed => {
            let current = fresh(stored?, event_created)?;
            match current.status {
                SubscriptionStatus::Active | SubscriptionStatus::Trialing => StoredSubscription {
                    status: SubscriptionStatus::PastDue,
                    past_due_since: Some(event_created),
                    ..current.clone()
                },
                _ => return None,
            }
        }
    };
    // Identical records need no write; skipping them keeps repeated deliveries free.
    (stored != Some(&next)).then_some(next)
}

/// The stored record if an event created at `event_created` is not older than it.
fn fresh(stored: &StoredSubscription, event_created: i64) -> Option<&StoredSubscription> {
    (event_created >= stored.source_created).then_some(stored)
}

fn apply_snapshot(
    stored: Option<&StoredSubscription>,
    event_created: i64,
    snapshot: &SubscriptionSnapshot,
) -> Option<StoredSubscription> {
    if let Some(current) = stored {
        fresh(current, event_created)?;
        // Moving between two terminal statuses would be leaving one too.
        if current.status.is_terminal() && snapshot.status != current.status {
            return None;
        }
    }
    let past_due_since = match (snapshot.status, stored) {
        // Still past due: the grace period keeps running from when it started.
        (SubscriptionStatus::PastDue, Some(current)) if current.status == SubscriptionStatus::PastDue => {
            current.past_due_since.or(Some(event_created))
        }
        (SubscriptionStatus::PastDue, _) => Some(event_created),
        _ => None,
    };
    Some(StoredSubscription {
        status: snapshot.status,
        seats: snapshot.seats,
        price: snapshot.price.clone(),
        period_start: snapshot.current_period_start,
        period_end: snapshot.current_period_end,
        source_created: event_created,
        past_due_since,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::*;

    fn snap(status: SubscriptionStatus, seats: u32) -> SubscriptionChange {
        SubscriptionChange::Snapshot(SubscriptionSnapshot {
            id: "sub_1".into(),
            customer_id: "cus_1".into(),
            org_id: Some("org_1".into()),
            status,
            seats,
            price: Some("team".into()),
            current_period_start: Some(0),
            current_period_end: Some(100),
            cancel_at_period_end: false,
        })
    }

    fn stored(status: SubscriptionStatus, source_created: i64) -> StoredSubscription {
        StoredSubscription {
            status,
            seats: 1,
            price: Some("team".into()),
            period_start: Some(0),
            period_end: Some(100),
            source_created,
            past_due_since: (status == PastDue).then_some(source_created),
        }
    }

    #[test]
    fn first_snapshot_is_written() {
        let s = apply_subscription_event(None, 10, &snap(Active, 3)).unwrap();
        assert_eq!((s.status, s.seats, s.source_created, s.past_due_since), (Active, 3, 10, None));
        let s = apply_subscription_event(None, 10, &snap(PastDue, 3)).unwrap();
        assert_eq!(s.past_due_since, Some(10));
    }

    #[test]
    fn stale_snapshots_never_apply_and_ties_do() {
        let current = stored(Active, 10);
        assert_eq!(apply_subscription_event(Some(&current), 9, &snap(Trialing, 4)), None);
        let s = apply_subscription_event(Some(&current), 10, &snap(Active, 4)).unwrap();
        assert_eq!(s.seats, 4);
    }

    #[test]
    fn identical_snapshot_writes_nothing() {
        let current = apply_subscription_event(None, 10, &snap(Active, 3)).unwrap();
        assert_eq!(apply_subscription_event(Some(&current), 10, &snap(Active, 3)), None);
    }

    #[test]
    fn terminal_statuses_are_never_left() {
        for terminal in [Canceled, IncompleteExpired] {
            let current = stored(terminal, 10);
            for status in SubscriptionStatus::ALL.into_iter().filter(|s| *s != terminal) {
                assert_eq!(apply_subscription_event(Some(&current), 10, &snap(status, 1)), None);
                assert_eq!(apply_subscription_event(Some(&current), 99, &snap(status, 1)), None);
            }
            // The same terminal status may still refresh the other fields.
            let s = apply_subscription_event(Some(&current), 11, &snap(terminal, 9)).unwrap();
            assert_eq!((s.status, s.seats), (terminal, 9));
            assert_eq!(apply_subscription_event(Some(&current), 11, &SubscriptionChange::InvoicePaid), None);
            assert_eq!(apply_subscription_event(Some(&current), 11, &SubscriptionChange::InvoicePaymentFailed), None);
        }
    }

    #[test]
    fn past_due_since_tracks_entering_and_leaving() {
        let active = stored(Active, 10);
        let due = apply_subscription_event(Some(&active), 20, &snap(PastDue, 1)).unwrap();
        assert_eq!(due.past_due_since, Some(20));
        let still_due = apply_subscription_event(Some(&due), 30, &snap(PastDue, 2)).unwrap();
        assert_eq!(still_due.past_due_since, Some(20));
        let paid = apply_subscription_event(Some(&still_due), 40, &snap(Active, 2)).unwrap();
        assert_eq!(paid.past_due_since, None);
    }

    #[test]
    fn failed_payment_moves_active_to_past_due_without_advancing_source() {
        for status in [Active, Trialing] {
            let s = apply_subscription_event(Some(&stored(status, 10)), 20, &SubscriptionChange::InvoicePaymentFailed).unwrap();
            assert_eq!((s.status, s.past_due_since, s.source_created), (PastDue, Some(20), 10));
        }
        for status in [PastDue, Unpaid, Incomplete, Paused] {
            assert_eq!(apply_subscription_event(Some(&stored(status, 10)), 20, &SubscriptionChange::InvoicePaymentFailed), None);
        }
        assert_eq!(apply_subscription_event(Some(&stored(Active, 10)), 9, &SubscriptionChange::InvoicePaymentFailed), None);
    }

    #[test]
    fn paid_invoice_moves_past_due_and_unpaid_to_active() {
        for status in [PastDue, Unpaid] {
            let s = apply_subscription_event(Some(&stored(status, 10)), 20, &SubscriptionChange::InvoicePaid).unwrap();
            assert_eq!((s.status, s.past_due_since), (Active, None));
        }
        assert_eq!(apply_subscription_event(Some(&stored(Active, 10)), 20, &SubscriptionChange::InvoicePaid), None);
        assert_eq!(apply_subscription_event(Some(&stored(PastDue, 10)), 9, &SubscriptionChange::InvoicePaid), None);
    }

    #[test]
    fn invoices_without_a_stored_subscription_write_nothing() {
        assert_eq!(apply_subscription_event(None, 10, &SubscriptionChange::InvoicePaid), None);
        assert_eq!(apply_subscription_event(None, 10, &SubscriptionChange::InvoicePaymentFailed), None);
    }

    #[test]
    fn late_cancellation_wins_over_a_later_failed_invoice() {
        // Canceled at 100, final invoice failed at 101, delivered in the opposite order.
        let current = stored(Active, 50);
        let due = apply_subscription_event(Some(&current), 101, &SubscriptionChange::InvoicePaymentFailed).unwrap();
        let canceled = apply_subscription_event(Some(&due), 100, &snap(Canceled, 1)).unwrap();
        assert_eq!((canceled.status, canceled.past_due_since), (Canceled, None));
    }
}
