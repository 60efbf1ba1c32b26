//! The golden table: each case is a send request at a named instant, with the facts, and the
//! decision the safety floor requires. Dates: 2026-11-24 is a Tuesday; 2026-03-08 and
//! 2026-11-01 are the US daylight-saving changes; 2026-03-29 and 2026-10-25 the EU ones.

use chrono::DateTime;
use policy::tzdb::ChronoTz;
use policy::*;

fn t(s: &str) -> Millis {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).timestamp_millis()
}

#[derive(Clone)]
struct Case {
    name: &'static str,
    now: &'static str,
    zone: Option<&'static str>,
    settings: OrgSettings,
    contact: Contact,
    history: ContactHistory,
    request: SendRequest,
}

#[derive(Debug, PartialEq)]
enum Expect {
    Allow,
    Deny(Vec<&'static str>),
    Defer(&'static str, Vec<&'static str>),
    Review,
}

fn base(name: &'static str, now: &'static str) -> Case {
    Case {
        name,
        now,
        zone: Some("Europe/London"),
        settings: OrgSettings { mode: Mode::SendAllowed, ..OrgSettings::default() },
        contact: Contact::default(),
        history: ContactHistory::default(),
        request: SendRequest { contact_id: "lead_1".into(), origin: Origin::Autonomous, confidence: 90, risk: 10 },
    }
}

impl Case {
    fn zone(mut self, z: Option<&'static str>) -> Self {
        self.zone = z;
        self
    }
    fn settings(mut self, f: impl FnOnce(&mut OrgSettings)) -> Self {
        f(&mut self.settings);
        self
    }
    fn contact(mut self, f: impl FnOnce(&mut Contact)) -> Self {
        f(&mut self.contact);
        self
    }
    fn human(mut self) -> Self {
        self.request.origin = Origin::Human;
        self
    }
    fn out(mut self, at: &str) -> Self {
        self.history.events.push(HistoryEvent::Outbound(t(at)));
        self
    }
    fn reply(mut self, at: &str) -> Self {
        self.history.events.push(HistoryEvent::Inbound(t(at)));
        self
    }
    fn org_sends(mut self, at: &[&str]) -> Self {
        self.history.org_sends.extend(at.iter().map(|s| t(s)));
        self
    }
    fn request(mut self, confidence: u8, risk: u8) -> Self {
        self.request.confidence = confidence;
        self.request.risk = risk;
        self
    }
    fn run(&self) -> Decision {
        let mut contact = self.contact.clone();
        contact.zone = match self.zone {
            Some(z) => ContactZone::Known(z.to_owned()),
            None => ContactZone::Unknown,
        };
        decide(&self.request, &contact, &self.history, &self.settings, &ChronoTz, t(self.now))
    }
}

fn outcome(d: &Decision) -> Expect {
    let reasons: Vec<&'static str> = d.reasons.iter().map(|r| r.as_str()).collect();
    match d.verdict {
        Verdict::Allow => Expect::Allow,
        Verdict::Deny => Expect::Deny(reasons),
        Verdict::Review => Expect::Review,
        Verdict::Defer { until } => {
            let s = DateTime::from_timestamp_millis(until).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Expect::Defer(Box::leak(s.into_boxed_str()), reasons)
        }
    }
}

const TUE_NOON: &str = "2026-11-24T12:00:00Z";

fn table() -> Vec<(Case, Expect)> {
    use Expect::*;
    let no_sunday = |s: &mut OrgSettings| s.sunday_hold = false;
    vec![
        (base("baseline: weekday afternoon, send allowed", TUE_NOON), Allow),
        (base("draft-only mode refuses autonomous sends", TUE_NOON).settings(|s| s.mode = Mode::DraftOnly), Deny(vec!["DRAFT_ONLY_MODE"])),
        (base("draft-only mode lets a person send", TUE_NOON).settings(|s| s.mode = Mode::DraftOnly).human(), Allow),
        (base("the default settings are draft-only", TUE_NOON).settings(|s| *s = OrgSettings::default()), Deny(vec!["DRAFT_ONLY_MODE"])),
        (base("kill switch blocks the agent", TUE_NOON).settings(|s| s.kill_switch = true), Deny(vec!["KILL_SWITCH_ON"])),
        (base("kill switch blocks people too", TUE_NOON).settings(|s| s.kill_switch = true).human(), Deny(vec!["KILL_SWITCH_ON"])),
        (base("kill switch and takeover", TUE_NOON).settings(|s| s.kill_switch = true).contact(|c| c.human_takeover = true), Deny(vec!["KILL_SWITCH_ON", "HUMAN_TAKEOVER"])),
        (base("opt-out is final", TUE_NOON).contact(|c| c.opted_out = true), Deny(vec!["CONTACT_OPTED_OUT"])),
        (base("opt-out binds people too", TUE_NOON).contact(|c| c.opted_out = true).human(), Deny(vec!["CONTACT_OPTED_OUT"])),
        (base("opt-out with a recent reply", TUE_NOON).contact(|c| c.opted_out = true).reply("2026-11-24T11:00:00Z"), Deny(vec!["CONTACT_OPTED_OUT"])),
        (base("human takeover blocks the agent", TUE_NOON).contact(|c| c.human_takeover = true), Deny(vec!["HUMAN_TAKEOVER"])),
        (base("human takeover lets the person send", TUE_NOON).contact(|c| c.human_takeover = true).human(), Allow),
        (base("bounced contact on the suppression list", TUE_NOON).contact(|c| c.suppressed_until = Some(t("2026-12-01T00:00:00Z"))), Deny(vec!["CONTACT_SUPPRESSED"])),
        (base("suppression that has expired", TUE_NOON).contact(|c| c.suppressed_until = Some(t("2026-11-24T11:59:59Z"))), Allow),
        (base("24 h: one send 23h59m ago", TUE_NOON).out("2026-11-23T12:01:00Z"), Defer("2026-11-24T12:01:00Z", vec!["CONTACT_24H_LIMIT"])),
        (base("24 h: exactly 24 hours later is allowed", TUE_NOON).out("2026-11-23T12:00:00Z"), Allow),
        (base("24 h: one millisecond short", "2026-11-24T11:59:59.999Z").out("2026-11-23T12:00:00Z"), Defer("2026-11-24T12:00:00Z", vec!["CONTACT_24H_LIMIT"])),
        (base("24 h deferral landing in quiet hours moves to 09:00", TUE_NOON).out("2026-11-23T22:00:00Z"), Defer("2026-11-25T09:00:00Z", vec!["CONTACT_24H_LIMIT"])),
        (base("24 h applies to people as well", TUE_NOON).out("2026-11-24T10:00:00Z").human(), Defer("2026-11-25T10:00:00Z", vec!["CONTACT_24H_LIMIT"])),
        (base("quiet hours start at 21:00", "2026-11-24T21:00:00Z"), Defer("2026-11-25T09:00:00Z", vec!["QUIET_HOURS"])),
        (base("20:59:59 is still allowed", "2026-11-24T20:59:59Z"), Allow),
        (base("08:59:59 waits for 09:00", "2026-11-24T08:59:59Z"), Defer("2026-11-24T09:00:00Z", vec!["QUIET_HOURS"])),
        (base("09:00 sharp is allowed", "2026-11-24T09:00:00Z"), Allow),
        (base("Sunday hold", "2026-11-22T12:00:00Z"), Defer("2026-11-23T09:00:00Z", vec!["SUNDAY_HOLD"])),
        (base("Sunday hold can be switched off", "2026-11-22T12:00:00Z").settings(no_sunday), Allow),
        (base("Saturday night waits through Sunday", "2026-11-21T23:00:00Z"), Defer("2026-11-23T09:00:00Z", vec!["QUIET_HOURS"])),
        (base("US spring forward: 01:30 EST waits for 09:00 EDT", "2026-03-08T06:30:00Z").zone(Some("America/New_York")).settings(no_sunday), Defer("2026-03-08T13:00:00Z", vec!["QUIET_HOURS"])),
        (base("US spring forward: 08:30 EDT", "2026-03-08T12:30:00Z").zone(Some("America/New_York")).settings(no_sunday), Defer("2026-03-08T13:00:00Z", vec!["QUIET_HOURS"])),
        (base("US fall back: 01:30 EDT (first pass) waits for 09:00 EST", "2026-11-01T05:30:00Z").zone(Some("America/New_York")).settings(no_sunday), Defer("2026-11-01T14:00:00Z", vec!["QUIET_HOURS"])),
        (base("US fall back: 09:00 EST is allowed", "2026-11-01T14:00:00Z").zone(Some("America/New_York")).settings(no_sunday), Allow),
        (base("EU spring forward: 08:30 CEST waits", "2026-03-29T06:30:00Z").zone(Some("Europe/Berlin")).settings(no_sunday), Defer("2026-03-29T07:00:00Z", vec!["QUIET_HOURS"])),
        (base("EU spring forward: 09:30 CEST is allowed", "2026-03-29T07:30:00Z").zone(Some("Europe/Berlin")).settings(no_sunday), Allow),
        (base("EU fall back: 08:30 CET waits for 09:00 CET", "2026-10-25T07:30:00Z").zone(Some("Europe/Berlin")).settings(no_sunday), Defer("2026-10-25T08:00:00Z", vec!["QUIET_HOURS"])),
        (base("EU fall back: 20:30 CET is allowed", "2026-10-25T19:30:00Z").zone(Some("Europe/Berlin")).settings(no_sunday), Allow),
        (base("UTC+14: Tuesday 22:00 in Kiritimati", "2026-11-24T08:00:00Z").zone(Some("Pacific/Kiritimati")), Defer("2026-11-24T19:00:00Z", vec!["QUIET_HOURS"])),
        (base("UTC+14: already Sunday there while Saturday in UTC", "2026-11-21T12:00:00Z").zone(Some("Pacific/Kiritimati")), Defer("2026-11-22T19:00:00Z", vec!["QUIET_HOURS", "SUNDAY_HOLD"])),
        (base("UTC+14: Monday 10:00 there is allowed", "2026-11-22T20:00:00Z").zone(Some("Pacific/Kiritimati")), Allow),
        (base("UTC-12: still Sunday night there on Monday UTC", "2026-11-23T10:00:00Z").zone(Some("Etc/GMT+12")), Defer("2026-11-23T21:00:00Z", vec!["QUIET_HOURS", "SUNDAY_HOLD"])),
        (base("UTC-12: Tuesday 11:00 there", "2026-11-24T23:00:00Z").zone(Some("Etc/GMT+12")), Allow),
        (base("unknown zone, default UTC", TUE_NOON).zone(None), Allow),
        (base("a zone name nobody knows is an unknown zone", "2026-11-24T19:30:00Z").zone(Some("Mars/Olympus_Mons")).settings(|s| s.default_zone = "Europe/Berlin".into()), Defer("2026-11-25T08:00:00Z", vec!["QUIET_HOURS"])),
        (base("unknown zone, default Berlin: allowed under CET and CEST", "2026-11-24T08:30:00Z").zone(None).settings(|s| s.default_zone = "Europe/Berlin".into()), Allow),
        (base("unknown zone, default Berlin: 20:30 CET is 21:30 CEST, so wait", "2026-11-24T19:30:00Z").zone(None).settings(|s| s.default_zone = "Europe/Berlin".into()), Defer("2026-11-25T08:00:00Z", vec!["QUIET_HOURS"])),
        (base("4 unanswered: the 5th may go", TUE_NOON).out("2026-11-22T11:00:00Z").out("2026-11-20T12:00:00Z").out("2026-11-18T12:00:00Z").out("2026-11-16T12:00:00Z").settings(|s| s.contact_weekly_cap = 10), Allow),
        (base("5 unanswered: the 6th is refused", TUE_NOON).out("2026-11-22T11:00:00Z").out("2026-11-20T12:00:00Z").out("2026-11-18T12:00:00Z").out("2026-11-16T12:00:00Z").out("2026-11-14T12:00:00Z").settings(|s| s.contact_weekly_cap = 10), Deny(vec!["UNANSWERED_LIMIT"])),
        (base("a reply resets the unanswered count", TUE_NOON).out("2026-11-22T11:00:00Z").out("2026-11-20T12:00:00Z").reply("2026-11-19T08:00:00Z").out("2026-11-18T12:00:00Z").out("2026-11-16T12:00:00Z").out("2026-11-14T12:00:00Z").settings(|s| s.contact_weekly_cap = 10), Allow),
        (base("14 days: a send exactly 14 days ago no longer counts", TUE_NOON).out("2026-11-22T11:00:00Z").out("2026-11-20T12:00:00Z").out("2026-11-18T12:00:00Z").out("2026-11-16T12:00:00Z").out("2026-11-10T12:00:00Z").settings(|s| s.contact_weekly_cap = 10), Allow),
        (base("14 days: one millisecond inside still counts", TUE_NOON).out("2026-11-22T11:00:00Z").out("2026-11-20T12:00:00Z").out("2026-11-18T12:00:00Z").out("2026-11-16T12:00:00Z").out("2026-11-10T12:00:00.001Z").settings(|s| s.contact_weekly_cap = 10), Deny(vec!["UNANSWERED_LIMIT"])),
        (base("the unanswered limit binds people too", TUE_NOON).human().out("2026-11-22T11:00:00Z").out("2026-11-20T12:00:00Z").out("2026-11-18T12:00:00Z").out("2026-11-16T12:00:00Z").out("2026-11-14T12:00:00Z").settings(|s| s.contact_weekly_cap = 10), Deny(vec!["UNANSWERED_LIMIT"])),
        (base("weekly cap per contact", TUE_NOON).out("2026-11-22T11:00:00Z").out("2026-11-20T12:00:00Z").out("2026-11-18T12:00:00Z"), Defer("2026-11-25T12:00:00Z", vec!["CONTACT_WEEKLY_CAP"])),
        (base("org daily quota", TUE_NOON).settings(|s| s.daily_quota = 2).org_sends(&["2026-11-24T11:00:00Z", "2026-11-24T10:00:00Z"]), Defer("2026-11-25T10:00:00Z", vec!["ORG_DAILY_QUOTA"])),
        (base("org weekly quota", TUE_NOON).settings(|s| s.weekly_quota = 3).org_sends(&["2026-11-23T12:00:00Z", "2026-11-22T12:00:00Z", "2026-11-21T12:00:00Z"]), Defer("2026-11-28T12:00:00Z", vec!["ORG_WEEKLY_QUOTA"])),
        (base("a quota of zero refuses", TUE_NOON).settings(|s| s.daily_quota = 0), Deny(vec!["ORG_DAILY_QUOTA"])),
        (base("blocked industry, any case", TUE_NOON).settings(|s| s.guardrails.blocked_industries = vec!["Gambling".into()]).contact(|c| c.industry = Some("gambling".into())), Deny(vec!["INDUSTRY_BLOCKED"])),
        (base("company stage not allowed", TUE_NOON).settings(|s| s.guardrails.allowed_stages = vec!["series_a".into()]).contact(|c| c.company_stage = Some("seed".into())), Deny(vec!["STAGE_NOT_ALLOWED"])),
        (base("too many employees", TUE_NOON).settings(|s| s.guardrails.max_employees = Some(500)).contact(|c| c.employees = Some(501)), Deny(vec!["EMPLOYEE_COUNT_OUT_OF_RANGE"])),
        (base("unknown size with a size guardrail", TUE_NOON).settings(|s| s.guardrails.min_employees = Some(10)), Deny(vec!["EMPLOYEE_COUNT_OUT_OF_RANGE"])),
        (base("size at the bound", TUE_NOON).settings(|s| s.guardrails.min_employees = Some(10)).contact(|c| c.employees = Some(10)), Allow),
        (base("guardrails do not bind a person", TUE_NOON).settings(|s| s.guardrails.blocked_industries = vec!["gambling".into()]).contact(|c| c.industry = Some("gambling".into())).human(), Allow),
        (base("low confidence goes to strategy review", TUE_NOON).request(40, 10), Review),
        (base("high risk goes to strategy review", TUE_NOON).request(90, 80), Review),
        (base("review during quiet hours is still review", "2026-11-24T22:00:00Z").request(10, 10), Review),
        (base("denial outranks review", TUE_NOON).request(10, 90).contact(|c| c.opted_out = true), Deny(vec!["CONTACT_OPTED_OUT"])),
    ]
}

#[test]
fn golden_table() {
    let cases = table();
    assert!(cases.len() >= 40, "at least 40 cases");
    let mut failures = Vec::new();
    for (case, expected) in &cases {
        let d = case.run();
        let got = outcome(&d);
        if &got != expected {
            failures.push(format!("{}: expected {:?}, got {:?}", case.name, expected, got));
        }
        assert_eq!(d.permit().is_some(), d.verdict == Verdict::Allow, "{}: a permit exactly when allowed", case.name);
        assert_eq!(d.rule_trace.len(), 14, "{}: every rule is traced", case.name);
    }
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_case_with_the_kill_switch_is_denied_for_it() {
    for (case, _) in table() {
        let d = case.clone().settings(|s| s.kill_switch = true).run();
        assert_eq!(d.verdict, Verdict::Deny, "{}", case.name);
        assert!(d.reasons.contains(&ReasonCode::KillSwitchOn), "{}", case.name);
    }
}

#[test]
fn every_autonomous_case_under_takeover_is_denied_for_it() {
    for (case, _) in table().into_iter().filter(|(c, _)| c.request.origin == Origin::Autonomous) {
        let d = case.clone().contact(|c| c.human_takeover = true).run();
        assert_eq!(d.verdict, Verdict::Deny, "{}", case.name);
        assert!(d.reasons.contains(&ReasonCode::HumanTakeover), "{}", case.name);
    }
}

#[test]
fn decisions_are_reproducible() {
    for (case, _) in table() {
        assert_eq!(case.run(), case.run(), "{}", case.name);
    }
}

#[test]
fn deferrals_name_a_time_when_the_send_would_pass() {
    for (case, _) in table() {
        if let Verdict::Defer { until } = case.run().verdict {
            let mut later = case.clone();
            let stamp = DateTime::from_timestamp_millis(until).unwrap().to_rfc3339();
            later.now = Box::leak(stamp.into_boxed_str());
            assert_eq!(later.run().verdict, Verdict::Allow, "{} at {}", case.name, later.now);
        }
    }
}

#[test]
fn reason_codes_serialise_as_their_stable_names() {
    for (case, _) in table() {
        let d = case.run();
        let json = serde_json::to_value(&d.reasons).unwrap();
        let names: Vec<&str> = d.reasons.iter().map(|r| r.as_str()).collect();
        assert_eq!(json, serde_json::json!(names), "{}", case.name);
        let trace = serde_json::to_value(&d.rule_trace).unwrap();
        for (t, rule) in trace.as_array().unwrap().iter().zip(&d.rule_trace) {
            if let RuleOutcome::Deny { reason } | RuleOutcome::Review { reason } | RuleOutcome::Defer { reason, .. } = rule.outcome {
                assert_eq!(t["reason"], reason.as_str());
            }
        }
    }
}
