//! Contact-local time: quiet hours and the Sunday hold, correct across daylight-saving changes.

use crate::{Millis, DAY};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;

/// Quiet hours start (inclusive) and end (exclusive), contact-local.
pub const QUIET_FROM_HOUR: u32 = 21;
pub const QUIET_UNTIL_HOUR: u32 = 9;

/// Where a contact is, as far as we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactZone {
    Known(Tz),
    /// Treated under the strictest reading of the org's default zone: a time must be allowed
    /// under every offset that zone uses during the year.
    Unknown,
}

/// Parses an IANA zone name such as `Europe/Berlin`.
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// A zone the time rules evaluate in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LocalZone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl LocalZone {
    fn local(self, t: Millis) -> NaiveDateTime {
        let utc = DateTime::from_timestamp_millis(t).unwrap_or_default();
        match self {
            LocalZone::Named(tz) => utc.with_timezone(&tz).naive_local(),
            LocalZone::Fixed(off) => utc.with_timezone(&off).naive_local(),
        }
    }

    /// The first instant at or after local time `naive` (skipping a daylight-saving gap).
    fn instant(self, naive: NaiveDateTime) -> Millis {
        let mut candidate = naive;
        for _ in 0..4 {
            let found = match self {
                LocalZone::Named(tz) => tz.from_local_datetime(&candidate).earliest().map(|d| d.timestamp_millis()),
                LocalZone::Fixed(off) => off.from_local_datetime(&candidate).earliest().map(|d| d.timestamp_millis()),
            };
            if let Some(t) = found {
                return t;
            }
            candidate += chrono::Duration::minutes(30);
        }
        naive.and_utc().timestamp_millis()
    }
}

/// The zones a contact's time rules are evaluated in.
pub(crate) fn zones_for(zone: ContactZone, default_zone: Tz, now: Millis) -> Vec<LocalZone> {
    match zone {
        ContactZone::Known(tz) => vec![LocalZone::Named(tz)],
        ContactZone::Unknown => {
            let mut offsets: Vec<FixedOffset> = Vec::new();
            for probe in [now, now + 182 * DAY, now - 182 * DAY, now + 91 * DAY, now - 91 * DAY] {
                let utc = DateTime::from_timestamp_millis(probe).unwrap_or_default();
                let off = default_zone.offset_from_utc_datetime(&utc.naive_utc()).fix();
                if !offsets.contains(&off) {
                    offsets.push(off);
                }
            }
            offsets.into_iter().map(LocalZone::Fixed).collect()
        }
    }
}

/// If `t` falls in quiet hours in `zone`, the next instant they end (local 09:00).
pub(crate) fn quiet_until(zone: LocalZone, t: Millis) -> Option<Millis> {
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
pub(crate) fn sunday_until(zone: LocalZone, t: Millis) -> Option<Millis> {
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

    fn ms(s: &str) -> Millis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn quiet_hours_end_at_local_nine_across_a_dst_change() {
        let ny = LocalZone::Named(chrono_tz::America::New_York);
        // 2026-03-08 is the spring-forward night in New York (02:00 -> 03:00).
        assert_eq!(quiet_until(ny, ms("2026-03-08T06:30:00Z")), Some(ms("2026-03-08T13:00:00Z")));
        assert_eq!(quiet_until(ny, ms("2026-03-07T02:30:00Z")), Some(ms("2026-03-07T14:00:00Z")));
        assert_eq!(quiet_until(ny, ms("2026-03-09T15:00:00Z")), None);
    }

    #[test]
    fn sunday_ends_at_local_midnight() {
        let tokyo = LocalZone::Named(chrono_tz::Asia::Tokyo);
        // Sunday 2026-11-22 10:00 in Tokyo.
        assert_eq!(sunday_until(tokyo, ms("2026-11-22T01:00:00Z")), Some(ms("2026-11-22T15:00:00Z")));
        assert_eq!(sunday_until(tokyo, ms("2026-11-22T15:00:00Z")), None);
    }

    #[test]
    fn unknown_zones_use_every_offset_of_the_default_zone() {
        let zones = zones_for(ContactZone::Unknown, chrono_tz::Europe::Berlin, ms("2026-11-22T12:00:00Z"));
        assert_eq!(zones.len(), 2, "CET and CEST");
        assert_eq!(zones_for(ContactZone::Unknown, chrono_tz::Asia::Kolkata, 0).len(), 1);
    }
}
