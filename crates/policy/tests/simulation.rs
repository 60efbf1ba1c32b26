//! A randomised simulation: many contacts, replies, opt-outs, takeovers, kill-switch windows and
//! send attempts over 90 days. Every attempt asks the engine; allowed ones are recorded as sent.
//! Then an independent checker, written separately from the engine and sharing none of its
//! code, replays what was sent and looks for any broken rule.

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use policy::tzdb::ChronoTz;
use policy::*;
use proptest::prelude::*;

const START: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const SPAN: Millis = 90 * DAY;
const ZONES: &[Option<&str>] = &[Some("Europe/London"), Some("America/New_York"), Some("Pacific/Kiritimati"), Some("Etc/GMT+12"), Some("Australia/Lord_Howe"), Some("Asia/Kolkata"), None];
const DEFAULT_ZONES: &[Tz] = &[chrono_tz::UTC, chrono_tz::Europe::Berlin, chrono_tz::America::New_York];

#[derive(Debug, Clone)]
struct World {
    settings: OrgSettings,
    contacts: Vec<SimContact>,
    kill_windows: Vec<(Millis, Millis)>,
    attempts: Vec<Attempt>,
}

#[derive(Debug, Clone)]
struct SimContact {
    zone: Option<Tz>,
    opt_out_at: Option<Millis>,
    takeover: bool,
    replies: Vec<Millis>,
}

#[derive(Debug, Clone, Copy)]
struct Attempt {
    at: Millis,
    contact: usize,
    origin: Origin,
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Millis,
    contact: usize,
    origin: Origin,
}

fn world() -> impl Strategy<Value = World> {
    let contact = (0..ZONES.len(), proptest::option::weighted(0.2, 0..SPAN), proptest::bool::weighted(0.15), proptest::collection::vec(0..SPAN, 0..6)).prop_map(|(z, opt, takeover, replies)| SimContact {
        zone: ZONES[z].map(|n| n.parse().unwrap()),
        opt_out_at: opt.map(|o| START + o),
        takeover,
        replies: replies.into_iter().map(|r| START + r).collect(),
    });
    let settings = (proptest::bool::weighted(0.85), any::<bool>(), 0..DEFAULT_ZONES.len(), 1u32..30, 1u32..80, 1u32..4).prop_map(|(send_allowed, sunday_hold, dz, daily, weekly, cap)| OrgSettings {
        mode: if send_allowed { Mode::SendAllowed } else { Mode::DraftOnly },
        sunday_hold,
        default_zone: DEFAULT_ZONES[dz].name().to_owned(),
        daily_quota: daily,
        weekly_quota: weekly,
        contact_weekly_cap: cap,
        ..OrgSettings::default()
    });
    let kill = proptest::collection::vec((0..SPAN, 1..(3 * DAY)), 0..3).prop_map(|w| w.into_iter().map(|(s, len)| (START + s, START + s + len)).collect::<Vec<_>>());
    (settings, proptest::collection::vec(contact, 1..8), kill, proptest::collection::vec((0..SPAN, any::<prop::sample::Index>(), proptest::bool::weighted(0.8)), 50..400)).prop_map(|(settings, contacts, kill_windows, raw)| {
        let mut attempts: Vec<Attempt> = raw
            .into_iter()
            .map(|(at, idx, auto)| Attempt { at: START + at, contact: idx.index(contacts.len()), origin: if auto { Origin::Autonomous } else { Origin::Human } })
            .collect();
        attempts.sort_by_key(|a| a.at);
        World { settings, contacts, kill_windows, attempts }
    })
}

/// Runs every attempt through the engine, in time order, recording what was allowed.
fn simulate(w: &World) -> Vec<Sent> {
    let mut sent: Vec<Sent> = Vec::new();
    for a in &w.attempts {
        let c = &w.contacts[a.contact];
        let mut events: Vec<HistoryEvent> = c.replies.iter().filter(|r| **r <= a.at).map(|r| HistoryEvent::Inbound(*r)).collect();
        events.extend(sent.iter().filter(|s| s.contact == a.contact).map(|s| HistoryEvent::Outbound(s.at)));
        let history = ContactHistory { events, org_sends: sent.iter().map(|s| s.at).collect() };
        let contact = Contact {
            zone: c.zone.map_or(ContactZone::Unknown, |z| ContactZone::Known(z.name().to_owned())),
            opted_out: c.opt_out_at.is_some_and(|o| o <= a.at),
            human_takeover: c.takeover,
            ..Contact::default()
        };
        let settings = OrgSettings { kill_switch: w.kill_windows.iter().any(|(s, e)| *s <= a.at && a.at < *e), ..w.settings.clone() };
        let request = SendRequest { contact_id: format!("c{}", a.contact), origin: a.origin, confidence: 90, risk: 10 };
        let d = decide(&request, &contact, &history, &settings, &ChronoTz, a.at);
        if let Verdict::Defer { until } = d.verdict {
            assert!(until > a.at, "a deferral names a later time");
        }
        if let Some(permit) = d.permit() {
            assert_eq!(permit.contact_id(), request.contact_id);
            sent.push(Sent { at: a.at, contact: a.contact, origin: a.origin });
        }
    }
    sent
}

