//! Automatic follow-ups: the org's cadence (a preset, optional interval overrides, a maximum
//! number of steps) and a lead's follow-up state, moved on by events.
//!
//! A new lead enters the cadence when it is created (its first follow-up is due one interval
//! later), and every outbound message (a person's send, a sent draft, a follow-up) restarts
//! the wait for the lead's next step, counted from that message. A reply pauses the sequence
//! (there is a conversation, nothing to chase) until the next outbound message. The step
//! counter never goes back, so a lead gets at most `max_steps` automatic follow-ups in its
//! whole life, and each step's idempotency key (`followup:{lead}:{step}`) is used once.
//! Opt-out, a person's takeover and a closed stage (won, lost) stop follow-ups.

use crate::stage::LeadStage;
use domain::ApiError;
use serde_json::Value;

/// One hour, the unit of follow-up intervals.
pub const HOUR_MS: i64 = 3_600_000;
/// Bounds of an org's interval override, in hours (one hour to 90 days).
pub const MIN_INTERVAL_HOURS: u64 = 1;
pub const MAX_INTERVAL_HOURS: u64 = 90 * 24;
/// Most follow-up steps an org may configure.
pub const MAX_STEPS_LIMIT: u64 = 10;
/// Follow-up steps when the org has not said.
pub const DEFAULT_MAX_STEPS: u8 = 3;

/// A named cadence: the hours to wait before each step, after the lead's latest message from
/// us. Steps past the end of the list reuse its last interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// 3, 7 and 14 days.
    Gentle,
    /// 2, 4 and 7 days (the default).
    #[default]
    Standard,
    /// 1, 2 and 4 days.
    Aggressive,
}

impl Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Gentle => "gentle",
            Preset::Standard => "standard",
            Preset::Aggressive => "aggressive",
        }
    }

    pub fn parse(raw: &str) -> Option<Preset> {
        [Preset::Gentle, Preset::Standard, Preset::Aggressive].into_iter().find(|p| p.as_str() == raw)
    }

    /// The preset's intervals in hours, per step.
    pub fn intervals_hours(self) -> &'static [u32] {
        match self {
            Preset::Gentle => &[72, 168, 336],
            Preset::Standard => &[48, 96, 168],
            Preset::Aggressive => &[24, 48, 96],
        }
    }
}

/// An org's follow-up settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupConfig {
    pub preset: Preset,
    /// Replaces the preset's intervals when set.
    pub intervals_hours: Option<Vec<u32>>,
    /// Automatic follow-ups per lead; 0 turns them off.
    pub max_steps: u8,
}

impl Default for FollowupConfig {
    fn default() -> Self {
        FollowupConfig { preset: Preset::Standard, intervals_hours: None, max_steps: DEFAULT_MAX_STEPS }
    }
}

impl FollowupConfig {
    /// The hours to wait before step `step` (0-based).
    pub fn interval_hours(&self, step: u32) -> u32 {
        let list = self.intervals_hours.as_deref().unwrap_or(self.preset.intervals_hours());
        list.get(step as usize).or(list.last()).copied().unwrap_or(48)
    }
}

fn invalid(field: &'static str, reason: &str) -> ApiError {
    ApiError::InvalidField { field, reason: reason.to_owned() }
}

/// `followup_preset`: `gentle`, `standard` or `aggressive`.
pub fn parse_preset(v: &Value) -> Result<Preset, ApiError> {
    v.as_str().and_then(Preset::parse).ok_or(invalid("followup_preset", "must be gentle, standard or aggressive"))
}

/// `followup_intervals_hours`: `null` (use the preset) or 1 to 10 whole hours, each from 1 to
/// 2,160 (90 days).
pub fn parse_intervals(v: &Value) -> Result<Option<Vec<u32>>, ApiError> {
    if v.is_null() {
        return Ok(None);
    }
    let bad = || invalid("followup_intervals_hours", "must be null or a list of 1 to 10 whole hours, each from 1 to 2160");
    let list = v.as_array().filter(|a| !a.is_empty() && a.len() as u64 <= MAX_STEPS_LIMIT).ok_or_else(bad)?;
    list.iter()
        .map(|h| h.as_u64().filter(|h| (MIN_INTERVAL_HOURS..=MAX_INTERVAL_HOURS).contains(h)).map(|h| h as u32).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `followup_max_steps`: 0 to 10.
pub fn parse_max_steps(v: &Value) -> Result<u8, ApiError> {
    v.as_u64().filter(|n| *n <= MAX_STEPS_LIMIT).map(|n| n as u8).ok_or(invalid("followup_max_steps", "must be an integer from 0 to 10"))
}

/// The cadence the loops run on: the org's settings and the length of an hour. The hour is
/// [`HOUR_MS`] in production; a deployment variable may shorten it for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cadence {
    pub config: FollowupConfig,
    pub hour_ms: i64,
}

impl Cadence {
    /// The wait before step `step`, in milliseconds.
    pub fn interval_ms(&self, step: u32) -> i64 {
        i64::from(self.config.interval_hours(step)) * self.hour_ms.max(1)
    }

    /// How long a review lasts before the lead is reviewed again (24 hours).
    pub fn review_period_ms(&self) -> i64 {
        24 * self.hour_ms.max(1)
    }
}

/// A lead's follow-up state: the next step (0-based) and when it is due, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FollowupState {
    pub step: u32,
    pub next_at: Option<i64>,
}

