//! The rules. State rules (kill switch, opt-out, takeover, mode, guardrails, review, the
//! unanswered limit) decide from facts; time rules say until when they block, so the engine
//! can find the earliest time every one of them passes.

use crate::decision::{ReasonCode, RuleId, RuleOutcome, RuleTrace};
use crate::local_time::{quiet_until, sunday_until, LocalZone};
use crate::settings::{Contact, ContactHistory, HistoryEvent, Mode, OrgSettings, Origin, SendRequest};
use crate::{Millis, DAY};

/// Unanswered outbound messages allowed within the window; the next one is refused.
pub const UNANSWERED_LIMIT: usize = 5;
pub const UNANSWERED_WINDOW: Millis = 14 * DAY;
pub const WEEK: Millis = 7 * DAY;

/// Everything a rule may read.
pub(crate) struct Facts<'a> {
    pub request: &'a SendRequest,
    pub contact: &'a Contact,
    pub history: &'a ContactHistory,
    pub settings: &'a OrgSettings,
    pub zones: Vec<LocalZone<'a>>,
}

fn trace(rule: RuleId, outcome: RuleOutcome, detail: impl Into<String>) -> RuleTrace {
    RuleTrace { rule, outcome, detail: detail.into() }
}

fn deny_if(rule: RuleId, blocked: bool, reason: ReasonCode, detail: impl Into<String>) -> RuleTrace {
    let outcome = if blocked { RuleOutcome::Deny { reason } } else { RuleOutcome::Pass };
    trace(rule, outcome, detail)
}

/// The rules that depend only on facts, evaluated at `now`.
pub(crate) fn state_rules(f: &Facts<'_>, now: Millis) -> Vec<RuleTrace> {
    let autonomous = f.request.origin == Origin::Autonomous;
    let s = f.settings;
    let c = f.contact;
    let mut out = vec![
        deny_if(RuleId::KillSwitch, s.kill_switch, ReasonCode::KillSwitchOn, format!("kill switch {}", if s.kill_switch { "on" } else { "off" })),
        deny_if(RuleId::OptOut, c.opted_out, ReasonCode::ContactOptedOut, "opt-out is permanent"),
        deny_if(RuleId::SuppressionList, c.suppressed_until.is_some_and(|u| u > now), ReasonCode::ContactSuppressed, format!("suppressed until {:?}", c.suppressed_until)),
    ];
    if autonomous {
        out.push(deny_if(RuleId::HumanTakeover, c.human_takeover, ReasonCode::HumanTakeover, "a person has taken over this contact"));
        out.push(deny_if(RuleId::Mode, s.mode == Mode::DraftOnly, ReasonCode::DraftOnlyMode, format!("mode {:?}", s.mode)));
        out.push(guardrails(f));
        let review = f.request.confidence < s.min_confidence || f.request.risk > s.max_risk;
        let outcome = if review { RuleOutcome::Review { reason: ReasonCode::StrategyReviewRequired } } else { RuleOutcome::Pass };
        out.push(trace(RuleId::StrategyReview, outcome, format!("confidence {} (min {}), risk {} (max {})", f.request.confidence, s.min_confidence, f.request.risk, s.max_risk)));
    } else {
        for rule in [RuleId::HumanTakeover, RuleId::Mode, RuleId::Guardrails, RuleId::StrategyReview] {
            out.push(trace(rule, RuleOutcome::NotApplicable, "a person is sending"));
        }
    }
    let unanswered = unanswered_within(f.history, now);
    out.push(deny_if(RuleId::UnansweredLimit, unanswered >= UNANSWERED_LIMIT, ReasonCode::UnansweredLimit, format!("{unanswered} unanswered in 14 days (limit {UNANSWERED_LIMIT})")));
    out
}

fn guardrails(f: &Facts<'_>) -> RuleTrace {
    let g = &f.settings.guardrails;
    let c = f.contact;
    let eq = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    if let Some(industry) = &c.industry {
        if g.blocked_industries.iter().any(|b| eq(b, industry)) {
            return trace(RuleId::Guardrails, RuleOutcome::Deny { reason: ReasonCode::IndustryBlocked }, format!("industry {industry} is blocked"));
        }
    }
    if !g.allowed_stages.is_empty() && !c.company_stage.as_deref().is_some_and(|st| g.allowed_stages.iter().any(|a| eq(a, st))) {
        return trace(RuleId::Guardrails, RuleOutcome::Deny { reason: ReasonCode::StageNotAllowed }, format!("stage {:?} not in {:?}", c.company_stage, g.allowed_stages));
    }
    let in_range = match c.employees {
        Some(n) => g.min_employees.is_none_or(|m| n >= m) && g.max_employees.is_none_or(|m| n <= m),
        None => g.min_employees.is_none() && g.max_employees.is_none(),
    };
    if !in_range {
        return trace(RuleId::Guardrails, RuleOutcome::Deny { reason: ReasonCode::EmployeeCountOutOfRange }, format!("{:?} employees outside {:?}..={:?}", c.employees, g.min_employees, g.max_employees));
    }
    trace(RuleId::Guardrails, RuleOutcome::Pass, "industry, stage and size allowed")
}

