//! Property tests: out-of-order webhook delivery ends where in-order delivery would.

use billing::{
    apply_subscription_event, next_mirror_state, MirrorState, StoredSubscription, SubscriptionChange, SubscriptionSnapshot,
    SubscriptionStatus,
};
use proptest::prelude::*;

// ---- Clerk mirror -------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum MirrorEvent {
    /// An upsert whose payload is identified by its version (redeliveries carry the same one).
    Upsert(i64),
    Delete(i64),
}

/// The mirror row after delivering `events` in order: ordering state plus the payload written.
fn mirror_deliver(events: &[MirrorEvent]) -> Option<(MirrorState, Option<i64>)> {
    let mut row: Option<(MirrorState, Option<i64>)> = None;
    for event in events {
        let (version, is_delete) = match *event {
            MirrorEvent::Upsert(v) => (v, false),
            MirrorEvent::Delete(v) => (v, true),
        };
        if let Some(next) = next_mirror_state(row.as_ref().map(|(s, _)| s), version, is_delete) {
            let payload = if is_delete { None } else { Some(version) };
            row = Some((next, payload));
        }
    }
    row
}

fn mirror_histories() -> impl Strategy<Value = (Vec<MirrorEvent>, Vec<MirrorEvent>)> {
    (prop::collection::vec(-50i64..50, 1..8), prop::option::of(-60i64..60)).prop_flat_map(|(upserts, delete)| {
        let mut events: Vec<MirrorEvent> = upserts.into_iter().map(MirrorEvent::Upsert).collect();
        events.extend(delete.map(MirrorEvent::Delete));
        let mut by_version = events.clone();
        by_version.sort_by_key(|e| match e {
            MirrorEvent::Upsert(v) | MirrorEvent::Delete(v) => *v,
        });
        (Just(by_version), Just(events).prop_shuffle())
    })
}

proptest! {
    #[test]
    fn mirror_order_does_not_matter((by_version, shuffled) in mirror_histories()) {
        let expected = mirror_deliver(&by_version).unwrap();
        let got = mirror_deliver(&shuffled).unwrap();
        let newest_upsert = by_version.iter().filter_map(|e| match e { MirrorEvent::Upsert(v) => Some(*v), _ => None }).max();
        let has_delete = by_version.iter().any(|e| matches!(e, MirrorEvent::Delete(_)));
        prop_assert_eq!(got.0.deleted, has_delete);
        prop_assert_eq!(expected.0.deleted, has_delete);
        if !has_delete {
            prop_assert_eq!(got, expected);
            prop_assert_eq!(got.1, newest_upsert);
        }
    }
}

// ---- Stripe subscription ------------------------------------------------------------------

const NON_TERMINAL: [SubscriptionStatus; 6] = [
    SubscriptionStatus::Incomplete,
    SubscriptionStatus::Trialing,
    SubscriptionStatus::Active,
    SubscriptionStatus::PastDue,
    SubscriptionStatus::Unpaid,
    SubscriptionStatus::Paused,
];
const TERMINAL: [SubscriptionStatus; 2] = [SubscriptionStatus::Canceled, SubscriptionStatus::IncompleteExpired];

fn snapshot(status: SubscriptionStatus, seats: u32) -> SubscriptionChange {
    SubscriptionChange::Snapshot(SubscriptionSnapshot {
        id: "sub_1".into(),
        customer_id: "cus_1".into(),
        org_id: None,
        status,
        seats,
        price: Some("team".into()),
        current_period_start: Some(0),
        current_period_end: Some(1_000),
        cancel_at_period_end: false,
    })
}

fn any_status() -> impl Strategy<Value = SubscriptionStatus> {
    prop::sample::select(SubscriptionStatus::ALL.to_vec())
}

fn any_change() -> impl Strategy<Value = SubscriptionChange> {
    prop_oneof![
        (any_status(), 0u32..10).prop_map(|(s, n)| snapshot(s, n)),
        Just(SubscriptionChange::InvoicePaid),
        Just(SubscriptionChange::InvoicePaymentFailed),
    ]
}

fn any_stored() -> impl Strategy<Value = StoredSubscription> {
    (any_status(), 0u32..10, 0i64..100, prop::option::of(0i64..100)).prop_map(|(status, seats, source_created, since)| {
        StoredSubscription {
            status,
            seats,
            price: None,
            period_start: None,
            period_end: None,
            source_created,
            past_due_since: (status == SubscriptionStatus::PastDue).then_some(since.unwrap_or(source_created)),
        }
    })
}

type Timed = (i64, SubscriptionChange);

