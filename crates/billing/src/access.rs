//! Whether a member may use the agents, given the org's subscription and their seat.

use thiserror::Error;

use crate::status::SubscriptionStatus;
use crate::subscription::StoredSubscription;

/// The org's billing, as access decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingState {
    /// `None` when the org has never subscribed.
    pub status: Option<SubscriptionStatus>,
    pub seats: u32,
    /// When the subscription entered `past_due`, milliseconds since the epoch.
    pub past_due_since_ms: Option<i64>,
}

impl BillingState {
    /// From the stored subscription (whose times are Stripe seconds), or no subscription.
    pub fn from_stored(stored: Option<&StoredSubscription>) -> Self {
        match stored {
            Some(sub) => BillingState {
                status: Some(sub.status),
                seats: sub.seats,
                past_due_since_ms: sub.past_due_since.map(|s| s.saturating_mul(1000)),
            },
            None => BillingState { status: None, seats: 0, past_due_since_ms: None },
        }
    }
}

/// Why a member may not use the agents. Each message says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AccessDenied {
    #[error("You are not a member of this organization. Ask one of its admins to invite you.")]
    NotAMember,
    #[error("This organization has no subscription. An admin can subscribe under Settings → Billing.")]
    NoSubscription,
    #[error("This organization's subscription is {status}. An admin can renew it under Settings → Billing.")]
    SubscriptionInactive { status: SubscriptionStatus },
    #[error("This organization's payment is overdue and the grace period has ended. An admin can update the payment method under Settings → Billing.")]
    PaymentOverdue,
    /// `position` is the member's 0-based rank by join time, so the message shows it 1-based.
    #[error("This organization pays for {seats} seat(s) and you are member number {} by join date. An admin can add seats under Settings → Billing.", .position + 1)]
    SeatLimit { seats: u32, position: u32 },
}

impl AccessDenied {
    /// A stable machine-readable code for API error bodies and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AccessDenied::NotAMember => "not_a_member",
            AccessDenied::NoSubscription => "no_subscription",
            AccessDenied::SubscriptionInactive { .. } => "subscription_inactive",
            AccessDenied::PaymentOverdue => "payment_overdue",
            AccessDenied::SeatLimit { .. } => "seat_limit",
        }
    }

    /// The HTTP status to answer with: 403 when the caller does not belong here at all, 402
    /// (Payment Required) when paying would fix it.
    pub fn status(&self) -> u16 {
        match self {
            AccessDenied::NotAMember => 403,
            AccessDenied::NoSubscription
            | AccessDenied::SubscriptionInactive { .. }
            | AccessDenied::PaymentOverdue
            | AccessDenied::SeatLimit { .. } => 402,
        }
    }
}

/// Whether a member may use the agents now.
///
/// `seat_position` is the member's 0-based rank among the org's active memberships by join
/// time (`None` if they are not a recorded member). Ranking by join time means that when an
/// org drops seats, the newest members lose access first and the founders keep theirs.
///
/// `active` and `trialing` work; `past_due` works until `grace_ms` after it began, so a failed
/// card does not cut a team off mid-task; every other status, or none, is refused.
pub fn agent_access(billing: &BillingState, grace_ms: i64, seat_position: Option<u32>, now_ms: i64) -> Result<(), AccessDenied> {
    let position = seat_position.ok_or(AccessDenied::NotAMember)?;
    match billing.status {
        None => return Err(AccessDenied::NoSubscription),
        Some(SubscriptionStatus::Active | SubscriptionStatus::Trialing) => {}
        Some(SubscriptionStatus::PastDue) => {
            // A past_due record without a start is a bookkeeping gap; failing closed keeps it
            // from granting unlimited grace.
            let since = billing.past_due_since_ms.ok_or(AccessDenied::PaymentOverdue)?;
            if now_ms >= since.saturating_add(grace_ms) {
                return Err(AccessDenied::PaymentOverdue);
            }
        }
        Some(
            status @ (SubscriptionStatus::Canceled
            | SubscriptionStatus::Unpaid
            | SubscriptionStatus::Incomplete
            | SubscriptionStatus::IncompleteExpired
            | SubscriptionStatus::Paused),
        ) => return Err(AccessDenied::SubscriptionInactive { status }),
    }
    if position >= billing.seats {
        return Err(AccessDenied::SeatLimit { seats: billing.seats, position });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::*;

    const GRACE: i64 = 3 * 86_400_000;

    fn billing(status: SubscriptionStatus, seats: u32) -> BillingState {
        BillingState { status: Some(status), seats, past_due_since_ms: None }
    }

    #[test]
    fn active_and_trialing_work_within_seats() {
        for status in [Active, Trialing] {
            assert_eq!(agent_access(&billing(status, 2), GRACE, Some(0), 0), Ok(()));
            assert_eq!(agent_access(&billing(status, 2), GRACE, Some(1), 0), Ok(()));
        }
    }

    #[test]
    fn seat_limit_by_join_rank() {
        let err = agent_access(&billing(Active, 2), GRACE, Some(2), 0).unwrap_err();
        assert_eq!(err, AccessDenied::SeatLimit { seats: 2, position: 2 });
        assert_eq!((err.code(), err.status()), ("seat_limit", 402));
        assert!(err.to_string().contains("member number 3"));
        assert!(err.to_string().contains("add seats"));
        assert!(agent_access(&billing(Active, 0), GRACE, Some(0), 0).is_err());
    }

    #[test]
    fn not_a_member_is_forbidden() {
        let err = agent_access(&billing(Active, 5), GRACE, None, 0).unwrap_err();
        assert_eq!((err.code(), err.status()), ("not_a_member", 403));
    }

    #[test]
    fn past_due_works_during_grace_only() {
        let state = BillingState { status: Some(PastDue), seats: 1, past_due_since_ms: Some(1_000) };
        assert_eq!(agent_access(&state, GRACE, Some(0), 1_000), Ok(()));
        assert_eq!(agent_access(&state, GRACE, Some(0), 1_000 + GRACE - 1), Ok(()));
        let err = agent_access(&state, GRACE, Some(0), 1_000 + GRACE).unwrap_err();
        assert_eq!((err.code(), err.status()), ("payment_overdue", 402));
        let unknown_start = BillingState { past_due_since_ms: None, ..state };
        assert_eq!(agent_access(&unknown_start, GRACE, Some(0), 0), Err(AccessDenied::PaymentOverdue));
    }

    #[test]
    fn other_statuses_and_no_subscription_are_refused() {
        for status in [Canceled, Unpaid, Incomplete, IncompleteExpired, Paused] {
            let err = agent_access(&billing(status, 10), GRACE, Some(0), 0).unwrap_err();
            assert_eq!(err, AccessDenied::SubscriptionInactive { status });
            assert_eq!(err.status(), 402);
            assert!(err.to_string().contains(status.as_str()));
        }
        let none = BillingState::from_stored(None);
        assert_eq!(agent_access(&none, GRACE, Some(0), 0), Err(AccessDenied::NoSubscription));
    }

    #[test]
    fn from_stored_converts_seconds_to_ms() {
        let stored = StoredSubscription {
            status: PastDue,
            seats: 4,
            price: None,
            period_start: None,
            period_end: None,
            source_created: 7,
            past_due_since: Some(7),
        };
        assert_eq!(
            BillingState::from_stored(Some(&stored)),
            BillingState { status: Some(PastDue), seats: 4, past_due_since_ms: Some(7_000) }
        );
    }
}
