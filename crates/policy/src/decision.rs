//! What the policy decides, and the permit a channel needs to send.

use crate::Millis;
use serde::Serialize;

/// Every rule, in the order they are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    KillSwitch,
    OptOut,
    SuppressionList,
    HumanTakeover,
    Mode,
    Guardrails,
    StrategyReview,
    UnansweredLimit,
    ContactRolling24h,
    ContactWeeklyCap,
    OrgDailyQuota,
    OrgWeeklyQuota,
    QuietHours,
    SundayHold,
}

/// Why a send was not allowed (stable codes, stored and shown to operators). Serialised as
/// [`ReasonCode::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    KillSwitchOn,
    ContactOptedOut,
    ContactSuppressed,
    HumanTakeover,
    DraftOnlyMode,
    IndustryBlocked,
    StageNotAllowed,
    EmployeeCountOutOfRange,
    StrategyReviewRequired,
    UnansweredLimit,
    Contact24hLimit,
    ContactWeeklyCap,
    OrgDailyQuota,
    OrgWeeklyQuota,
    QuietHours,
    SundayHold,
}

impl ReasonCode {
    /// The code as stored and shown, e.g. `QUIET_HOURS`.
    pub fn as_str(self) -> &'static str {
        use ReasonCode::*;
        match self {
            KillSwitchOn => "KILL_SWITCH_ON",
            ContactOptedOut => "CONTACT_OPTED_OUT",
            ContactSuppressed => "CONTACT_SUPPRESSED",
            HumanTakeover => "HUMAN_TAKEOVER",
            DraftOnlyMode => "DRAFT_ONLY_MODE",
            IndustryBlocked => "INDUSTRY_BLOCKED",
            StageNotAllowed => "STAGE_NOT_ALLOWED",
            EmployeeCountOutOfRange => "EMPLOYEE_COUNT_OUT_OF_RANGE",
            StrategyReviewRequired => "STRATEGY_REVIEW_REQUIRED",
            UnansweredLimit => "UNANSWERED_LIMIT",
            Contact24hLimit => "CONTACT_24H_LIMIT",
            ContactWeeklyCap => "CONTACT_WEEKLY_CAP",
            OrgDailyQuota => "ORG_DAILY_QUOTA",
            OrgWeeklyQuota => "ORG_WEEKLY_QUOTA",
            QuietHours => "QUIET_HOURS",
            SundayHold => "SUNDAY_HOLD",
        }
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RuleOutcome {
    Pass,
    /// The rule does not apply to this request (for example takeover for a person's send).
    NotApplicable,
    Deny { reason: ReasonCode },
    Review { reason: ReasonCode },
    /// The rule passes from `until` on.
    Defer { reason: ReasonCode, until: Millis },
}

/// One line of the `rule_trace`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTrace {
    pub rule: RuleId,
    #[serde(flatten)]
    pub outcome: RuleOutcome,
    /// What the rule looked at, for people reading the trace.
    pub detail: String,
}

/// The decision's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Deny,
    /// Every rule that blocks now passes at `until` (the earliest such time).
    Defer { until: Millis },
    /// A person must look at it first (strategy review).
    Review,
}

/// Proof that the policy allowed one send to one contact at one time. Its fields are private
/// and it has no public constructor, so no code outside this crate can make one: a channel that
/// requires a `SendPermit` can only be reached through [`crate::decide`].
#[derive(Debug, PartialEq, Eq)]
pub struct SendPermit {
    contact_id: String,
    decided_at: Millis,
}

impl SendPermit {
    pub(crate) fn new(contact_id: String, decided_at: Millis) -> Self {
        SendPermit { contact_id, decided_at }
    }

    pub fn contact_id(&self) -> &str {
        &self.contact_id
    }

    pub fn decided_at(&self) -> Millis {
        self.decided_at
    }
}

/// A recorded decision.
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The reasons behind a verdict other than allow, most important first.
    pub reasons: Vec<ReasonCode>,
    pub rule_trace: Vec<RuleTrace>,
    pub decided_at: Millis,
    permit: Option<SendPermit>,
}

impl Decision {
    pub(crate) fn new(verdict: Verdict, reasons: Vec<ReasonCode>, rule_trace: Vec<RuleTrace>, decided_at: Millis, permit: Option<SendPermit>) -> Self {
        Decision { verdict, reasons, rule_trace, decided_at, permit }
    }

    /// The permit, present exactly when the verdict is allow.
    pub fn permit(&self) -> Option<&SendPermit> {
        self.permit.as_ref()
    }

    pub fn into_permit(self) -> Option<SendPermit> {
        self.permit
    }
}