/// A plausible history: non-terminal snapshots and invoice events at any time, then optionally
/// one terminal status whose snapshots are at least as new as every other snapshot (Stripe
/// sends nothing non-terminal for a subscription after it ends; invoices may still follow).
fn subscription_histories() -> impl Strategy<Value = (Vec<Timed>, Vec<Timed>)> {
    let early = prop_oneof![
        4 => (0i64..20, prop::sample::select(NON_TERMINAL.to_vec()), 1u32..5).prop_map(|(t, s, n)| (t, snapshot(s, n))),
        1 => (0i64..30, Just(SubscriptionChange::InvoicePaid)).prop_map(|(t, c)| (t, c)),
        1 => (0i64..30, Just(SubscriptionChange::InvoicePaymentFailed)).prop_map(|(t, c)| (t, c)),
    ];
    let terminal = prop::option::of((prop::sample::select(TERMINAL.to_vec()), prop::collection::vec((0i64..5, 1u32..5), 1..3)));
    (prop::collection::vec(early, 0..10), terminal).prop_flat_map(|(mut events, terminal)| {
        let newest_snapshot =
            events.iter().filter(|(_, c)| matches!(c, SubscriptionChange::Snapshot(_))).map(|(t, _)| *t).max().unwrap_or(0);
        if let Some((status, deliveries)) = terminal {
            for (offset, seats) in deliveries {
                events.push((newest_snapshot + offset, snapshot(status, seats)));
            }
        }
        let mut in_order = events.clone();
        in_order.sort_by_key(|(t, _)| *t); // stable: same-second events keep their emitted order
        (Just(in_order), Just(events).prop_shuffle())
    })
}

/// Non-terminal snapshots at distinct seconds, so "newest" is unambiguous.
fn distinct_snapshot_histories() -> impl Strategy<Value = (Vec<Timed>, Vec<Timed>)> {
    prop::collection::vec((prop::sample::select(NON_TERMINAL.to_vec()), 1u32..9), 1..8).prop_flat_map(|snapshots| {
        let in_order: Vec<Timed> = snapshots.into_iter().enumerate().map(|(i, (s, n))| (i as i64, snapshot(s, n))).collect();
        (Just(in_order.clone()), Just(in_order).prop_shuffle())
    })
}

fn deliver(events: &[Timed]) -> Option<StoredSubscription> {
    let mut stored = None;
    for (created, change) in events {
        if let Some(next) = apply_subscription_event(stored.as_ref(), *created, change) {
            stored = Some(next);
        }
    }
    stored
}

fn newest_snapshot(events: &[Timed]) -> Option<i64> {
    events.iter().filter(|(_, c)| matches!(c, SubscriptionChange::Snapshot(_))).map(|(t, _)| *t).max()
}

proptest! {
    #[test]
    fn any_delivery_order_keeps_terminal_and_newest_source((in_order, shuffled) in subscription_histories()) {
        let expected = deliver(&in_order);
        let got = deliver(&shuffled);
        // Neither order ends on anything older than the newest snapshot.
        prop_assert_eq!(got.as_ref().map(|s| s.source_created), newest_snapshot(&in_order));
        prop_assert_eq!(expected.as_ref().map(|s| s.source_created), newest_snapshot(&in_order));
        // A cancellation (or expiry) is where every order ends.
        let terminal = in_order.iter().find_map(|(_, c)| match c {
            SubscriptionChange::Snapshot(s) if s.status.is_terminal() => Some(s.status),
            _ => None,
        });
        if let Some(status) = terminal {
            prop_assert_eq!(expected.as_ref().map(|s| s.status), Some(status));
            prop_assert_eq!(got.as_ref().map(|s| s.status), Some(status));
            prop_assert_eq!(got.and_then(|s| s.past_due_since), None);
        }
    }

    #[test]
    fn snapshots_alone_end_on_the_newest((in_order, shuffled) in distinct_snapshot_histories()) {
        let got = deliver(&shuffled).unwrap();
        let expected = deliver(&in_order).unwrap();
        prop_assert_eq!((got.status, got.seats, got.source_created), (expected.status, expected.seats, expected.source_created));
        // When a past-due run began is only known from the snapshots seen (a skipped stale one
        // may have ended an earlier run), so only its presence is compared.
        prop_assert_eq!(got.past_due_since.is_some(), expected.past_due_since.is_some());
    }

    #[test]
    fn stale_snapshots_change_nothing(stored in any_stored(), status in any_status(), seats in 0u32..10, age in 1i64..100) {
        let created = stored.source_created - age;
        prop_assert_eq!(apply_subscription_event(Some(&stored), created, &snapshot(status, seats)), None);
    }

    #[test]
    fn terminal_statuses_are_never_left(
        mut stored in any_stored(),
        terminal in prop::sample::select(TERMINAL.to_vec()),
        change in any_change(),
        created in 0i64..200,
    ) {
        stored.status = terminal;
        stored.past_due_since = None;
        if let Some(next) = apply_subscription_event(Some(&stored), created, &change) {
            prop_assert_eq!(next.status, terminal);
        }
    }

    #[test]
    fn past_due_since_is_set_exactly_when_past_due(
        stored in prop::option::of(any_stored()),
        change in any_change(),
        created in 0i64..200,
    ) {
        if let Some(next) = apply_subscription_event(stored.as_ref(), created, &change) {
            prop_assert_eq!(next.past_due_since.is_some(), next.status == SubscriptionStatus::PastDue);
        }
    }
}
