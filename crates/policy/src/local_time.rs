//! Contact-local time: quiet hours and the Sunday hold, correct across daylight-saving changes.
//!
//! Time-zone rules come in through [`ZoneRules`], so the engine carries no time-zone database:
//! a Worker asks the runtime's own (`Intl`), tests and native tools use [`crate::tzdb`].

use crate::{Millis, DAY};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};

/// Quiet hours start (inclusive) and end (exclusive), contact-local.
pub const QUIET_FROM_HOUR: u32 = 21;
pub const QUIET_UNTIL_HOUR: u32 = 9;

/// A time-zone database: the UTC offset an IANA zone has at an instant.
pub trait ZoneRules {
    /// Seconds east of UTC in force in `zone` at `utc_ms`, or `None` for an unknown zone name.
    fn offset_seconds(&self, zone: &str, utc_ms: Millis) -> Option<i32>;
}

/// Where a contact is, as far as we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactZone {
    /// An IANA zone name such as `Europe/Berlin`.
    Known(String),
    /// Treated under the strictest reading of the org's default zone: a time must be allowed
    /// under every offset that zone uses during the year.
    Unknown,
}

/// A zone the time rules evaluate in: a named zone, or one fixed offset of one.
#[derive(Clone, Copy)]
pub(crate) enum LocalZone<'a> {
    Named(&'a dyn ZoneRules, &'a str),
    Fixed(i32),
}

impl LocalZone<'_> {
    fn offset_ms(&self, t: Millis) -> Millis {
        match self {
            LocalZone::Named(db, zone) => Millis::from(db.offset_seconds(zone, t).unwrap_or(0)) * 1000,
            LocalZone::Fixed(secs) => Millis::from(*secs) * 1000,
        }
    }

    fn local(&self, t: Millis) -> NaiveDateTime {
        DateTime::from_timestamp_millis(t + self.offset_ms(t)).unwrap_or_default().naive_utc()
    }

    /// The first instant whose local time is `naive`; inside a daylight-saving gap, the first
    /// instant after it (the moment the clocks jump).
    fn instant(&self, naive: NaiveDateTime) -> Millis {
        let wall = naive.and_utc().timestamp_millis();
        // Every offset in force within a day of the wall time gives a candidate instant.
        let mut candidates: Vec<Millis> = [wall - DAY, wall, wall + DAY].iter().map(|probe| wall - self.offset_ms(*probe)).collect();
        candidates.sort_unstable();
        if let Some(exact) = candidates.iter().find(|t| **t + self.offset_ms(**t) == wall) {
            return *exact;
        }
        // A gap: local time jumps over `wall` somewhere between the candidates. Find the
        // first instant whose local time is at or past it.
        let reaches = |t: Millis| t + self.offset_ms(t) >= wall;
        let (mut lo, mut hi) = (candidates[0] - DAY, candidates[candidates.len() - 1] + DAY);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if reaches(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

/// The zones a contact's time rules are evaluated in. A contact whose zone is unknown, or not
/// in the database, gets every offset the org's default zone uses in the year around `now`.
pub(crate) fn zones_for<'a>(zone: &'a ContactZone, default_zone: &'a str, db: &'a dyn ZoneRules, now: Millis) -> Vec<LocalZone<'a>> {
    if let ContactZone::Known(name) = zone {
        if db.offset_seconds(name, now).is_some() {
            return vec![LocalZone::Named(db, name)];
        }
    }
    let mut offsets: Vec<i32> = Vec::new();
    for probe in [now, now + 182 * DAY, now - 182 * DAY, now + 91 * DAY, now - 91 * DAY] {
        let off = db.offset_seconds(default_zone, probe).unwrap_or(0);
        if !offsets.contains(&off) {
            offsets.push(off);
        }
    }
    offsets.into_iter().map(LocalZone::Fixed).collect()
}

/// If `t` falls in quiet hours in `zone`, the next instant they end (local 09:00).
pub(crate) fn quiet_until(zone: LocalZone<'_>, t: Millis) -> Option<Millis> {
    let local = zone.local(t);
    let hour = local.hour();
    let day = if hour >= QUIET_FROM_HOUR {
        local.date().succ_opt()?
    } else if hour < QUIET_UNTIL_HOUR {
        local.date()
    } else {
        return None;
    };
    Some(zone.instant(at_hour(day, QUIET_UNTIL_HOUR)))
}

/// If `t` is on a Sunday in `zone`, the next local midnight (Monday 00:00).
pub(crate) fn sunday_until(zone: LocalZone<'_>, t: Millis) -> Option<Millis> {
    let local = zone.local(t);
    if local.weekday() != Weekday::Sun {
        return None;
    }
    Some(zone.instant(at_hour(local.date().succ_opt()?, 0)))
}

fn at_hour(day: NaiveDate, hour: u32) -> NaiveDateTime {
    day.and_hms_opt(hour, 0, 0).expect("valid hour")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tzdb::ChronoTz;

    fn ms(s: &str) -> Millis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn quiet_hours_end_at_local_nine_across_a_dst_change() {
        let ny = LocalZone::Named(&ChronoTz, "America/New_York");
        // 2026-03-08 is the spring-forward night in New York (02:00 -> 03:00).
        assert_eq!(quiet_until(ny, ms("2026-03-08T06:30:00Z")), Some(ms("2026-03-08T13:00:00Z")));
        assert_eq!(quiet_until(ny, ms("2026-03-07T02:30:00Z")), Some(ms("2026-03-07T14:00:00Z")));
        assert_eq!(quiet_until(ny, ms("2026-03-09T15:00:00Z")), None);
    }

    #[test]
    fn local_times_in_gaps_and_overlaps() {
        let ny = LocalZone::Named(&ChronoTz, "America/New_York");
        let wall = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // 02:30 does not exist on 2026-03-08: the first instant after the gap is 03:00 EDT.
        assert_eq!(ny.instant(wall("2026-03-08 02:30")), ms("2026-03-08T07:00:00Z"));
        // 01:30 happens twice on 2026-11-01: the earlier one is EDT.
        assert_eq!(ny.instant(wall("2026-11-01 01:30")), ms("2026-11-01T05:30:00Z"));
        // Lord Howe shifts by 30 minutes.
        let lh = LocalZone::Named(&ChronoTz, "Australia/Lord_Howe");
        assert_eq!(lh.instant(wall("2026-10-04 02:15")), ms("2026-10-03T15:30:00Z"));
    }

    #[test]
    fn sunday_ends_at_local_midnight() {
        let tokyo = LocalZone::Named(&ChronoTz, "Asia/Tokyo");
        // Sunday 2026-11-22 10:00 in Tokyo.
        assert_eq!(sunday_until(tokyo, ms("2026-11-22T01:00:00Z")), Some(ms("2026-11-22T15:00:00Z")));
        assert_eq!(sunday_until(tokyo, ms("2026-11-22T15:00:00Z")), None);
    }

    #[test]
    fn unknown_zones_use_every_offset_of_the_default_zone() {
        let now = ms("2026-11-22T12:00:00Z");
        assert_eq!(zones_for(&ContactZone::Unknown, "Europe/Berlin", &ChronoTz, now).len(), 2, "CET and CEST");
        assert_eq!(zones_for(&ContactZone::Unknown, "Asia/Kolkata", &ChronoTz, now).len(), 1);
        let bogus = ContactZone::Known("Mars/Olympus_Mons".into());
        assert_eq!(zones_for(&bogus, "Europe/Berlin", &ChronoTz, now).len(), 2, "an unknown name is an unknown zone");
    }
}