// ---- The independent checker: brute force over what was sent. ----

fn local_hours_and_days(zone: Option<Tz>, default_zone: Tz, at: Millis) -> Vec<(u32, Weekday)> {
    let utc: DateTime<Utc> = Utc.timestamp_millis_opt(at).unwrap();
    match zone {
        Some(tz) => {
            let l = utc.with_timezone(&tz);
            vec![(l.hour(), l.weekday())]
        }
        None => {
            // Strictest reading: the default zone's winter and summer offsets.
            [1, 7]
                .iter()
                .map(|month| {
                    let probe = Utc.with_ymd_and_hms(utc.year(), *month, 1, 12, 0, 0).unwrap();
                    let off = default_zone.offset_from_utc_datetime(&probe.naive_utc()).fix();
                    let l = utc.with_timezone(&off);
                    (l.hour(), l.weekday())
                })
                .collect()
        }
    }
}

fn violations(w: &World, sent: &[Sent]) -> Vec<String> {
    let mut v = Vec::new();
    for (i, s) in sent.iter().enumerate() {
        let c = &w.contacts[s.contact];
        let earlier: Vec<&Sent> = sent[..i].iter().filter(|p| p.contact == s.contact).collect();
        if earlier.iter().any(|p| s.at - p.at < DAY) {
            v.push(format!("two sends to contact {} within 24 h at {}", s.contact, s.at));
        }
        if earlier.iter().filter(|p| s.at - p.at < 7 * DAY).count() >= w.settings.contact_weekly_cap as usize {
            v.push(format!("contact weekly cap broken at {}", s.at));
        }
        let org_day = sent[..i].iter().filter(|p| s.at - p.at < DAY).count();
        let org_week = sent[..i].iter().filter(|p| s.at - p.at < 7 * DAY).count();
        if org_day >= w.settings.daily_quota as usize || org_week >= w.settings.weekly_quota as usize {
            v.push(format!("org quota broken at {}", s.at));
        }
        for (hour, day) in local_hours_and_days(c.zone, w.settings.default_zone.parse().unwrap(), s.at) {
            if !(9..21).contains(&hour) {
                v.push(format!("send in quiet hours ({hour}:00 local) at {}", s.at));
            }
            if w.settings.sunday_hold && day == Weekday::Sun {
                v.push(format!("send on a local Sunday at {}", s.at));
            }
        }
        let last_reply = c.replies.iter().copied().filter(|r| *r <= s.at).max();
        let unanswered = earlier.iter().filter(|p| s.at - p.at < 14 * DAY && last_reply.is_none_or(|r| p.at > r)).count();
        if unanswered >= 5 {
            v.push(format!("send after {unanswered} unanswered at {}", s.at));
        }
        if c.opt_out_at.is_some_and(|o| o <= s.at) {
            v.push(format!("send after opt-out at {}", s.at));
        }
        if w.kill_windows.iter().any(|(a, b)| *a <= s.at && s.at < *b) {
            v.push(format!("send under the kill switch at {}", s.at));
        }
        if s.origin == Origin::Autonomous && (c.takeover || w.settings.mode == Mode::DraftOnly) {
            v.push(format!("autonomous send under takeover or draft-only at {}", s.at));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_rule_is_ever_broken(w in world()) {
        let sent = simulate(&w);
        let found = violations(&w, &sent);
        prop_assert!(found.is_empty(), "{:#?}", found);
    }
}

#[test]
fn the_simulation_does_send_things() {
    // Guards against a vacuous pass: in a permissive world most well-spaced attempts go out.
    let w = World {
        settings: OrgSettings { mode: Mode::SendAllowed, sunday_hold: false, ..OrgSettings::default() },
        contacts: vec![SimContact { zone: Some(chrono_tz::UTC), opt_out_at: None, takeover: false, replies: (0..30).map(|d| START + d * 3 * DAY + 13 * 3_600_000).collect() }],
        kill_windows: vec![],
        attempts: (0..30).map(|d| Attempt { at: START + d * 3 * DAY + 12 * 3_600_000, contact: 0, origin: Origin::Autonomous }).collect(),
    };
    let sent = simulate(&w);
    assert_eq!(sent.len(), 30);
    assert!(violations(&w, &sent).is_empty());
    let mut broken = sent.clone();
    broken.push(Sent { at: sent[0].at + 3_600_000, contact: 0, origin: Origin::Autonomous });
    broken.sort_by_key(|s| s.at);
    assert!(!violations(&w, &broken).is_empty(), "the checker catches a second send within 24 h");
}