/// Outbound messages after the contact's last reply, within the 14-day window ending at `now`.
pub(crate) fn unanswered_within(history: &ContactHistory, now: Millis) -> usize {
    let last_reply = history.events.iter().filter_map(|e| match e { HistoryEvent::Inbound(t) if *t <= now => Some(*t), _ => None }).max();
    history
        .events
        .iter()
        .filter(|e| matches!(e, HistoryEvent::Outbound(t) if *t <= now && *t > now - UNANSWERED_WINDOW && last_reply.is_none_or(|r| *t > r)))
        .count()
}

/// The time rules, in trace order.
pub(crate) const TIME_RULES: [RuleId; 6] = [
    RuleId::ContactRolling24h,
    RuleId::ContactWeeklyCap,
    RuleId::OrgDailyQuota,
    RuleId::OrgWeeklyQuota,
    RuleId::QuietHours,
    RuleId::SundayHold,
];

/// If `rule` blocks a send at `t`, its reason, the time it stops blocking, and a detail.
pub(crate) fn blocked_until(rule: RuleId, f: &Facts<'_>, t: Millis) -> Option<(ReasonCode, Millis, String)> {
    let outbound: Vec<Millis> = f.history.events.iter().filter_map(|e| match e { HistoryEvent::Outbound(x) => Some(*x), _ => None }).collect();
    match rule {
        RuleId::ContactRolling24h => window_limit(&outbound, t, DAY, 1).map(|u| (ReasonCode::Contact24hLimit, u, "1 outbound per contact per rolling 24 hours".into())),
        RuleId::ContactWeeklyCap => window_limit(&outbound, t, WEEK, f.settings.contact_weekly_cap).map(|u| (ReasonCode::ContactWeeklyCap, u, format!("{} per contact per 7 days", f.settings.contact_weekly_cap))),
        RuleId::OrgDailyQuota => window_limit(&f.history.org_sends, t, DAY, f.settings.daily_quota).map(|u| (ReasonCode::OrgDailyQuota, u, format!("org quota {} per 24 hours", f.settings.daily_quota))),
        RuleId::OrgWeeklyQuota => window_limit(&f.history.org_sends, t, WEEK, f.settings.weekly_quota).map(|u| (ReasonCode::OrgWeeklyQuota, u, format!("org quota {} per 7 days", f.settings.weekly_quota))),
        RuleId::QuietHours => f.zones.iter().filter_map(|z| quiet_until(*z, t)).max().map(|u| (ReasonCode::QuietHours, u, "21:00-09:00 contact local".into())),
        RuleId::SundayHold if f.settings.sunday_hold => f.zones.iter().filter_map(|z| sunday_until(*z, t)).max().map(|u| (ReasonCode::SundayHold, u, "Sunday, contact local".into())),
        _ => None,
    }
}

/// With at most `limit` sends allowed in any window of length `window`, when the next send at
/// or after `t` may go: `None` if it may go at `t`. A send exactly `window` after an earlier
/// one no longer counts it.
fn window_limit(sends: &[Millis], t: Millis, window: Millis, limit: u32) -> Option<Millis> {
    let mut inside: Vec<Millis> = sends.iter().copied().filter(|s| *s <= t && *s > t - window).collect();
    if inside.len() < limit as usize {
        return None;
    }
    if limit == 0 {
        return Some(Millis::MAX);
    }
    inside.sort_unstable();
    // The send that must age out for one slot to free up.
    Some(inside[inside.len() - limit as usize] + window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_free_up_exactly_when_the_oldest_counted_send_ages_out() {
        assert_eq!(window_limit(&[], 10, DAY, 1), None);
        assert_eq!(window_limit(&[5], 10, DAY, 1), Some(5 + DAY));
        assert_eq!(window_limit(&[5], 5 + DAY, DAY, 1), None);
        assert_eq!(window_limit(&[1, 2, 3], 10, DAY, 3), Some(1 + DAY));
        assert_eq!(window_limit(&[1, 2, 3], 10, DAY, 2), Some(2 + DAY));
        assert_eq!(window_limit(&[20], 10, DAY, 1), None, "future sends do not count");
        assert_eq!(window_limit(&[], 10, DAY, 0), Some(Millis::MAX));
    }
}
