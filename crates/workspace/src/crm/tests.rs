use super::*;
use crate::followup::{FollowupConfig, HOUR_MS};
use proptest::prelude::*;

fn cadence() -> Cadence {
    Cadence { config: FollowupConfig::default(), hour_ms: HOUR_MS }
}

fn lead(stage: LeadStage) -> LeadFacts {
    LeadFacts { stage, opted_out: false, human_takeover: false }
}

#[test]
fn decisions_become_dispatches() {
    use ReasonCode::*;
    assert_eq!(Dispatch::from_decision(Verdict::Allow, &[]), Dispatch::Sent);
    assert_eq!(Dispatch::from_decision(Verdict::Deny, &[DraftOnlyMode]), Dispatch::Draft);
    assert_eq!(Dispatch::from_decision(Verdict::Review, &[StrategyReviewRequired]), Dispatch::Draft);
    assert_eq!(Dispatch::from_decision(Verdict::Defer { until: 9 }, &[QuietHours]), Dispatch::Deferred(9));
    assert_eq!(Dispatch::from_decision(Verdict::Deny, &[KillSwitchOn, DraftOnlyMode]), Dispatch::Hold, "the kill switch stops drafts too");
    assert_eq!(Dispatch::from_decision(Verdict::Deny, &[ContactSuppressed]), Dispatch::Hold);
    assert_eq!(Dispatch::from_decision(Verdict::Deny, &[DraftOnlyMode, ContactOptedOut]), Dispatch::Stop);
    assert_eq!(Dispatch::from_decision(Verdict::Deny, &[HumanTakeover]), Dispatch::Stop);
    assert_eq!(Dispatch::Sent.event(), Event::Done);
    assert_eq!(Dispatch::Draft.event(), Event::Done);
    assert_eq!(Dispatch::Deferred(9).event(), Event::Deferred { until: 9 });
}

#[test]
fn a_send_makes_a_new_lead_contacted_and_starts_the_wait() {
    let c = cadence();
    let p = post_turn(&c, &lead(LeadStage::New), FollowupState::default(), TurnEvent::Sent, 100);
    assert_eq!(p.stage, Some(LeadStage::Contacted));
    assert_eq!(p.followup.next_at, Some(100 + 48 * HOUR_MS));
    assert_eq!(post_turn(&c, &lead(LeadStage::Qualified), FollowupState::default(), TurnEvent::Sent, 100).stage, None, "no move backwards");
}

#[test]
fn a_reply_engages_the_lead_and_pauses_follow_ups() {
    let c = cadence();
    let s = FollowupState { step: 1, next_at: Some(500) };
    for from in [LeadStage::New, LeadStage::Contacted] {
        let p = post_turn(&c, &lead(from), s, TurnEvent::Replied { opt_out: false }, 100);
        assert_eq!(p.stage, Some(LeadStage::Engaged));
        assert_eq!(p.followup, FollowupState { step: 1, next_at: None });
    }
    assert_eq!(post_turn(&c, &lead(LeadStage::MeetingBooked), s, TurnEvent::Replied { opt_out: false }, 100).stage, None);
}

#[test]
fn an_opt_out_closes_an_open_lead_but_not_from_negotiation() {
    let c = cadence();
    let s = FollowupState { step: 0, next_at: Some(500) };
    let out = |stage| LeadFacts { stage, opted_out: true, human_takeover: false };
    let p = post_turn(&c, &out(LeadStage::Engaged), s, TurnEvent::Replied { opt_out: true }, 100);
    assert_eq!((p.stage, p.followup.next_at), (Some(LeadStage::Lost), None));
    let p = post_turn(&c, &out(LeadStage::Negotiation), s, TurnEvent::Replied { opt_out: true }, 100);
    assert_eq!((p.stage, p.followup.next_at), (None, None), "past negotiation is a person's call");
    assert_eq!(post_turn(&c, &out(LeadStage::Won), s, TurnEvent::Replied { opt_out: true }, 100).stage, None, "won is final");
}

