use super::*;
use proptest::prelude::*;
use serde_json::json;

fn cadence(max_steps: u8) -> Cadence {
    Cadence { config: FollowupConfig { max_steps, ..FollowupConfig::default() }, hour_ms: HOUR_MS }
}

fn open_lead() -> LeadFacts {
    LeadFacts { stage: LeadStage::Contacted, opted_out: false, human_takeover: false }
}

#[test]
fn presets_have_their_documented_intervals_and_overrides_replace_them() {
    assert_eq!(Preset::Gentle.intervals_hours(), &[72, 168, 336]);
    assert_eq!(Preset::Standard.intervals_hours(), &[48, 96, 168]);
    assert_eq!(Preset::Aggressive.intervals_hours(), &[24, 48, 96]);
    for p in [Preset::Gentle, Preset::Standard, Preset::Aggressive] {
        assert_eq!(Preset::parse(p.as_str()), Some(p));
    }
    let c = FollowupConfig { preset: Preset::Gentle, intervals_hours: Some(vec![5, 9]), max_steps: 4 };
    assert_eq!((c.interval_hours(0), c.interval_hours(1), c.interval_hours(3)), (5, 9, 9), "past the list, the last interval repeats");
    assert_eq!(FollowupConfig::default().interval_hours(7), 168);
}

#[test]
fn settings_values_are_validated() {
    assert_eq!(parse_preset(&json!("aggressive")).unwrap(), Preset::Aggressive);
    assert!(parse_preset(&json!("pushy")).is_err());
    assert!(parse_preset(&json!(1)).is_err());
    assert_eq!(parse_intervals(&json!(null)).unwrap(), None);
    assert_eq!(parse_intervals(&json!([1, 2160])).unwrap(), Some(vec![1, 2160]));
    for bad in [json!([]), json!([0]), json!([2161]), json!([1.5]), json!([-1]), json!("24"), json!(vec![1; 11]), json!([null])] {
        let e = parse_intervals(&bad).unwrap_err();
        assert_eq!(e.code(), "invalid_field", "{bad}");
    }
    assert_eq!(parse_max_steps(&json!(0)).unwrap(), 0);
    assert_eq!(parse_max_steps(&json!(10)).unwrap(), 10);
    assert!(parse_max_steps(&json!(11)).is_err());
    assert!(parse_max_steps(&json!(-1)).is_err());
}

#[test]
fn an_outbound_message_starts_the_wait_and_each_step_moves_on() {
    let c = cadence(3);
    let lead = open_lead();
    let s = next(&c, &lead, FollowupState::default(), Event::Outbound, 1_000);
    assert_eq!(s, FollowupState { step: 0, next_at: Some(1_000 + 48 * HOUR_MS) });
    let s = next(&c, &lead, s, Event::Done, 2_000);
    assert_eq!(s, FollowupState { step: 1, next_at: Some(2_000 + 96 * HOUR_MS) });
    let s = next(&c, &lead, s, Event::Done, 3_000);
    assert_eq!(s, FollowupState { step: 2, next_at: Some(3_000 + 168 * HOUR_MS) });
    let s = next(&c, &lead, s, Event::Done, 4_000);
    assert_eq!(s, FollowupState { step: 3, next_at: None }, "three steps, then no more");
    assert_eq!(next(&c, &lead, s, Event::Outbound, 5_000).next_at, None, "used-up steps stay used up");
}

#[test]
fn a_new_lead_enters_the_cadence_one_interval_after_creation() {
    assert_eq!(on_created(&cadence(3), 1_000), FollowupState { step: 0, next_at: Some(1_000 + 48 * HOUR_MS) });
    assert_eq!(on_created(&cadence(0), 1_000), FollowupState { step: 0, next_at: None }, "follow-ups off");
}

#[test]
fn replies_pause_deferrals_wait_and_holds_retry_an_interval_later() {
    let c = cadence(3);
    let lead = open_lead();
    let s = FollowupState { step: 1, next_at: Some(10) };
    assert_eq!(next(&c, &lead, s, Event::Reply, 20), FollowupState { step: 1, next_at: None });
    assert_eq!(next(&c, &lead, s, Event::Deferred { until: 500 }, 20), FollowupState { step: 1, next_at: Some(500) });
    assert_eq!(next(&c, &lead, s, Event::Deferred { until: 5 }, 20).next_at, Some(21), "never in the past");
    assert_eq!(next(&c, &lead, s, Event::Hold, 20).next_at, Some(20 + 96 * HOUR_MS));
    assert_eq!(next(&c, &lead, s, Event::Stop, 20).next_at, None);
}

