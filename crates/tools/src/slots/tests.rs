use super::*;
use policy::tzdb::ChronoTz;
use proptest::prelude::*;

/// An instant given as UTC date and time.
fn utc(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
    days_from_civil(y, mo, d) * DAY_MS + (h * 60 + mi) * MINUTE_MS
}

fn propose(zone: &str, now: i64, busy: &[Busy], holidays: &[(i32, u32, u32)], days_ahead: u8) -> Vec<Slot> {
    let slots = propose_meeting_slots(&ChronoTz, zone, now, busy, holidays, days_ahead).unwrap();
    for (i, s) in slots.iter().enumerate() {
        assert_eq!(usize::from(s.rank), i + 1, "returned in rank order");
        assert_eq!(s.end_ms - s.start_ms, 30 * MINUTE_MS);
    }
    slots
}

fn locals(slots: &[Slot]) -> Vec<&str> {
    slots.iter().map(|s| s.local_start.as_str()).collect()
}

fn starts(slots: &[Slot]) -> Vec<i64> {
    slots.iter().map(|s| s.start_ms).collect()
}

fn busy(start_ms: i64, end_ms: i64) -> Busy {
    Busy { start_ms, end_ms }
}

/// A zone that changes offset once, at `at_ms`, to exercise changes inside business hours,
/// which no real zone has.
struct Shift {
    at_ms: i64,
    before: i32,
    after: i32,
}

impl ZoneRules for Shift {
    fn offset_seconds(&self, zone: &str, utc_ms: i64) -> Option<i32> {
        (zone == "Test/Shift").then_some(if utc_ms < self.at_ms { self.before } else { self.after })
    }
}

/// All free slots of a local day, as `(HH:MM, start_ms)`, in time order.
fn free_on(rules: &impl ZoneRules, y: i64, m: u32, d: u32) -> Vec<(String, i64)> {
    let day = days_from_civil(y, m, d);
    free_slots(rules, "Test/Shift", day, &[]).into_iter().map(|c| (c.local_start()[11..].to_owned(), c.start_ms)).collect()
}

#[test]
fn every_weekday_as_today() {
    // 2026-11-23 is a Monday.
    let expected = [
        (23, ["2026-11-24T10:00", "2026-11-25T10:00", "2026-11-26T10:00"]),
        (24, ["2026-11-25T10:00", "2026-11-26T10:00", "2026-11-27T10:00"]),
        (25, ["2026-11-26T10:00", "2026-11-27T10:00", "2026-11-30T10:00"]),
        (26, ["2026-11-27T10:00", "2026-11-30T10:00", "2026-12-01T10:00"]),
        (27, ["2026-11-30T10:00", "2026-12-01T10:00", "2026-12-02T10:00"]),
        (28, ["2026-11-30T10:00", "2026-12-01T10:00", "2026-12-02T10:00"]),
        (29, ["2026-11-30T10:00", "2026-12-01T10:00", "2026-12-02T10:00"]),
    ];
    for (day, want) in expected {
        // Today is excluded however early or late it is.
        for (h, mi) in [(0, 0), (6, 0), (12, 0), (23, 59)] {
            let slots = propose("UTC", utc(2026, 11, day, h, mi), &[], &[], 3);
            assert_eq!(locals(&slots), want, "today 2026-11-{day} {h}:{mi}");
        }
    }
    let slots = propose("UTC", utc(2026, 11, 23, 12, 0), &[], &[], 3);
    assert_eq!(starts(&slots), [utc(2026, 11, 24, 10, 0), utc(2026, 11, 25, 10, 0), utc(2026, 11, 26, 10, 0)]);
}

