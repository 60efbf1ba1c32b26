//! The one decision every outbound message passes.

use crate::decision::{Decision, ReasonCode, RuleOutcome, RuleTrace, SendPermit, Verdict};
use crate::local_time::{zones_for, ZoneRules};
use crate::rules::{blocked_until, state_rules, Facts, TIME_RULES};
use crate::settings::{Contact, ContactHistory, OrgSettings, SendRequest};
use crate::Millis;

/// Most rounds spent looking for the earliest time every time rule passes. Each round moves
/// past at least one blocking window, so a handful always suffice; the bound is a safety net.
const MAX_DEFER_ROUNDS: usize = 64;

/// Decides one send. Deterministic: the same inputs (and zone rules) always give the same
/// decision.
///
/// Every rule is evaluated and traced. Any denial wins; then strategy review; then, if time
/// rules block, a deferral to the earliest instant at which all of them pass together (a
/// deferral out of quiet hours that lands on a Sunday moves on to Monday morning); otherwise
/// the send is allowed and the decision carries the only kind of [`SendPermit`] there is.
pub fn decide(request: &SendRequest, contact: &Contact, history: &ContactHistory, settings: &OrgSettings, zones: &dyn ZoneRules, now: Millis) -> Decision {
    let facts = Facts { request, contact, history, settings, zones: zones_for(&contact.zone, &settings.default_zone, zones, now) };
    let mut trace = state_rules(&facts, now);
    for rule in TIME_RULES {
        let outcome = match blocked_until(rule, &facts, now) {
            Some((reason, Millis::MAX, detail)) => RuleTrace { rule, outcome: RuleOutcome::Deny { reason }, detail },
            Some((reason, until, detail)) => RuleTrace { rule, outcome: RuleOutcome::Defer { reason, until }, detail },
            None => RuleTrace { rule, outcome: RuleOutcome::Pass, detail: String::new() },
        };
        trace.push(outcome);
    }

    let reasons = |pick: fn(&RuleOutcome) -> Option<ReasonCode>| -> Vec<ReasonCode> { trace.iter().filter_map(|t| pick(&t.outcome)).collect() };
    let denied = reasons(|o| if let RuleOutcome::Deny { reason } = o { Some(*reason) } else { None });
    if !denied.is_empty() {
        return Decision::new(Verdict::Deny, denied, trace, now, None);
    }
    let review = reasons(|o| if let RuleOutcome::Review { reason } = o { Some(*reason) } else { None });
    if !review.is_empty() {
        return Decision::new(Verdict::Review, review, trace, now, None);
    }
    let deferred = reasons(|o| if let RuleOutcome::Defer { reason, .. } = o { Some(*reason) } else { None });
    if !deferred.is_empty() {
        let until = earliest_clear(&facts, now);
        return Decision::new(Verdict::Defer { until }, deferred, trace, now, None);
    }
    let permit = SendPermit::new(request.contact_id.clone(), now);
    Decision::new(Verdict::Allow, Vec::new(), trace, now, Some(permit))
}

/// The earliest instant at or after `now` at which no time rule blocks.
fn earliest_clear(facts: &Facts<'_>, now: Millis) -> Millis {
    let mut t = now;
    for _ in 0..MAX_DEFER_ROUNDS {
        match TIME_RULES.iter().filter_map(|r| blocked_until(*r, facts, t).map(|b| b.1)).max() {
            Some(next) if next > t => t = next,
            _ => return t,
        }
    }
    t
}
