//! The inputs of a decision: the org's settings, the contact, its history, the request.

use crate::local_time::ContactZone;
use crate::Millis;
use serde::{Deserialize, Serialize};

/// Whether the agent may send on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// The default: the agent drafts, people send.
    #[default]
    DraftOnly,
    /// Autonomous sends that pass every other rule go out.
    SendAllowed,
}

/// Company facts an org may restrict autonomous outreach by.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Guardrails {
    /// Industries never contacted (compared case-insensitively).
    pub blocked_industries: Vec<String>,
    /// If non-empty, only companies at these stages are contacted.
    pub allowed_stages: Vec<String>,
    /// Inclusive employee-count range; a contact with an unknown count fails a set bound.
    pub min_employees: Option<u32>,
    pub max_employees: Option<u32>,
}

/// An org's policy settings. The safety floor itself (24 h, quiet hours, unanswered limit,
/// opt-out) is not configurable; these are the knobs above it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSettings {
    pub mode: Mode,
    pub kill_switch: bool,
    /// Hold sends on the contact's local Sunday (on by default).
    pub sunday_hold: bool,
    /// The zone used, strictly, for contacts whose own zone is unknown.
    pub default_zone: String,
    /// Most sends by the whole org in any rolling 24 hours / 7 days.
    pub daily_quota: u32,
    pub weekly_quota: u32,
    /// Most sends to one contact in any rolling 7 days.
    pub contact_weekly_cap: u32,
    pub guardrails: Guardrails,
    /// Autonomous sends below this confidence (0-100) go to strategy review.
    pub min_confidence: u8,
    /// Autonomous sends above this risk score (0-100) go to strategy review.
    pub max_risk: u8,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            mode: Mode::DraftOnly,
            kill_switch: false,
            sunday_hold: true,
            default_zone: "UTC".to_owned(),
            daily_quota: 200,
            weekly_quota: 1_000,
            contact_weekly_cap: 3,
            guardrails: Guardrails::default(),
            min_confidence: 60,
            max_risk: 40,
        }
    }
}

/// What the policy knows of a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub zone: ContactZone,
    /// Permanent: once set, nothing clears it.
    pub opted_out: bool,
    /// On the suppression list for another reason (bounce, complaint, manual) until this time.
    pub suppressed_until: Option<Millis>,
    pub human_takeover: bool,
    pub industry: Option<String>,
    pub company_stage: Option<String>,
    pub employees: Option<u32>,
}

impl Default for Contact {
    fn default() -> Self {
        Contact { zone: ContactZone::Unknown, opted_out: false, suppressed_until: None, human_takeover: false, industry: None, company_stage: None, employees: None }
    }
}

/// One message in a contact's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryEvent {
    Outbound(Millis),
    Inbound(Millis),
}

/// The facts the time-based rules read: this contact's messages and the org's recent sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactHistory {
    pub events: Vec<HistoryEvent>,
    /// Times of the org's sends to any contact (at least the last 7 days).
    pub org_sends: Vec<Millis>,
}

/// Who is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The agent or a follow-up loop, on its own.
    Autonomous,
    /// A person pressed send (for example on an approved draft).
    Human,
}

/// A request to send one message to one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    pub contact_id: String,
    pub origin: Origin,
    /// The model's confidence in the message, 0-100 (people's messages: 100).
    pub confidence: u8,
    /// The quality gate's risk score, 0-100.
    pub risk: u8,
}
