use super::*;
use proptest::prelude::*;

const GOOD: &str = "Hi Sam, I noticed Acme is hiring three SDRs this quarter. We help sales teams ramp new hires in half the time. Would you be open to a 15-minute call next week?";

fn codes(r: &Report) -> Vec<&'static str> {
    r.violations.iter().map(|v| v.code).collect()
}

fn cfg() -> GateConfig {
    GateConfig { forbidden_words: vec!["guarantee".into(), "cheap".into()], other_clients: vec!["Globex".into(), "Initech Labs".into()] }
}

#[test]
fn a_good_draft_passes() {
    let r = check(GOOD, &cfg());
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.violations);
    assert_eq!(r.risk_score, 0);
}

#[test]
fn each_check_fails_on_its_own() {
    let long = format!("{} Would you be open to a call?", "word ".repeat(MAX_WORDS));
    let cases: Vec<(String, &str)> = vec![
        (long, "too_long"),
        ("Hi Sam, just sharing an article we wrote.".into(), "no_call_to_action"),
        (format!("{GOOD} Book a slot on my calendar here."), "several_calls_to_action"),
        ("Hi Sam \u{2014} would you be open to a call?".into(), "em_dash"),
        ("Write to sam.lee@acme.io. Would you be open to a call?".into(), "email_address"),
        ("Ring me on +1 (415) 555-0100. Would you be open to a call?".into(), "phone_number"),
        ("Card 4111 1111 1111 1111 is on file. Would you be open to a call?".into(), "card_number"),
        ("It costs $1,200 a month. Would you be open to a call?".into(), "amount"),
        ("Plans start at 500 USD. Would you be open to a call?".into(), "amount"),
        ("We GUARANTEE results. Would you be open to a call?".into(), "forbidden_word"),
        ("Globex saw great results. Would you be open to a call?".into(), "other_client_named"),
        ("Initech Labs loves it. Would you be open to a call?".into(), "other_client_named"),
        ("".into(), "empty"),
    ];
    for (text, code) in cases {
        let r = check(&text, &cfg());
        assert_eq!(r.verdict, Verdict::Fail, "{code}: {text}");
        assert!(codes(&r).contains(&code), "{code} expected in {:?} for {text}", codes(&r));
        assert!(r.violations.iter().all(|v| !v.suggested_fix.is_empty()));
    }
}

#[test]
fn warnings_do_not_fail() {
    let r = check("Big news!! Would you be open to a quick call?", &GateConfig::default());
    assert_eq!(r.verdict, Verdict::Warn);
    assert_eq!(codes(&r), vec!["exclamations"]);
    let r = check("This is HUGE for your team. Would you be open to a call?", &GateConfig::default());
    assert_eq!(codes(&r), vec!["all_caps"]);
    assert_eq!(r.risk_score, 10);
}

#[test]
fn no_false_alarms_on_ordinary_text() {
    let texts = [
        "In 2026 we grew 3x. Would you be open to a call on the 14th?",
        "We are cheaper than the cheapest tool. Let me know if a short demo helps.",
        "Reply with a time that suits you.",
        "How was the conference? Would a 20-minute demo next Tuesday be worth it?",
    ];
    for t in texts {
        let r = check(t, &cfg());
        assert_eq!(r.verdict, Verdict::Pass, "{t}: {:?}", r.violations);
    }
}

#[test]
fn the_word_limit_is_inclusive() {
    let at_limit = format!("{}Would you be open to a call?", "word ".repeat(MAX_WORDS - 7));
    assert_eq!(check(&at_limit, &GateConfig::default()).word_count, MAX_WORDS);
    assert_eq!(check(&at_limit, &GateConfig::default()).verdict, Verdict::Pass);
}

#[test]
fn personal_data_weighs_most() {
    let email = check("Mail sam@acme.io. Would you be open to a call?", &GateConfig::default());
    let dash = check("Hi \u{2014} would you be open to a call?", &GateConfig::default());
    assert!(email.risk_score > dash.risk_score);
}

proptest! {
    #[test]
    fn verdict_and_risk_are_consistent(text in "[a-zA-Z0-9 @.,!?$\u{2014}-]{0,300}") {
        let r = check(&text, &cfg());
        prop_assert!(r.risk_score <= 100);
        let any_fail = r.violations.iter().any(|v| v.severity == Severity::Fail);
        prop_assert_eq!(r.verdict == Verdict::Fail, any_fail);
        prop_assert_eq!(r.verdict == Verdict::Pass, r.violations.is_empty());
        prop_assert_eq!(r.risk_score == 0, r.violations.is_empty());
        prop_assert_eq!(check(&text, &cfg()), r);
    }

    #[test]
    fn adding_a_violation_never_lowers_risk(text in "[a-z ]{0,80}") {
        let base = check(&format!("{text} Would you be open to a call?"), &cfg());
        let worse = check(&format!("{text} \u{2014} Would you be open to a call?"), &cfg());
        prop_assert!(worse.risk_score >= base.risk_score);
    }
}