/// What the loops know of a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadFacts {
    pub stage: LeadStage,
    pub opted_out: bool,
    pub human_takeover: bool,
}

/// Why a lead gets no follow-ups at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    OptedOut,
    TakenOver,
    /// Won or lost.
    Closed,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::OptedOut => "opted_out",
            StopReason::TakenOver => "human_takeover",
            StopReason::Closed => "closed",
        }
    }
}

/// Whether the lead is out of the follow-up loop, and why.
pub fn stop_reason(f: &LeadFacts) -> Option<StopReason> {
    if f.opted_out {
        Some(StopReason::OptedOut)
    } else if f.human_takeover {
        Some(StopReason::TakenOver)
    } else if matches!(f.stage, LeadStage::Won | LeadStage::Lost) {
        Some(StopReason::Closed)
    } else {
        None
    }
}

/// What happened to a lead, as far as its follow-ups go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A message went to the lead (any origin).
    Outbound,
    /// The lead replied.
    Reply,
    /// The due step was drafted or sent.
    Done,
    /// The policy deferred the due step until this time.
    Deferred { until: i64 },
    /// The policy refused the due step for a reason that may lift (kill switch, suppression,
    /// a quota): try again one interval later.
    Hold,
    /// The policy refused it for good (opt-out, takeover).
    Stop,
}

/// The state after `event` at `now`. A stopped lead, or one whose steps are used up, has no
/// next follow-up; otherwise the next one is always after `now`.
pub fn next(c: &Cadence, facts: &LeadFacts, state: FollowupState, event: Event, now: i64) -> FollowupState {
    let step = if event == Event::Done { state.step.saturating_add(1) } else { state.step };
    if stop_reason(facts).is_some() || step >= u32::from(c.config.max_steps) {
        return FollowupState { step, next_at: None };
    }
    let next_at = match event {
        Event::Reply | Event::Stop => None,
        Event::Outbound | Event::Done | Event::Hold => Some(now.saturating_add(c.interval_ms(step))),
        Event::Deferred { until } => Some(until.max(now + 1)),
    };
    FollowupState { step, next_at }
}

/// A new lead's follow-up state: it enters the cadence at once, its first follow-up due one
/// interval after it was created (a message to it before then restarts the wait).
pub fn on_created(c: &Cadence, now: i64) -> FollowupState {
    let fresh = LeadFacts { stage: LeadStage::New, opted_out: false, human_takeover: false };
    next(c, &fresh, FollowupState::default(), Event::Outbound, now)
}

/// A lead's follow-up state once the org's cadence has changed. A follow-up still waiting is
/// due one new interval after `anchor` (the lead's latest message from us, else its creation),
/// or at `now` when that has passed, so a faster cadence catches up at once and a slower one
/// waits longer; a lead whose step is past the new number of steps gets none.
///
/// A lead with no follow-up waiting that is not paused by a reply (`replied`: its latest
/// contact event is a message from it) had its sequence ended by the cadence itself: its steps
/// ran out, or the org turned follow-ups off. If the new cadence leaves it steps, its next one
/// is scheduled the same way, so raising `followup_max_steps` takes effect at once. A lead
/// paused by a reply, or stopped (opt-out, takeover, closed), is left as it is.
pub fn reschedule(c: &Cadence, facts: &LeadFacts, state: FollowupState, anchor: i64, replied: bool, now: i64) -> FollowupState {
    let stopped = stop_reason(facts).is_some() || state.step >= u32::from(c.config.max_steps);
    if stopped || (state.next_at.is_none() && replied) {
        return FollowupState { step: state.step, next_at: None };
    }
    FollowupState { step: state.step, next_at: Some(anchor.saturating_add(c.interval_ms(state.step)).max(now)) }
}

/// The idempotency key of a lead's follow-up step.
pub fn followup_key(lead_id: &str, step: u32) -> String {
    format!("followup:{lead_id}:{step}")
}

/// The idempotency key of a lead's review, by the time of the review before it.
pub fn review_key(lead_id: &str, previous_review_at: i64) -> String {
    format!("review:{lead_id}:{previous_review_at}")
}

/// The idempotency key of the state update after a conversation event (`send:{client_id}` or
/// `reply:{client_id}`).
pub fn post_turn_key(lead_id: &str, event: &str) -> String {
    format!("post_turn:{lead_id}:{event}")
}

/// The text of follow-up `step` to a lead, deterministic, labelled as automatic, with one
/// call to action so it passes the quality gate.
pub fn followup_text(lead_name: &str, step: u32) -> String {
    let first = lead_name.split_whitespace().next().unwrap_or("there");
    let body = match step {
        0 => "a quick automatic follow-up from our team. Would a short call this week be useful?",
        1 => "this is an automatic follow-up in case my earlier message got buried. Are you open to a brief chat next week?",
        _ => "one last automatic follow-up from me. If the timing is wrong, no problem; is it worth a short call later this quarter?",
    };
    format!("Hi {first}, {body}")
}

#[cfg(test)]
mod tests;
