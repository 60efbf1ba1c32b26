//! Asking to send a message to a lead, and the recorded decision that answers.

use domain::ids::ClientId;
use domain::message::NewUserMessage;
use domain::ApiError;
use policy::{Decision, ReasonCode, RuleTrace, Verdict};
use serde::Serialize;

/// A validated `POST /v1/leads/{id}/sends` body: `{ "client_id", "content" }`. A person is
/// sending (the agent's sends come through drafts and the follow-up loops).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSend {
    pub client_id: ClientId,
    pub content: String,
}

impl NewSend {
    /// Same shape and limits as a chat message: a client id that makes retries idempotent and a
    /// non-blank text of at most 16 KiB.
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        let m = NewUserMessage::from_body(body)?;
        Ok(NewSend { client_id: m.client_id, content: m.content })
    }

    /// Whether this send, whose client id the outbox already holds for a send to `sent_to`
    /// with `sent_content`, is a retry of it: the same lead and the same text. Anything else
    /// reuses the id and is refused with 409 `client_id_conflict` (ADR 20).
    pub fn check_retry_of(&self, lead_id: &str, sent_to: &str, sent_content: &str) -> Result<(), ApiError> {
        // Another lead's send never matches, whatever its text.
        let stored = if sent_to == lead_id { Some(sent_content) } else { None };
        match stored {
            Some(content) => domain::message::check_retry(&self.client_id, content, &self.content),
            None => Err(domain::message::client_id_conflict(&self.client_id)),
        }
    }
}

/// A recorded policy decision as clients (and the audit trail) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionView {
    pub id: i64,
    pub lead_id: String,
    pub origin: &'static str,
    /// `allow`, `deny`, `defer` or `review`.
    pub verdict: &'static str,
    /// For a deferral: the earliest time every rule passes.
    pub until: Option<i64>,
    pub reasons: Vec<ReasonCode>,
    pub rule_trace: Vec<RuleTrace>,
    pub decided_at: i64,
    /// What to do next, for a person reading a refusal.
    pub next_step: String,
}

impl DecisionView {
    pub fn new(id: i64, lead_id: &str, origin: &'static str, decision: &Decision) -> Self {
        let (verdict, until) = verdict_parts(decision.verdict);
        DecisionView {
            id,
            lead_id: lead_id.to_owned(),
            origin,
            verdict,
            until,
            reasons: decision.reasons.clone(),
            rule_trace: decision.rule_trace.clone(),
            decided_at: decision.decided_at,
            next_step: next_step(decision),
        }
    }
}

/// A verdict as stored: its name and, for a deferral, its time.
pub fn verdict_parts(verdict: Verdict) -> (&'static str, Option<i64>) {
    match verdict {
        Verdict::Allow => ("allow", None),
        Verdict::Deny => ("deny", None),
        Verdict::Review => ("review", None),
        Verdict::Defer { until } => ("defer", Some(until)),
    }
}

/// The next safe action for a verdict, shown with every refusal.
pub fn next_step(decision: &Decision) -> String {
    match decision.verdict {
        Verdict::Allow => "Sent.".into(),
        Verdict::Defer { .. } => "Not sent. Try again after the time given in `until`, or schedule it then.".into(),
        Verdict::Review => "Not sent. A person must review the strategy for this lead first.".into(),
        Verdict::Deny => match decision.reasons.first() {
            Some(ReasonCode::ContactOptedOut) => "Never contact this lead again: they opted out.".into(),
            Some(ReasonCode::KillSwitchOn) => "Every send is stopped by the kill switch; an admin can lift it.".into(),
            Some(ReasonCode::UnansweredLimit) => "Stop here: five messages went unanswered. Wait for a reply.".into(),
            Some(ReasonCode::DraftOnlyMode) => "Save it as a draft for a person to send.".into(),
            Some(ReasonCode::HumanTakeover) => "A person has taken over this lead; they send by hand.".into(),
            _ => "Not sent; see the reasons.".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_send_is_retried_only_to_the_same_lead_with_the_same_text() {
        let send = super::NewSend::from_body(br#"{"client_id":"s-1","content":"Hello"}"#).unwrap();
        assert_eq!(send.check_retry_of("lead_a", "lead_a", "Hello"), Ok(()));
        for (to, text) in [("lead_a", "Hello!"), ("lead_b", "Hello")] {
            let e = send.check_retry_of("lead_a", to, text).unwrap_err();
            assert_eq!((e.status(), e.code()), (409, "client_id_conflict"), "{to} {text}");
        }
    }

    use super::*;

    #[test]
    fn a_deferral_is_shown_with_its_time_reasons_and_next_step() {
        use policy::tzdb::ChronoTz;
        use policy::{decide, Contact, ContactHistory, HistoryEvent, OrgSettings, Origin, SendRequest};
        let now = 1_795_521_600_000; // 2026-11-24, a Tuesday, 12:00 UTC
        let history = ContactHistory { events: vec![HistoryEvent::Outbound(now - 3_600_000)], org_sends: vec![] };
        let request = SendRequest { contact_id: "lead_x".into(), origin: Origin::Human, confidence: 100, risk: 0 };
        let d = decide(&request, &Contact::default(), &history, &OrgSettings::default(), &ChronoTz, now);
        let v = DecisionView::new(7, "lead_x", "human", &d);
        assert_eq!((v.verdict, v.until), ("defer", Some(now - 3_600_000 + 86_400_000)));
        assert_eq!(v.reasons, vec![ReasonCode::Contact24hLimit]);
        assert_eq!(v.rule_trace.len(), 14);
        assert!(v.next_step.starts_with("Not sent"));
        assert_eq!(verdict_parts(Verdict::Allow), ("allow", None));
    }

    #[test]
    fn validates_sends() {
        assert!(NewSend::from_body(br#"{"client_id":"s1","content":"Hi"}"#).is_ok());
        assert_eq!(NewSend::from_body(br#"{"client_id":"s1"}"#).unwrap_err().code(), "missing_field");
        assert_eq!(NewSend::from_body(br#"{"client_id":"s 1","content":"x"}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(NewSend::from_body(br#"{"client_id":"s1","content":" "}"#).unwrap_err().code(), "invalid_field");
    }
}