#[test]
fn reviews_cancel_reschedule_tag_and_catch_the_stage_up() {
    let c = cadence();
    let unanswered = Conversation { outbound: 2, replied: false, unanswered: 2 };
    // A stopped lead's pending follow-up is cancelled.
    let taken = LeadFacts { human_takeover: true, ..lead(LeadStage::Contacted) };
    let r = review(&c, &taken, FollowupState { step: 0, next_at: Some(9) }, false, &unanswered, 100);
    assert_eq!((r.followup.next_at, r.findings.clone()), (None, vec!["followup_cancelled"]));
    // An unanswered lead with nothing scheduled gets its next step.
    let r = review(&c, &lead(LeadStage::Contacted), FollowupState { step: 1, next_at: None }, false, &unanswered, 100);
    assert_eq!(r.followup, FollowupState { step: 1, next_at: Some(100 + 96 * HOUR_MS) });
    assert_eq!(r.tag, None);
    // Used-up follow-ups without a reply: strategy review, once.
    let used_up = FollowupState { step: 3, next_at: None };
    let r = review(&c, &lead(LeadStage::Contacted), used_up, false, &unanswered, 100);
    assert_eq!((r.tag, r.findings.clone()), (Some(true), vec!["underperforming"]));
    assert_eq!(review(&c, &lead(LeadStage::Contacted), used_up, true, &unanswered, 100).tag, None, "already tagged");
    let many = Conversation { outbound: 4, replied: false, unanswered: UNDERPERFORMING_UNANSWERED };
    assert_eq!(review(&c, &lead(LeadStage::Contacted), FollowupState { step: 0, next_at: Some(5) }, false, &many, 100).tag, Some(true));
    // The stage catches up with the conversation.
    assert_eq!(review(&c, &lead(LeadStage::New), FollowupState { step: 0, next_at: Some(5) }, false, &unanswered, 100).stage, Some(LeadStage::Contacted));
    let replied = Conversation { outbound: 1, replied: true, unanswered: 0 };
    assert_eq!(review(&c, &lead(LeadStage::New), FollowupState::default(), false, &replied, 100).stage, Some(LeadStage::Engaged));
    // A quiet lead that replied: nothing to do, nothing audited.
    let r = review(&c, &lead(LeadStage::Engaged), FollowupState::default(), false, &replied, 100);
    assert!(r.findings.is_empty());
    assert_eq!((r.tag, r.stage, r.followup), (None, None, FollowupState::default()));
}

proptest! {
    /// Whatever the lead and its conversation, the loops never move a lead backwards or past
    /// negotiation, never schedule a follow-up for a stopped lead or in the past, and only
    /// tag leads with unanswered messages.
    #[test]
    fn loops_respect_the_stage_table_and_stopped_leads(
        stage in 0usize..8, opted_out: bool, takeover: bool, tagged: bool,
        step in 0u32..5, next_at in proptest::option::of(0i64..1_000), outbound in 0usize..8, unanswered in 0usize..8, replied: bool, opt_reply: bool,
    ) {
        let c = cadence();
        let facts = LeadFacts { stage: crate::stage::ALL[stage], opted_out, human_takeover: takeover };
        let state = FollowupState { step, next_at };
        let conv = Conversation { outbound: outbound.max(unanswered), replied, unanswered };
        let now = 10_000;
        let r = review(&c, &facts, state, tagged, &conv, now);
        let p = post_turn(&c, &facts, state, if opt_reply { TurnEvent::Replied { opt_out: opted_out } } else { TurnEvent::Sent }, now);
        for moved in [r.stage, p.stage].into_iter().flatten() {
            prop_assert!(facts.stage.transition(moved, Actor::Automation).is_ok());
        }
        if stop_reason(&facts).is_some() {
            prop_assert_eq!(r.followup.next_at, None);
            prop_assert_eq!(p.followup.next_at, None);
            prop_assert_eq!(r.tag, None);
        }
        if r.followup != state {
            prop_assert!(r.followup.next_at.is_none_or(|at| at > now));
        }
        if r.tag.is_some() {
            prop_assert!(conv.unanswered > 0 && !tagged);
        }
        prop_assert_eq!(r.findings.is_empty(), r.followup == state && r.tag.is_none() && r.stage.is_none());
    }
}