#[test]
fn ranking_prefers_ten_then_two_then_the_earliest_and_spreads_over_days() {
    let now = utc(2026, 11, 23, 12, 0);
    let rank = |busy: &[Busy], days| propose("UTC", now, busy, &[], days);
    assert_eq!(locals(&rank(&[], 1)), ["2026-11-24T10:00", "2026-11-24T14:00", "2026-11-24T09:00"]);
    assert_eq!(locals(&rank(&[], 2)), ["2026-11-24T10:00", "2026-11-25T10:00", "2026-11-24T14:00"]);
    assert_eq!(locals(&rank(&[], 3)), ["2026-11-24T10:00", "2026-11-25T10:00", "2026-11-26T10:00"]);

    let ten = busy(utc(2026, 11, 24, 10, 0), utc(2026, 11, 24, 10, 30));
    let two = busy(utc(2026, 11, 24, 14, 0), utc(2026, 11, 24, 14, 30));
    assert_eq!(locals(&rank(&[ten], 3)), ["2026-11-24T14:00", "2026-11-25T10:00", "2026-11-26T10:00"]);
    assert_eq!(locals(&rank(&[ten, two], 1)), ["2026-11-24T09:00", "2026-11-24T09:30", "2026-11-24T10:30"]);
    let morning = busy(utc(2026, 11, 24, 9, 0), utc(2026, 11, 24, 11, 0));
    let afternoon = busy(utc(2026, 11, 24, 13, 30), utc(2026, 11, 24, 15, 0));
    assert_eq!(locals(&rank(&[morning, afternoon], 1)), ["2026-11-24T11:00", "2026-11-24T11:30", "2026-11-24T12:00"]);
}

#[test]
fn a_fully_busy_day_moves_the_proposals_on() {
    let now = utc(2026, 11, 23, 12, 0);
    let tuesday = busy(utc(2026, 11, 24, 0, 0), utc(2026, 11, 25, 0, 0));
    let wednesday = busy(utc(2026, 11, 25, 9, 0), utc(2026, 11, 25, 17, 0));
    assert_eq!(locals(&propose("UTC", now, &[tuesday], &[], 3)), ["2026-11-25T10:00", "2026-11-26T10:00", "2026-11-25T14:00"]);
    assert_eq!(locals(&propose("UTC", now, &[tuesday, wednesday], &[], 3)), ["2026-11-26T10:00", "2026-11-26T14:00", "2026-11-26T09:00"]);
}

#[test]
fn fewer_than_three_only_when_fewer_exist() {
    let now = utc(2026, 11, 23, 12, 0);
    let all_but_last = busy(utc(2026, 11, 24, 9, 0), utc(2026, 11, 24, 16, 30));
    let slots = propose("UTC", now, &[all_but_last], &[], 1);
    assert_eq!(locals(&slots), ["2026-11-24T16:30"]);
    assert_eq!(slots[0].rank, 1);
    let everything = busy(now, utc(2026, 12, 31, 0, 0));
    assert_eq!(propose("UTC", now, &[everything], &[], 3), []);
    // The horizon does not stretch: a busy day inside it is not replaced by a later one.
    let tuesday = busy(utc(2026, 11, 24, 9, 0), utc(2026, 11, 24, 17, 0));
    assert_eq!(propose("UTC", now, &[tuesday], &[], 1), []);
}

#[test]
fn busy_intervals_are_half_open() {
    let now = utc(2026, 11, 23, 12, 0);
    let first = |b: Busy| propose("UTC", now, &[b], &[], 1)[0].local_start.clone();
    let at = |h, mi| utc(2026, 11, 24, h, mi);
    // Touching the slot's edges leaves it free.
    assert_eq!(first(busy(at(9, 0), at(10, 0))), "2026-11-24T10:00");
    assert_eq!(first(busy(at(10, 30), at(11, 0))), "2026-11-24T10:00");
    // One millisecond inside takes it.
    assert_eq!(first(busy(at(9, 0), at(10, 0) + 1)), "2026-11-24T14:00");
    assert_eq!(first(busy(at(10, 30) - 1, at(11, 0))), "2026-11-24T14:00");
    assert_eq!(first(busy(at(10, 0), at(10, 30))), "2026-11-24T14:00");
    assert_eq!(first(busy(at(10, 10), at(10, 20))), "2026-11-24T14:00");
    // Empty and inverted intervals block nothing.
    assert_eq!(first(busy(at(10, 15), at(10, 15))), "2026-11-24T10:00");
    assert_eq!(first(busy(at(10, 30), at(10, 0))), "2026-11-24T10:00");
}

