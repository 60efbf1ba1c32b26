//! The steps of an agent turn that uses tools, and what the turn does next.
//!
//! Each tool call the model makes is stored as a step before anything runs. A step is marked
//! `running` (and committed) before its tool is called, so a step found `running` when the
//! object wakes was interrupted mid-call: it is never run again (it may or may not have had
//! its effect), and the model is told so. That is how no tool ever runs twice.

use serde::{Deserialize, Serialize};

/// Most model calls in one turn before it stops.
pub const MAX_MODEL_STEPS: u32 = 8;

/// Where a tool step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Stored, not yet looked at.
    Pending,
    /// Waiting for a person to approve or deny it.
    AwaitingApproval,
    /// Approved; runs next.
    Approved,
    /// Its tool is being called (committed before the call).
    Running,
    /// Finished with a result.
    Done,
    /// The tool failed, or was interrupted mid-call and not retried.
    Failed,
    /// Its arguments did not validate; the model was told why.
    Invalid,
    /// A person denied it.
    Denied,
    /// Nobody decided before the approval expired.
    Expired,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::AwaitingApproval => "awaiting_approval",
            StepState::Approved => "approved",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::Invalid => "invalid",
            StepState::Denied => "denied",
            StepState::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<StepState> {
        [
            StepState::Pending,
            StepState::AwaitingApproval,
            StepState::Approved,
            StepState::Running,
            StepState::Done,
            StepState::Failed,
            StepState::Invalid,
            StepState::Denied,
            StepState::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// Whether the step has its result.
    pub fn is_settled(self) -> bool {
        matches!(self, StepState::Done | StepState::Failed | StepState::Invalid | StepState::Denied | StepState::Expired)
    }
}

/// A request for a person to approve a tool call, as stored and as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub id: String,
    pub turn_id: String,
    pub step: i64,
    pub tool: String,
    /// What exactly would be sent (method, URL, headers and body, secrets masked), as JSON text.
    pub request: String,
    /// `pending`, `approved`, `denied` or `expired`.
    pub state: String,
    /// Who asked: the agent, on behalf of the turn.
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
}

/// A person's decision on an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub approve: bool,
    pub note: Option<String>,
}

impl Decision {
    /// Validates `{ "decision": "approve" | "deny", "note"?: string (at most 1000 characters) }`.
    pub fn from_body(body: &[u8]) -> Result<Decision, crate::ApiError> {
        use crate::json_fields::{optional_str, parse_object, required_str};
        let obj = parse_object(body)?;
        let approve = match required_str(&obj, "decision")? {
            "approve" => true,
            "deny" => false,
            _ => return Err(crate::ApiError::InvalidField { field: "decision", reason: "must be `approve` or `deny`".into() }),
        };
        let note = optional_str(&obj, "note")?.map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            return Err(crate::ApiError::InvalidField { field: "note", reason: "must be at most 1000 characters".into() });
        }
        Ok(Decision { approve, note })
    }
}

/// What the turn runner does next, given the turn's steps in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAction {
    /// A step was left running by an instance that died: record that it was interrupted.
    MarkInterrupted(u32),
    /// Look at (validate, maybe run, maybe park) this pending step.
    Handle(u32),
    /// Run this approved step.
    RunApproved(u32),
    /// A step waits for a person: the turn parks.
    Park,
    /// Every step has its result: ask the model again.
    AskModel,
    /// The turn used all its model calls.
    StepLimit,
}

/// The next action for a turn whose steps are `(step, state)` in order and which has made
/// `model_steps` model calls that asked for tools.
pub fn next_action(steps: &[(u32, StepState)], model_steps: u32) -> NextAction {
    if let Some((n, _)) = steps.iter().find(|(_, s)| *s == StepState::Running) {
        return NextAction::MarkInterrupted(*n);
    }
    if let Some((n, _)) = steps.iter().find(|(_, s)| *s == StepState::Approved) {
        return NextAction::RunApproved(*n);
    }
    if let Some((n, _)) = steps.iter().find(|(_, s)| *s == StepState::Pending) {
        return NextAction::Handle(*n);
    }
    if steps.iter().any(|(_, s)| *s == StepState::AwaitingApproval) {
        return NextAction::Park;
    }
    if model_steps >= MAX_MODEL_STEPS {
        NextAction::StepLimit
    } else {
        NextAction::AskModel
    }
}

/// The result the model reads for a step that did not run.
pub fn unrun_result(state: StepState, who: Option<&str>, note: Option<&str>) -> String {
    match state {
        StepState::Denied => format!(
            "DENIED: {} denied this call{}. Do not retry it; tell the user it was not done.",
            who.unwrap_or("a person"),
            note.filter(|n| !n.is_empty()).map(|n| format!(" because: {n}")).unwrap_or_default()
        ),
        StepState::Expired => "EXPIRED: nobody approved this call in time, so it was not made. Do not retry it unasked.".to_owned(),
        _ => "INTERRUPTED: the chat restarted while this call was being made. It was not retried and may or may not have taken effect.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepState::*;

    #[test]
    fn interrupted_steps_first_then_approved_then_pending_then_parking() {
        assert_eq!(next_action(&[(0, Done), (1, Running), (2, Pending)], 1), NextAction::MarkInterrupted(1));
        assert_eq!(next_action(&[(0, Approved), (1, Pending)], 1), NextAction::RunApproved(0));
        assert_eq!(next_action(&[(0, Done), (1, Pending)], 1), NextAction::Handle(1));
        assert_eq!(next_action(&[(0, AwaitingApproval), (1, Done)], 1), NextAction::Park);
        assert_eq!(next_action(&[(0, Done), (1, Denied), (2, Expired), (3, Invalid), (4, Failed)], 2), NextAction::AskModel);
        assert_eq!(next_action(&[], 0), NextAction::AskModel);
        assert_eq!(next_action(&[(0, Done)], MAX_MODEL_STEPS), NextAction::StepLimit);
    }

    #[test]
    fn a_pending_step_is_handled_before_the_turn_parks_on_another() {
        // Several calls in one model step: all are looked at, so every approval is requested at once.
        assert_eq!(next_action(&[(0, AwaitingApproval), (1, Pending)], 1), NextAction::Handle(1));
    }

    #[test]
    fn decisions_are_validated() {
        assert_eq!(Decision::from_body(br#"{"decision":"approve"}"#).unwrap(), Decision { approve: true, note: None });
        assert_eq!(Decision::from_body(br#"{"decision":"deny","note":" wrong lead "}"#).unwrap(), Decision { approve: false, note: Some("wrong lead".into()) });
        assert_eq!(Decision::from_body(br#"{"decision":"maybe"}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(Decision::from_body(br#"{}"#).unwrap_err().code(), "missing_field");
        assert_eq!(Decision::from_body(b"[").unwrap_err().code(), "malformed_json");
    }

    #[test]
    fn states_round_trip_and_results_say_who_and_why() {
        for s in [Pending, AwaitingApproval, Approved, Running, Done, Failed, Invalid, Denied, Expired] {
            assert_eq!(StepState::parse(s.as_str()), Some(s));
        }
        assert!(unrun_result(Denied, Some("ann"), Some("not today")).contains("ann denied this call because: not today"));
        assert!(unrun_result(Expired, None, None).starts_with("EXPIRED"));
        assert!(unrun_result(Failed, None, None).starts_with("INTERRUPTED"));
    }
}
