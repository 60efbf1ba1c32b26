//! Drafts: messages written by the agent or a person that wait for a human before they go out.
//!
//! Every draft passes the quality gate when it is written. A failing draft is blocked with its
//! violations; otherwise it waits for a person to approve or reject it. Sending an approved
//! draft asks the send policy again at that moment.

use serde::{Deserialize, Serialize};

/// How long a draft may wait for a decision before it expires.
pub const PENDING_TTL_MS: i64 = 7 * 24 * 3_600_000;

/// Where a draft is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    Pending,
    Approved,
    Rejected,
    Sent,
    /// Refused by the quality gate when written, or by the send policy when sent.
    Blocked,
    Expired,
}

/// What happens to a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftEvent {
    Approve,
    Reject,
    /// The policy allowed the send.
    PolicyAllowed,
    /// The policy denied the send for good (deferrals leave the draft approved).
    PolicyDenied,
    Expire,
}

impl DraftState {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Pending => "pending",
            DraftState::Approved => "approved",
            DraftState::Rejected => "rejected",
            DraftState::Sent => "sent",
            DraftState::Blocked => "blocked",
            DraftState::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<DraftState> {
        use DraftState::*;
        [Pending, Approved, Rejected, Sent, Blocked, Expired].into_iter().find(|s| s.as_str() == raw)
    }

    /// The transition table. Rejected, sent, blocked and expired are final.
    pub fn apply(self, event: DraftEvent) -> Option<DraftState> {
        use DraftEvent::*;
        use DraftState::*;
        match (self, event) {
            (Pending, Approve) => Some(Approved),
            (Pending | Approved, Reject) => Some(Rejected),
            (Approved, PolicyAllowed) => Some(Sent),
            (Approved, PolicyDenied) => Some(Blocked),
            (Pending | Approved, Expire) => Some(Expired),
            _ => None,
        }
    }

    /// The state as of `now`: a draft left pending or approved too long has expired.
    pub fn at(self, created_at: i64, now: i64) -> DraftState {
        match self {
            DraftState::Pending | DraftState::Approved if now - created_at >= PENDING_TTL_MS => DraftState::Expired,
            s => s,
        }
    }
}

/// The state a new draft starts in, from the quality gate's verdict.
pub fn initial_state(gate: quality_gate::Verdict) -> DraftState {
    match gate {
        quality_gate::Verdict::Fail => DraftState::Blocked,
        _ => DraftState::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DraftEvent::*;
    use DraftState::*;

    #[test]
    fn the_transition_table() {
        let all = [Pending, Approved, Rejected, Sent, Blocked, Expired];
        let events = [Approve, Reject, PolicyAllowed, PolicyDenied, Expire];
        let allowed = [
            (Pending, Approve, Approved),
            (Pending, Reject, Rejected),
            (Approved, Reject, Rejected),
            (Approved, PolicyAllowed, Sent),
            (Approved, PolicyDenied, Blocked),
            (Pending, Expire, Expired),
            (Approved, Expire, Expired),
        ];
        for s in all {
            for e in events {
                let expected = allowed.iter().find(|(a, b, _)| *a == s && *b == e).map(|t| t.2);
                assert_eq!(s.apply(e), expected, "{s:?} + {e:?}");
            }
            assert_eq!(DraftState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_failing_draft_starts_blocked_and_old_drafts_expire() {
        assert_eq!(initial_state(quality_gate::Verdict::Fail), Blocked);
        assert_eq!(initial_state(quality_gate::Verdict::Warn), Pending);
        assert_eq!(Pending.at(0, PENDING_TTL_MS - 1), Pending);
        assert_eq!(Pending.at(0, PENDING_TTL_MS), Expired);
        assert_eq!(Sent.at(0, PENDING_TTL_MS * 2), Sent);
    }
}
