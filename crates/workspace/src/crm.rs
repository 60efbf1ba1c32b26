//! The CRM loops' decisions: what a due follow-up's policy decision means for the lead, the
//! daily review of a lead, and the stage and follow-up update after each conversation event.
//! The workspace runs them from its alarm and records each with an idempotency key.

use crate::followup::{next, stop_reason, Cadence, Event, FollowupState, LeadFacts};
use crate::stage::{Actor, LeadStage};
use policy::{ReasonCode, Verdict};

/// What a due follow-up becomes, from the policy's decision on sending it as the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// Allowed: the follow-up was sent.
    Sent,
    /// Refused only because the org is in DRAFT_ONLY, or sent to strategy review: a person
    /// gets it as a draft.
    Draft,
    /// Deferred: try again at `until`.
    Deferred(i64),
    /// Refused for a reason that may lift (kill switch, suppression, a quota, guardrails,
    /// the unanswered limit): try again one interval later.
    Hold,
    /// Refused for good (opt-out, takeover): no more follow-ups.
    Stop,
}

impl Dispatch {
    pub fn from_decision(verdict: Verdict, reasons: &[ReasonCode]) -> Dispatch {
        match verdict {
            Verdict::Allow => Dispatch::Sent,
            Verdict::Review => Dispatch::Draft,
            Verdict::Defer { until } => Dispatch::Deferred(until),
            Verdict::Deny if reasons.iter().any(|r| matches!(r, ReasonCode::ContactOptedOut | ReasonCode::HumanTakeover)) => Dispatch::Stop,
            Verdict::Deny if reasons == [ReasonCode::DraftOnlyMode] => Dispatch::Draft,
            Verdict::Deny => Dispatch::Hold,
        }
    }

    /// The follow-up event it amounts to.
    pub fn event(self) -> Event {
        match self {
            Dispatch::Sent | Dispatch::Draft => Event::Done,
            Dispatch::Deferred(until) => Event::Deferred { until },
            Dispatch::Hold => Event::Hold,
            Dispatch::Stop => Event::Stop,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dispatch::Sent => "sent",
            Dispatch::Draft => "drafted",
            Dispatch::Deferred(_) => "deferred",
            Dispatch::Hold => "held",
            Dispatch::Stop => "stopped",
        }
    }
}

/// An automatic stage move, if the transition table allows automation to make it.
fn auto_move(from: LeadStage, to: LeadStage) -> Option<LeadStage> {
    from.transition(to, Actor::Automation).ok()
}

/// A conversation event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEvent {
    /// A message was sent to the lead.
    Sent,
    /// The lead replied; `opt_out` when the reply opted them out.
    Replied { opt_out: bool },
}

/// The lead's stage and follow-ups after a conversation event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostTurn {
    /// A stage move (`None`: the stage stays).
    pub stage: Option<LeadStage>,
    pub followup: FollowupState,
}

/// After a send a new lead is `contacted`; after a reply a new or contacted lead is
/// `engaged`, and an opt-out closes an open lead as `lost` (never from negotiation, which is a
/// person's call). The follow-up state moves on with the event. `facts` are the lead's after
/// the event (an opt-out already recorded).
pub fn post_turn(c: &Cadence, facts: &LeadFacts, state: FollowupState, event: TurnEvent, now: i64) -> PostTurn {
    use LeadStage::*;
    let (stage, fu_event) = match event {
        TurnEvent::Sent => (matches!(facts.stage, New).then_some(Contacted), Event::Outbound),
        TurnEvent::Replied { opt_out: true } => (Some(Lost), Event::Reply),
        TurnEvent::Replied { opt_out: false } => (matches!(facts.stage, New | Contacted).then_some(Engaged), Event::Reply),
    };
    let stage = stage.and_then(|to| auto_move(facts.stage, to));
    let after = LeadFacts { stage: stage.unwrap_or(facts.stage), ..*facts };
    PostTurn { stage, followup: next(c, &after, state, fu_event, now) }
}

/// What the daily review reads of a lead's conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conversation {
    /// Messages sent to the lead.
    pub outbound: usize,
    /// Whether the lead ever replied.
    pub replied: bool,
    /// Messages sent since the lead's last reply.
    pub unanswered: usize,
}

/// Unanswered messages after which a lead counts as underperforming even with follow-ups left.
pub const UNDERPERFORMING_UNANSWERED: usize = 4;

/// What a review changes; `None` fields leave things as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub followup: FollowupState,
    /// `Some(true)`: set the strategy-review tag.
    pub tag: Option<bool>,
    pub stage: Option<LeadStage>,
    /// What the review found, for the audit log (empty when nothing changed).
    pub findings: Vec<&'static str>,
}

/// Reviews a lead: a stopped lead's pending follow-up is cancelled; an unanswered lead with
/// steps left but nothing scheduled gets its next step; a lead whose follow-ups are used up, or
/// with many unanswered messages, is tagged for strategy review; and the stage catches up with
/// the conversation (contacted after a message, engaged after a reply).
pub fn review(c: &Cadence, facts: &LeadFacts, state: FollowupState, tagged: bool, conv: &Conversation, now: i64) -> Review {
    use LeadStage::*;
    let mut findings = Vec::new();
    let mut followup = state;
    let stopped = stop_reason(facts).is_some();
    if stopped && state.next_at.is_some() {
        followup.next_at = None;
        findings.push("followup_cancelled");
    }
    let steps_left = state.step < u32::from(c.config.max_steps);
    if !stopped && steps_left && state.next_at.is_none() && conv.unanswered > 0 {
        followup = next(c, facts, state, Event::Outbound, now);
        findings.push("followup_rescheduled");
    }
    let exhausted = !steps_left && c.config.max_steps > 0;
    let underperforming = !stopped && conv.unanswered > 0 && (exhausted || conv.unanswered >= UNDERPERFORMING_UNANSWERED);
    let tag = (underperforming && !tagged).then_some(true);
    if tag.is_some() {
        findings.push("underperforming");
    }
    let target = if conv.replied && matches!(facts.stage, New | Contacted) {
        Some(Engaged)
    } else if conv.outbound > 0 && facts.stage == New {
        Some(Contacted)
    } else {
        None
    };
    let stage = target.and_then(|to| auto_move(facts.stage, to));
    if stage.is_some() {
        findings.push("stage_caught_up");
    }
    Review { followup, tag, stage, findings }
}

#[cfg(test)]
mod tests;
