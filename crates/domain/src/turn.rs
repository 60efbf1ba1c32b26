//! Agent turns and their explicit state machine.
//!
//! A turn is queued when a user message arrives, runs when it reaches the head of the chat's
//! queue (one at a time per chat), and ends done or failed. Every state change goes through
//! [`TurnState::apply`], so an impossible transition is an error rather than a silent write.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where a turn is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnState {
    Queued,
    Running,
    /// Parked on a tool call a person must approve or deny; new messages are still stored.
    AwaitingApproval,
    Done,
    Failed,
}

/// What happened to a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEvent {
    /// The turn reached the head of the queue and the agent was called.
    Start,
    /// The agent produced its final message, which was stored.
    Finish,
    /// The agent or the provider reported an error.
    Fail,
    /// The object was evicted or restarted while the turn ran, and the turn has no attempts
    /// left; it fails.
    Interrupt,
    /// The object was evicted or restarted while the turn ran; it goes back to the queue and
    /// continues from its stored steps (a tool that was running is never run again).
    Requeue,
    /// The model asked for a tool call that needs a person's approval: the turn parks.
    Park,
    /// Every pending approval of the turn was decided (or expired): it queues to continue.
    Resume,
}

/// How many times a turn may be started before an interruption fails it.
pub const MAX_ATTEMPTS: i64 = 2;

/// What to do with a turn found `Running` when the object wakes without a runner for it.
pub fn recover_interrupted(attempts: i64) -> TurnEvent {
    if attempts < MAX_ATTEMPTS {
        TurnEvent::Requeue
    } else {
        TurnEvent::Interrupt
    }
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("turn cannot {event:?} while {from:?}")]
pub struct InvalidTransition {
    pub from: TurnState,
    pub event: TurnEvent,
}

impl TurnState {
    /// The transition table. Terminal states accept nothing.
    pub fn apply(self, event: TurnEvent) -> Result<TurnState, InvalidTransition> {
        use TurnEvent::*;
        use TurnState::*;
        match (self, event) {
            (Queued, Start) => Ok(Running),
            (Running, Finish) => Ok(Done),
            (Running, Fail) | (Running, Interrupt) | (Queued, Fail) | (AwaitingApproval, Fail) => Ok(Failed),
            (Running, Requeue) => Ok(Queued),
            (Running, Park) => Ok(AwaitingApproval),
            (AwaitingApproval, Resume) => Ok(Queued),
            (from, event) => Err(InvalidTransition { from, event }),
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, TurnState::Done | TurnState::Failed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TurnState::Queued => "queued",
            TurnState::Running => "running",
            TurnState::AwaitingApproval => "awaiting_approval",
            TurnState::Done => "done",
            TurnState::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<TurnState> {
        match raw {
            "queued" => Some(TurnState::Queued),
            "running" => Some(TurnState::Running),
            "awaiting_approval" => Some(TurnState::AwaitingApproval),
            "done" => Some(TurnState::Done),
            "failed" => Some(TurnState::Failed),
            _ => None,
        }
    }
}

/// The id of the turn a user message starts: derived from the message's sequence number, so
/// it is unique within the chat and needs no extra randomness.
pub fn turn_id_for(seq: i64) -> String {
    format!("turn_{seq}")
}

/// The trigger sequence number encoded in a turn id.
pub fn trigger_of(turn_id: &str) -> Option<i64> {
    turn_id.strip_prefix("turn_")?.parse().ok()
}

/// A turn as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnView {
    pub id: String,
    pub state: TurnState,
    /// The sequence number of the user message that started the turn.
    pub trigger_seq: i64,
    pub error: Option<TurnError>,
    pub model: Option<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// The org's budget tier when the turn ran (`GREEN`, `YELLOW`, `RED`).
    #[serde(default)]
    pub tier: Option<String>,
    /// What the turn's model calls cost, in micro-dollars.
    #[serde(default)]
    pub cost_micros: i64,
}

/// Why a turn failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnError {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [TurnState; 5] = [TurnState::Queued, TurnState::Running, TurnState::AwaitingApproval, TurnState::Done, TurnState::Failed];
    const EVENTS: [TurnEvent; 7] =
        [TurnEvent::Start, TurnEvent::Finish, TurnEvent::Fail, TurnEvent::Interrupt, TurnEvent::Requeue, TurnEvent::Park, TurnEvent::Resume];

    #[test]
    fn the_full_transition_table() {
        use TurnEvent::*;
        use TurnState::*;
        let allowed = [
            (Queued, Start, Running),
            (Queued, Fail, Failed),
            (Running, Finish, Done),
            (Running, Fail, Failed),
            (Running, Interrupt, Failed),
            (Running, Requeue, Queued),
            (Running, Park, AwaitingApproval),
            (AwaitingApproval, Resume, Queued),
            (AwaitingApproval, Fail, Failed),
        ];
        for from in STATES {
            for event in EVENTS {
                let expected = allowed.iter().find(|(f, e, _)| *f == from && *e == event).map(|t| t.2);
                assert_eq!(from.apply(event).ok(), expected, "{from:?} + {event:?}");
            }
        }
    }

    #[test]
    fn an_interrupted_turn_is_retried_once_then_fails() {
        assert_eq!(recover_interrupted(1), TurnEvent::Requeue);
        assert_eq!(recover_interrupted(MAX_ATTEMPTS), TurnEvent::Interrupt);
        assert_eq!(TurnState::Running.apply(recover_interrupted(1)), Ok(TurnState::Queued));
        assert_eq!(TurnState::Running.apply(recover_interrupted(2)), Ok(TurnState::Failed));
    }

    #[test]
    fn turn_ids_name_their_trigger() {
        assert_eq!(trigger_of(&turn_id_for(42)), Some(42));
        assert_eq!(trigger_of("turn_x"), None);
        assert_eq!(trigger_of("other_1"), None);
    }

    #[test]
    fn terminal_states_accept_nothing_and_names_round_trip() {
        for s in STATES {
            if s.is_terminal() {
                assert!(EVENTS.iter().all(|e| s.apply(*e).is_err()));
            }
            assert_eq!(TurnState::parse(s.as_str()), Some(s));
        }
    }
}