#[test]
fn holidays_are_local_dates() {
    let now = utc(2026, 11, 25, 12, 0);
    let holidays = [(2026, 11, 26), (2026, 11, 27)];
    assert_eq!(locals(&propose("UTC", now, &[], &holidays, 3)), ["2026-11-30T10:00", "2026-12-01T10:00", "2026-12-02T10:00"]);
    // Impossible dates are ignored rather than landing on a neighbouring day (30 Feb is not 2 Mar).
    let friday = utc(2026, 2, 27, 12, 0);
    assert_eq!(locals(&propose("UTC", friday, &[], &[(2026, 2, 30), (2026, 13, 1)], 1)), ["2026-03-02T10:00", "2026-03-02T14:00", "2026-03-02T09:00"]);
    // On Kiritimati it is already Wednesday 25th when UTC says Tuesday 24th.
    let now = utc(2026, 11, 24, 12, 0);
    assert_eq!(locals(&propose("Pacific/Kiritimati", now, &[], &[(2026, 11, 26)], 2)), ["2026-11-27T10:00", "2026-11-30T10:00", "2026-11-27T14:00"]);
    // A weekend holiday changes nothing.
    assert_eq!(propose("UTC", now, &[], &[(2026, 11, 28)], 3), propose("UTC", now, &[], &[], 3));
}

#[test]
fn extreme_offsets() {
    // 12:00 UTC Monday is 02:00 Tuesday on Kiritimati (UTC+14): Wednesday is the first day.
    let slots = propose("Pacific/Kiritimati", utc(2026, 11, 23, 12, 0), &[], &[], 3);
    assert_eq!(locals(&slots), ["2026-11-25T10:00", "2026-11-26T10:00", "2026-11-27T10:00"]);
    assert_eq!(slots[0].start_ms, utc(2026, 11, 24, 20, 0));
    // 06:00 UTC Tuesday is 18:00 Monday at UTC-12: Tuesday is the first day.
    let slots = propose("Etc/GMT+12", utc(2026, 11, 24, 6, 0), &[], &[], 3);
    assert_eq!(locals(&slots), ["2026-11-24T10:00", "2026-11-25T10:00", "2026-11-26T10:00"]);
    assert_eq!(slots[0].start_ms, utc(2026, 11, 24, 22, 0));
    // The last slot of a UTC-12 day ends at 17:00 local, 05:00 UTC the next day.
    let all_but_last = busy(utc(2026, 11, 24, 21, 0), utc(2026, 11, 25, 4, 30));
    let slots = propose("Etc/GMT+12", utc(2026, 11, 24, 6, 0), &[all_but_last], &[], 1);
    assert_eq!((slots.len(), slots[0].end_ms), (1, utc(2026, 11, 25, 5, 0)));
}

#[test]
fn daylight_saving_weeks() {
    let cases: [(&str, i64, [i64; 3]); 6] = [
        // New York springs forward on Sunday 2026-03-08: EST on Friday, EDT from Monday.
        ("America/New_York", utc(2026, 3, 5, 17, 0), [utc(2026, 3, 6, 15, 0), utc(2026, 3, 9, 14, 0), utc(2026, 3, 10, 14, 0)]),
        // ...and falls back on Sunday 2026-11-01.
        ("America/New_York", utc(2026, 10, 29, 17, 0), [utc(2026, 10, 30, 14, 0), utc(2026, 11, 2, 15, 0), utc(2026, 11, 3, 15, 0)]),
        // Berlin: 2026-03-29 and 2026-10-25.
        ("Europe/Berlin", utc(2026, 3, 26, 11, 0), [utc(2026, 3, 27, 9, 0), utc(2026, 3, 30, 8, 0), utc(2026, 3, 31, 8, 0)]),
        ("Europe/Berlin", utc(2026, 10, 22, 10, 0), [utc(2026, 10, 23, 8, 0), utc(2026, 10, 26, 9, 0), utc(2026, 10, 27, 9, 0)]),
        // Lord Howe moves by 30 minutes: +10:30 to +11 on 2026-10-04, back on 2026-04-05.
        ("Australia/Lord_Howe", utc(2026, 10, 1, 1, 0), [utc(2026, 10, 1, 23, 30), utc(2026, 10, 4, 23, 0), utc(2026, 10, 5, 23, 0)]),
        ("Australia/Lord_Howe", utc(2026, 4, 2, 1, 0), [utc(2026, 4, 2, 23, 0), utc(2026, 4, 5, 23, 30), utc(2026, 4, 6, 23, 30)]),
    ];
    for (zone, now, want) in cases {
        let slots = propose(zone, now, &[], &[], 3);
        assert_eq!(starts(&slots), want, "{zone}");
        assert!(slots.iter().all(|s| s.local_start.ends_with("T10:00")), "{zone}: {slots:?}");
    }
    // Every slot of the Mondays after New York's changes lies on the new offset's grid.
    for (day, first) in [(days_from_civil(2026, 3, 9), utc(2026, 3, 9, 13, 0)), (days_from_civil(2026, 11, 2), utc(2026, 11, 2, 14, 0))] {
        let free: Vec<i64> = free_slots(&ChronoTz, "America/New_York", day, &[]).iter().map(|c| c.start_ms).collect();
        let want: Vec<i64> = (0..16).map(|k| first + k * 30 * MINUTE_MS).collect();
        assert_eq!(free, want);
    }
}