#[test]
fn opt_out_takeover_and_closed_stages_stop_follow_ups() {
    let c = cadence(3);
    let s = FollowupState { step: 0, next_at: Some(10) };
    let cases = [
        (LeadFacts { opted_out: true, ..open_lead() }, StopReason::OptedOut),
        (LeadFacts { human_takeover: true, ..open_lead() }, StopReason::TakenOver),
        (LeadFacts { stage: LeadStage::Won, ..open_lead() }, StopReason::Closed),
        (LeadFacts { stage: LeadStage::Lost, ..open_lead() }, StopReason::Closed),
    ];
    for (facts, reason) in cases {
        assert_eq!(stop_reason(&facts), Some(reason));
        for e in [Event::Outbound, Event::Done, Event::Hold, Event::Deferred { until: 99 }] {
            assert_eq!(next(&c, &facts, s, e, 20).next_at, None, "{reason:?} {e:?}");
        }
    }
    assert_eq!(stop_reason(&open_lead()), None);
    assert_eq!(next(&cadence(0), &open_lead(), FollowupState::default(), Event::Outbound, 1).next_at, None, "max 0 turns follow-ups off");
}

#[test]
fn idempotency_keys_name_the_lead_and_step() {
    assert_eq!(followup_key("lead_ab", 2), "followup:lead_ab:2");
    assert_eq!(review_key("lead_ab", 1_700), "review:lead_ab:1700");
    assert_eq!(post_turn_key("lead_ab", "reply:r1"), "post_turn:lead_ab:reply:r1");
    assert_ne!(followup_key("lead_a", 1), followup_key("lead_a", 2));
    assert_ne!(followup_key("lead_a", 1), followup_key("lead_b", 1));
}

#[test]
fn follow_up_texts_are_labelled_automatic_and_pass_the_quality_gate() {
    for step in 0..5 {
        let text = followup_text("Ada Lovelace", step);
        assert!(text.starts_with("Hi Ada,"), "{text}");
        assert!(text.contains("automatic follow-up"), "{text}");
        let report = quality_gate::check(&text, &quality_gate::GateConfig::default());
        assert_eq!(report.verdict, quality_gate::Verdict::Pass, "{text}: {:?}", report.violations);
    }
    assert_ne!(followup_text("A", 0), followup_text("A", 1));
    assert_eq!(followup_text("A", 0), followup_text("A", 0), "deterministic");
}

fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Outbound),
        Just(Event::Reply),
        Just(Event::Done),
        Just(Event::Hold),
        Just(Event::Stop),
        (0i64..10_000_000_000).prop_map(|until| Event::Deferred { until }),
    ]
}

#[test]
fn a_cadence_change_moves_a_waiting_follow_up_to_the_new_interval_from_the_last_message() {
    let standard = cadence(3);
    let aggressive = Cadence { config: FollowupConfig { preset: Preset::Aggressive, ..standard.config.clone() }, hour_ms: HOUR_MS };
    let sent_at = 1_000;
    let waiting = next(&standard, &open_lead(), FollowupState::default(), Event::Outbound, sent_at);
    assert_eq!(waiting.next_at, Some(sent_at + 48 * HOUR_MS));
    let faster = reschedule(&aggressive, &open_lead(), waiting, sent_at, false, sent_at + HOUR_MS);
    assert_eq!(faster, FollowupState { step: 0, next_at: Some(sent_at + 24 * HOUR_MS) });
    let back = reschedule(&standard, &open_lead(), faster, sent_at, false, sent_at + HOUR_MS);
    assert_eq!(back, waiting, "changing back restores the original time");
    let late = reschedule(&aggressive, &open_lead(), waiting, sent_at, false, sent_at + 30 * HOUR_MS);
    assert_eq!(late.next_at, Some(sent_at + 30 * HOUR_MS), "already past the new interval: due now");
}

#[test]
fn a_cadence_change_stops_leads_past_the_new_step_count_and_leaves_paused_leads_alone() {
    let at_step_two = FollowupState { step: 2, next_at: Some(50) };
    assert_eq!(reschedule(&cadence(2), &open_lead(), at_step_two, 0, false, 10), FollowupState { step: 2, next_at: None });
    assert_eq!(reschedule(&cadence(0), &open_lead(), FollowupState { step: 0, next_at: Some(50) }, 0, false, 10).next_at, None, "0 steps turns them off");
    let paused = FollowupState { step: 1, next_at: None };
    assert_eq!(reschedule(&cadence(5), &open_lead(), paused, 0, true, 10), paused, "a lead paused by a reply stays paused");
    let opted_out = LeadFacts { opted_out: true, ..open_lead() };
    assert_eq!(reschedule(&cadence(3), &opted_out, FollowupState { step: 0, next_at: Some(50) }, 0, false, 10).next_at, None);
}

