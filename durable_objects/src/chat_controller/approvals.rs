//! Approvals: a person approves or denies a parked tool call. The decision, the step's new
//! state and the turn's return to the queue are one transaction; the alarm then continues the
//! turn (running an approved call, or telling the model who denied it and why).

use super::{sockets, steps, store, ChatController};
use domain::events::ChatEvent;
use domain::schedule::RUN_TURNS;
use domain::tool_steps::{unrun_result, Decision, StepState};
use domain::turn::{TurnEvent, TurnState};
use domain::ApiError;
use runtime_support::responses::{error, json};
use runtime_support::transaction::transaction;
use worker::*;

/// Queues a parked turn to continue once none of its steps waits for a person.
pub(super) fn resume_if_decided(sql: &SqlStorage, turn_id: &str, now: i64) -> Result<()> {
    let waiting = steps::steps_of(sql, turn_id)?.iter().any(|s| s.state() == StepState::AwaitingApproval);
    let Some(turn) = store::turn(sql, turn_id)? else { return Ok(()) };
    if waiting || turn.state() != TurnState::AwaitingApproval {
        return Ok(());
    }
    if let Ok(state) = turn.state().apply(TurnEvent::Resume) {
        // Attempts count interruptions since the turn last parked.
        store::update_turn(sql, turn_id, store::TurnUpdate { state, attempts: 0, error: None, model: None, tokens: (turn.tokens_in, turn.tokens_out) }, now)?;
        store::schedule_set(sql, RUN_TURNS, now)?;
    }
    Ok(())
}

impl ChatController {
    /// `GET /approvals`: pending first.
    pub(super) fn list_approvals(&self) -> Result<Response> {
        json(200, &serde_json::json!({ "approvals": steps::approvals(&self.state.storage().sql(), 200)? }))
    }

    /// `GET /artifacts`: what the tools returned, newest first.
    pub(super) fn list_artifacts(&self) -> Result<Response> {
        json(200, &serde_json::json!({ "artifacts": steps::artifacts(&self.state.storage().sql(), 100)? }))
    }

    /// `POST /approvals/{id}` with `{ decision, note?, decided_by }` (the orchestrator adds
    /// `decided_by` from the signed-in approver).
    pub(super) async fn decide(&self, id: &str, mut req: Request) -> Result<Response> {
        let bytes = req.bytes().await?;
        let decision = match Decision::from_body(&bytes) {
            Ok(d) => d,
            Err(e) => return error(&e),
        };
        let by = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v["decided_by"].as_str().map(str::to_owned)).unwrap_or_else(|| "unknown".into());
        let now = Self::now();
        let sql = self.state.storage().sql();
        let id_owned = id.to_owned();
        let outcome = transaction(&self.state.storage(), move || {
            let Some(a) = steps::approval(&sql, &id_owned)? else { return Ok(Err(ApiError::NotFound)) };
            if a.state != "pending" {
                return Ok(Err(ApiError::InvalidTransition(format!("the approval is already {}", a.state))));
            }
            if a.expires_at <= now {
                return Ok(Err(ApiError::InvalidTransition("the approval has expired".into())));
            }
            let (state, step_state) = if decision.approve { ("approved", StepState::Approved) } else { ("denied", StepState::Denied) };
            steps::decide_approval(&sql, &a.id, state, Some(&by), decision.note.as_deref(), now)?;
            let result = (!decision.approve).then(|| unrun_result(StepState::Denied, Some(&by), decision.note.as_deref()));
            let summary = if decision.approve { format!("approved by {by}") } else { format!("denied by {by}") };
            steps::set_step(&sql, &a.turn_id, a.step, step_state, result.as_deref(), Some(&summary), now)?;
            resume_if_decided(&sql, &a.turn_id, now)?;
            Ok(Ok(a.turn_id))
        })?;
        let turn_id = match outcome {
            Ok(t) => t,
            Err(e) => return error(&e),
        };
        let sql = self.state.storage().sql();
        let view = steps::approval(&sql, id)?;
        if let Some(v) = &view {
            sockets::broadcast(&self.state, &ChatEvent::Approval { approval: v.clone() });
        }
        self.broadcast_turn(&turn_id)?;
        self.state.storage().set_alarm(super::at(now + 1)).await?;
        json(200, &view)
    }
}