#[test]
fn a_gap_in_business_hours_is_skipped() {
    // Clocks jump from 12:00 to 13:00 local on 2026-11-24.
    let gap = Shift { at_ms: utc(2026, 11, 24, 12, 0), before: 0, after: 3600 };
    let free = free_on(&gap, 2026, 11, 24);
    let times: Vec<&str> = free.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(times, ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]);
    // 11:30 lasts 30 real minutes and ends at 13:00 local; 13:00 starts at 12:00 UTC.
    assert_eq!(free[5].1, utc(2026, 11, 24, 11, 30));
    assert_eq!(free[6].1, utc(2026, 11, 24, 12, 0));

    // A jump at 16:45 pushes the real end of the 16:30 slot to 17:30 local: not offered.
    let late = Shift { at_ms: utc(2026, 11, 24, 16, 45), before: 0, after: 3600 };
    let free = free_on(&late, 2026, 11, 24);
    assert_eq!((free.len(), free.last().unwrap().0.as_str()), (15, "16:00"));

    // When 10:00 does not exist, 14:00 is the day's best.
    let morning_gap = Shift { at_ms: utc(2026, 11, 24, 10, 0), before: 0, after: 3600 };
    let slots = propose_meeting_slots(&morning_gap, "Test/Shift", utc(2026, 11, 23, 12, 0), &[], &[], 1).unwrap();
    assert_eq!(locals(&slots), ["2026-11-24T14:00", "2026-11-24T09:00", "2026-11-24T09:30"]);
}

#[test]
fn a_repeated_hour_uses_its_first_occurrence() {
    // Clocks go back from 13:00 to 12:00 local on 2026-11-24, so 12:00-12:59 happens twice.
    let repeat = Shift { at_ms: utc(2026, 11, 24, 12, 0), before: 3600, after: 0 };
    let free = free_on(&repeat, 2026, 11, 24);
    assert_eq!(free.len(), 16, "every wall time is offered once");
    let at = |t: &str| free.iter().find(|(x, _)| x == t).unwrap().1;
    assert_eq!(at("11:30"), utc(2026, 11, 24, 10, 30));
    assert_eq!(at("12:00"), utc(2026, 11, 24, 11, 0), "the first 12:00, an hour before the second");
    assert_eq!(at("12:30"), utc(2026, 11, 24, 11, 30));
    assert_eq!(at("13:00"), utc(2026, 11, 24, 13, 0));
    // Busy at the first occurrence takes the slot, though the second 12:00 is free.
    let slots = propose_meeting_slots(&repeat, "Test/Shift", utc(2026, 11, 23, 12, 0), &[busy(utc(2026, 11, 24, 11, 0), utc(2026, 11, 24, 11, 30))], &[], 1).unwrap();
    assert!(slots.iter().all(|s| s.local_start != "2026-11-24T12:00"));
}

#[test]
fn errors() {
    let now = utc(2026, 11, 23, 12, 0);
    let unknown = propose_meeting_slots(&ChronoTz, "Mars/Olympus_Mons", now, &[], &[], 3).unwrap_err();
    assert_eq!(unknown, SlotError::UnknownZone("Mars/Olympus_Mons".into()));
    assert_eq!(unknown.code(), "unknown_zone");
    assert!(unknown.to_string().contains("IANA"));
    for days in [0, 4, 255] {
        let err = propose_meeting_slots(&ChronoTz, "UTC", now, &[], &[], days).unwrap_err();
        assert_eq!((err.code(), err.to_string()), ("days_ahead_out_of_range", format!("days_ahead must be between 1 and 3 (got {days})")));
    }
    // Times no calendar can show have no slots, rather than overflowing; the zone is still checked.
    assert_eq!(propose_meeting_slots(&ChronoTz, "Mars/Base", i64::MAX, &[], &[], 3).unwrap_err().code(), "unknown_zone");
    assert_eq!(propose("UTC", i64::MAX, &[], &[], 3), []);
    assert_eq!(propose("UTC", i64::MIN, &[], &[], 3), []);
}