#[test]
fn raising_the_step_count_revives_a_lead_whose_steps_ran_out_unanswered() {
    let sent_at = 1_000;
    // Three follow-ups sent under a maximum of three, none answered: the sequence ended.
    let mut state = next(&cadence(3), &open_lead(), FollowupState::default(), Event::Outbound, 0);
    for _ in 0..3 {
        state = next(&cadence(3), &open_lead(), state, Event::Done, sent_at);
    }
    assert_eq!(state, FollowupState { step: 3, next_at: None });
    let revived = reschedule(&cadence(5), &open_lead(), state, sent_at, false, sent_at + HOUR_MS);
    assert_eq!(revived, FollowupState { step: 3, next_at: Some(sent_at + cadence(5).interval_ms(3)) }, "due one interval after our last message");
    let late = reschedule(&cadence(5), &open_lead(), state, sent_at, false, sent_at + 1_000 * HOUR_MS);
    assert_eq!(late.next_at, Some(sent_at + 1_000 * HOUR_MS), "long past: due now");
    assert_eq!(reschedule(&cadence(3), &open_lead(), state, sent_at, false, sent_at + HOUR_MS), state, "still no steps left");
    assert_eq!(reschedule(&cadence(5), &open_lead(), state, sent_at, true, sent_at + HOUR_MS), state, "answered: paused, not revived");
    let taken_over = LeadFacts { human_takeover: true, ..open_lead() };
    assert_eq!(reschedule(&cadence(5), &taken_over, state, sent_at, false, sent_at + HOUR_MS), state, "a person has the lead");
}

#[test]
fn turning_follow_ups_back_on_revives_a_lead_never_written_to() {
    let created = 0;
    let off = reschedule(&cadence(0), &open_lead(), on_created(&cadence(3), created), created, false, 10);
    assert_eq!(off, FollowupState { step: 0, next_at: None });
    let on = reschedule(&cadence(3), &open_lead(), off, created, false, 20);
    assert_eq!(on, on_created(&cadence(3), created), "as if follow-ups had never been off");
}

proptest! {
    /// Whatever happens, a scheduled follow-up is after the event that scheduled it, the step
    /// never goes back or past the maximum, and a stopped lead never has one.
    #[test]
    fn follow_ups_are_in_the_future_monotonic_and_never_for_stopped_leads(
        events in proptest::collection::vec((any_event(), 0i64..1_000_000, any::<bool>(), any::<bool>(), 0usize..8), 1..40),
        max_steps in 0u8..6,
        overrides in proptest::option::of(proptest::collection::vec(1u32..2160, 1..5)),
    ) {
        let c = Cadence { config: FollowupConfig { preset: Preset::Standard, intervals_hours: overrides, max_steps }, hour_ms: HOUR_MS };
        let mut state = FollowupState::default();
        let mut now = 1_700_000_000_000i64;
        for (event, gap, opted_out, takeover, stage) in events {
            now += gap;
            let facts = LeadFacts { stage: crate::stage::ALL[stage], opted_out: opted_out && gap % 7 == 0, human_takeover: takeover && gap % 5 == 0 };
            let after = next(&c, &facts, state, event, now);
            prop_assert!(after.step >= state.step);
            prop_assert!(after.step <= state.step + 1);
            if let Some(at) = after.next_at {
                prop_assert!(at > now);
                prop_assert!(stop_reason(&facts).is_none());
                prop_assert!(after.step < u32::from(max_steps));
            }
            if event == Event::Done && after.next_at.is_some() {
                prop_assert!(after.next_at.unwrap() - now == c.interval_ms(after.step));
            }
            state = after;
        }
    }

    /// Rescheduling never moves the step, never schedules in the past, never revives a lead
    /// paused by a reply, and agrees with the
    /// cadence: a lead it schedules is due exactly one new interval after its last message
    /// unless that has passed.
    #[test]
    fn rescheduling_keeps_the_step_and_follows_the_new_interval(
        step in 0u32..12, waiting in any::<bool>(), replied in any::<bool>(), max_steps in 0u8..=10, preset in 0usize..3,
        anchor in 0i64..10_000_000_000, elapsed in 0i64..2_000_000_000, stopped in any::<bool>(),
    ) {
        let presets = [Preset::Gentle, Preset::Standard, Preset::Aggressive];
        let c = Cadence { config: FollowupConfig { preset: presets[preset], intervals_hours: None, max_steps }, hour_ms: HOUR_MS };
        let facts = LeadFacts { opted_out: stopped, ..open_lead() };
        let state = FollowupState { step, next_at: waiting.then_some(anchor + 1) };
        let now = anchor + elapsed;
        let after = reschedule(&c, &facts, state, anchor, replied, now);
        prop_assert_eq!(after.step, step);
        match after.next_at {
            None => prop_assert!((!waiting && replied) || stopped || step >= u32::from(max_steps)),
            Some(at) => {
                prop_assert!((waiting || !replied) && !stopped && step < u32::from(max_steps));
                prop_assert_eq!(at, (anchor + c.interval_ms(step)).max(now));
            }
        }
    }
}