#[test]
fn weekdays_and_holiday_dates() {
    assert_eq!(weekday(days_from_civil(2026, 11, 23)), 0, "Monday");
    assert_eq!(weekday(days_from_civil(1970, 1, 1)), 3, "Thursday");
    assert_eq!(weekday(days_from_civil(1969, 12, 28)), 6, "Sunday, before the epoch");
    assert_eq!(holiday_days(&[(2028, 2, 29), (2026, 2, 29), (2026, 0, 1), (2026, 4, 31)]), [days_from_civil(2028, 2, 29)]);
}

const ZONES: [&str; 10] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Sao_Paulo",
];

/// The expected proposal, computed a different way: walk forward through real time in
/// 15-minute steps (every offset in use is a multiple of 15 minutes) and keep the instants
/// whose local time is a valid, free slot start.
fn oracle(zone: &str, now: i64, busy: &[Busy], holidays: &[(i32, u32, u32)], days_ahead: u8) -> (Vec<i64>, Vec<Vec<(i64, i64)>>) {
    let off = |t: i64| i64::from(ChronoTz.offset_seconds(zone, t).unwrap()) * 1000;
    let today = (now + off(now)).div_euclid(DAY_MS);
    let a_monday = days_from_civil(2024, 1, 1);
    let holiday_days: Vec<i64> = holidays.iter().map(|&(y, m, d)| days_from_civil(i64::from(y), m, d)).collect();
    let mut horizon = Vec::new();
    let mut day = today;
    while horizon.len() < usize::from(days_ahead) {
        day += 1;
        if (day - a_monday).rem_euclid(7) < 5 && !holiday_days.contains(&day) {
            horizon.push(day);
        }
    }
    let mut free: Vec<Vec<(i64, i64)>> = vec![Vec::new(); horizon.len()];
    let mut seen = Vec::new();
    let step = 15 * MINUTE_MS;
    let mut t = now.div_euclid(step) * step;
    while t < now + 14 * DAY_MS {
        let wall = t + off(t);
        let (local_day, time) = (wall.div_euclid(DAY_MS), wall.rem_euclid(DAY_MS));
        let on_grid = time % (30 * MINUTE_MS) == 0 && (9 * HOUR_MS..=16 * HOUR_MS + 30 * MINUTE_MS).contains(&time);
        if let Some(i) = horizon.iter().position(|d| *d == local_day).filter(|_| on_grid && !seen.contains(&wall)) {
            seen.push(wall);
            let end = t + 30 * MINUTE_MS;
            let ends_in_time = end + off(end) <= local_day * DAY_MS + 17 * HOUR_MS;
            let is_free = busy.iter().all(|b| b.end_ms <= t || b.start_ms >= end || b.end_ms <= b.start_ms);
            if ends_in_time && is_free {
                free[i].push((time / MINUTE_MS, t));
            }
        }
        t += step;
    }
    (horizon, free)
}

/// One randomly drawn call of [`propose_meeting_slots`].
#[derive(Debug, Clone)]
struct Scenario {
    zone: &'static str,
    now: i64,
    busy: Vec<Busy>,
    holidays: Vec<(i32, u32, u32)>,
    days_ahead: u8,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let zone = prop::sample::select(ZONES.to_vec());
    // Half the draws fall in the weeks around the spring and autumn clock changes of the
    // zones above, which uniform draws would rarely hit.
    let seasonal = (2020i64..2035, prop::sample::select(vec![(3, 1), (9, 20)]), 0i64..50 * DAY_MS)
        .prop_map(|(year, (month, day), into)| utc(year, month, day, 0, 0) + into);
    let now = prop_oneof![utc(2020, 1, 1, 0, 0)..utc(2035, 1, 1, 0, 0), seasonal];
    // Busy intervals from just before now to a week after, from empty to two days long; a
    // quarter of them aligned to the half-hour grid so that edges touch slots exactly.
    let interval = (0i64..8 * DAY_MS, 0i64..2 * DAY_MS, 0u8..4, -DAY_MS..0);
    let intervals = prop::collection::vec(interval, 0..12);
    let holidays = prop::collection::vec(0i64..10, 0..4);
    (zone, now, intervals, holidays, 1u8..=3).prop_map(|(zone, now, raw, hol, days)| {
        let grid = 30 * MINUTE_MS;
        let busy_list = raw
            .into_iter()
            .map(|(from, len, kind, back)| {
                let start = now + from + back / 8;
                match kind {
                    0 => busy(start.div_euclid(grid) * grid, start.div_euclid(grid) * grid + len.div_euclid(grid) * grid),
                    1 => busy(start, start + len / 12),
                    _ => busy(start, start + len),
                }
            })
            .collect();
        let today = now.div_euclid(DAY_MS);
        let holidays = hol
            .into_iter()
            .map(|d| {
                let (y, m, d) = civil_from_days(today + d);
                (y as i32, m, d)
            })
            .collect();
        Scenario { zone, now, busy: busy_list, holidays, days_ahead: days }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_invariant_holds(scenario in scenario()) {
        let Scenario { zone, now, busy, holidays, days_ahead } = scenario;
        let slots = propose_meeting_slots(&ChronoTz, zone, now, &busy, &holidays, days_ahead).unwrap();
        prop_assert_eq!(&slots, &propose_meeting_slots(&ChronoTz, zone, now, &busy, &holidays, days_ahead).unwrap(), "deterministic");
        let (horizon, free) = oracle(zone, now, &busy, &holidays, days_ahead);
        let free_count: usize = free.iter().map(Vec::len).sum();
        prop_assert_eq!(slots.len(), free_count.min(3), "three unless fewer exist");

        let off = |t: i64| i64::from(ChronoTz.offset_seconds(zone, t).unwrap()) * 1000;
        let mut days_used = Vec::new();
        for (i, s) in slots.iter().enumerate() {
            prop_assert_eq!(usize::from(s.rank), i + 1, "sorted by rank");
            prop_assert_eq!(s.end_ms - s.start_ms, 30 * MINUTE_MS);
            prop_assert!(s.start_ms > now);
            let wall = s.start_ms + off(s.start_ms);
            let (day, time) = (wall.div_euclid(DAY_MS), wall.rem_euclid(DAY_MS));
            prop_assert!(time >= 9 * HOUR_MS && time % (30 * MINUTE_MS) == 0, "{:?}", s);
            prop_assert!(s.end_ms + off(s.end_ms) <= day * DAY_MS + 17 * HOUR_MS, "ends by 17:00: {:?}", s);
            prop_assert!(horizon.contains(&day), "within the horizon: {:?}", s);
            prop_assert!(weekday(day) < 5, "a business day");
            let (y, m, d) = civil_from_days(day);
            prop_assert!(!holidays.contains(&(y as i32, m, d)), "not a holiday");
            let expected_local = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}", time / HOUR_MS, time % HOUR_MS / MINUTE_MS);
            prop_assert_eq!(&s.local_start, &expected_local);
            prop_assert!(busy.iter().all(|b| b.end_ms <= s.start_ms || b.start_ms >= s.end_ms || b.end_ms <= b.start_ms), "free: {:?}", s);
            prop_assert!(slots[..i].iter().all(|o| o.start_ms != s.start_ms), "no duplicates");
            if !days_used.contains(&day) {
                days_used.push(day);
            }
        }
        // Spread: as many different days as there are days with a free slot, earliest first.
        let free_days: Vec<i64> = horizon.iter().zip(&free).filter(|(_, f)| !f.is_empty()).map(|(d, _)| *d).collect();
        prop_assert_eq!(days_used.len(), free_days.len().min(slots.len()));
        prop_assert_eq!(&days_used[..], &free_days[..days_used.len()]);

        // The exact ranking: each day's free slots by preference, taken round-robin.
        let mut preferred = free.clone();
        for day in &mut preferred {
            day.sort_by_key(|(minute, _)| (match minute { 600 => 0, 840 => 1, _ => 2 }, *minute));
        }
        let mut expected = Vec::new();
        for round in 0..16 {
            for day in &preferred {
                if let Some((_, start)) = day.get(round) {
                    expected.push(*start);
                }
            }
        }
        expected.truncate(3);
        prop_assert_eq!(starts(&slots), expected);
    }
}

#[test]
fn holidays_parse_from_configuration_and_skip_what_is_not_a_date() {
    assert_eq!(parse_holidays("2026-12-25, 2027-01-01"), vec![(2026, 12, 25), (2027, 1, 1)]);
    assert_eq!(parse_holidays(""), vec![]);
    assert_eq!(parse_holidays("christmas,2026-12,2026-12-x,2026-12-26"), vec![(2026, 12, 26)]);
}
