//! Proposing meeting slots in a contact's business hours.
//!
//! The rules, all in the contact's local time:
//!
//! - A slot is 30 minutes long and starts on the half-hour grid (`:00` or `:30`). It starts at
//!   or after 09:00 and ends at or before 17:00 on the same local date.
//! - Only business days count: Monday to Friday, minus the given holidays (local dates).
//! - The horizon is the next `days_ahead` business days *after* today. Today is never offered,
//!   even at 06:00: a slot a few hours away gives the contact no time to plan, and proposing
//!   one reads as pushy.
//! - A slot must not overlap any busy interval. Intervals are half-open, `[start, end)`, so a
//!   meeting ending at 10:00 leaves a 10:00 slot free; an empty or inverted interval blocks
//!   nothing.
//! - Local wall times are converted to instants with the zone's rules, so the result is right
//!   across daylight-saving changes. A wall time skipped by a spring-forward gap is not offered;
//!   a wall time that happens twice in a fall-back uses its first occurrence. A slot is checked
//!   in real (UTC) time: it lasts 30 real minutes and its real end must still be at or before
//!   17:00 local.
//!
//! Ranking, deterministic:
//!
//! 1. Within a day, free slots are ordered by preference: 10:00 first (mid-morning), then
//!    14:00, then the remaining free slots earliest first.
//! 2. Slots are picked in rounds across the horizon's days, earliest day first: round one takes
//!    each day's most preferred free slot, round two each day's second, and so on, until three
//!    are picked. So three free days give the best slot of each day, and the proposals spread
//!    over as many days as possible.
//! 3. Rank 1 is the first pick. Results are returned in rank order.
//!
//! Exactly three slots are proposed, fewer only when fewer than three free slots exist in the
//! horizon (for example a one-day horizon that is nearly all busy).

use domain::civil::{civil_from_days, days_from_civil, DAY_MS};
use policy::ZoneRules;
use serde::{Deserialize, Serialize};

/// How many slots a proposal has at most.
pub const SLOT_COUNT: usize = 3;
/// Length of a slot, in minutes.
pub const SLOT_MINUTES: i64 = 30;
/// Start of business hours, in local minutes after midnight (09:00).
pub const BUSINESS_START_MINUTE: i64 = 9 * 60;
/// End of business hours, in local minutes after midnight (17:00): slots end by then.
pub const BUSINESS_END_MINUTE: i64 = 17 * 60;
/// The largest `days_ahead` accepted.
pub const MAX_DAYS_AHEAD: u8 = 3;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
/// The most-preferred start times of a day, best first: mid-morning, then early afternoon.
const PREFERRED_MINUTES: [i64; 2] = [10 * 60, 14 * 60];
/// How many calendar days to look at for business days before giving up: a holiday list that
/// blocks more than this leaves the horizon short instead of looping on.
const MAX_SCAN_DAYS: i64 = 400;
/// About 95 000 years either side of 1970: a `now` beyond it is not a real time, and has no
/// slots rather than overflowing the date arithmetic or the zone database's range.
const MAX_ABS_MS: i64 = 3_000_000_000_000_000;

/// A time the contact is not available: `[start_ms, end_ms)`, ms since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    /// First busy instant, ms since the Unix epoch.
    pub start_ms: i64,
    /// First instant free again, ms since the Unix epoch.
    pub end_ms: i64,
}

/// A proposed meeting slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Start, ms since the Unix epoch.
    pub start_ms: i64,
    /// End, ms since the Unix epoch: always 30 minutes after the start.
    pub end_ms: i64,
    /// The contact's local start time, `YYYY-MM-DDTHH:MM`, e.g. `2026-11-24T09:00`.
    pub local_start: String,
    /// 1 is the best proposal.
    pub rank: u8,
}

/// Why no proposal could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// The zone rules do not know this zone name.
    #[error("unknown time zone `{0}`: use an IANA zone name such as `Europe/Berlin` or `America/New_York`")]
    UnknownZone(String),
    /// `days_ahead` is not between 1 and [`MAX_DAYS_AHEAD`].
    #[error("days_ahead must be between 1 and {MAX_DAYS_AHEAD} (got {0})")]
    DaysAheadOutOfRange(u8),
}

impl SlotError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SlotError::UnknownZone(_) => "unknown_zone",
            SlotError::DaysAheadOutOfRange(_) => "days_ahead_out_of_range",
        }
    }
}

/// Holidays from configuration: comma-separated local dates `YYYY-MM-DD`; anything that is not
/// such a date is ignored (an impossible date never matches a day anyway).
pub fn parse_holidays(raw: &str) -> Vec<(i32, u32, u32)> {
    raw.split(',')
        .filter_map(|d| {
            let mut parts = d.trim().splitn(3, '-');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect()
}

/// Proposes up to three ranked 30-minute slots in the contact's business hours over the next
/// `days_ahead` (1–3) business days after `now_ms`, avoiding `busy`. See the module
/// documentation for the exact rules and ranking.
///
/// `zone` is an IANA name looked up in `rules`; `holidays` are `(year, month, day)` local dates
/// (impossible dates are ignored). A `now_ms` more than about 95 000 years from 1970 yields no
/// slots.
pub fn propose_meeting_slots(
    rules: &(impl ZoneRules + ?Sized),
    zone: &str,
    now_ms: i64,
    busy: &[Busy],
    holidays: &[(i32, u32, u32)],
    days_ahead: u8,
) -> Result<Vec<Slot>, SlotError> {
    if !(1..=MAX_DAYS_AHEAD).contains(&days_ahead) {
        return Err(SlotError::DaysAheadOutOfRange(days_ahead));
    }
    let real_time = (-MAX_ABS_MS..=MAX_ABS_MS).contains(&now_ms);
    let offset = rules.offset_seconds(zone, if real_time { now_ms } else { 0 }).ok_or_else(|| SlotError::UnknownZone(zone.to_owned()))?;
    if !real_time {
        return Ok(Vec::new());
    }

    let today = (now_ms + i64::from(offset) * 1000).div_euclid(DAY_MS);
    let holidays = holiday_days(holidays);
    let free_by_day: Vec<Vec<Candidate>> = business_days_after(today, &holidays, days_ahead)
        .into_iter()
        .map(|day| {
            let mut free = free_slots(rules, zone, day, busy);
            free.sort_by_key(|c| (preference(c.minute), c.minute));
            free
        })
        .collect();

    Ok(pick_round_robin(&free_by_day)
        .into_iter()
        .zip(1u8..)
        .map(|(c, rank)| Slot { start_ms: c.start_ms, end_ms: c.start_ms + SLOT_MINUTES * MINUTE_MS, local_start: c.local_start(), rank })
        .collect())
}

/// A free slot on a local day, before ranking.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Local date, as days since 1970-01-01.
    day: i64,
    /// Local start, minutes after midnight.
    minute: i64,
    start_ms: i64,
}

impl Candidate {
    fn local_start(&self) -> String {
        let (y, m, d) = civil_from_days(self.day);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}", self.minute / 60, self.minute % 60)
    }
}

/// Lower is better: the preferred times in order, then everything else.
fn preference(minute: i64) -> usize {
    PREFERRED_MINUTES.iter().position(|m| *m == minute).unwrap_or(PREFERRED_MINUTES.len())
}

/// Takes each day's next-best slot in turn, earliest day first, until three are taken.
fn pick_round_robin(free_by_day: &[Vec<Candidate>]) -> Vec<Candidate> {
    let rounds = free_by_day.iter().map(Vec::len).max().unwrap_or(0);
    (0..rounds).flat_map(|round| free_by_day.iter().filter_map(move |day| day.get(round).copied())).take(SLOT_COUNT).collect()
}

/// Holiday dates as day numbers; dates that do not exist (`2026-02-30`) are dropped.
fn holiday_days(holidays: &[(i32, u32, u32)]) -> Vec<i64> {
    holidays
        .iter()
        .filter(|(_, m, d)| (1..=12).contains(m) && (1..=31).contains(d))
        .filter_map(|&(y, m, d)| {
            let day = days_from_civil(i64::from(y), m, d);
            (civil_from_days(day) == (i64::from(y), m, d)).then_some(day)
        })
        .collect()
}

/// Monday = 0 ... Sunday = 6. Day 0, 1970-01-01, was a Thursday.
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The first `count` business days after `today`.
fn business_days_after(today: i64, holidays: &[i64], count: u8) -> Vec<i64> {
    (today + 1..=today + MAX_SCAN_DAYS)
        .filter(|day| weekday(*day) < 5 && !holidays.contains(day))
        .take(usize::from(count))
        .collect()
}

/// Every free slot of a local day, in time order.
fn free_slots(rules: &(impl ZoneRules + ?Sized), zone: &str, day: i64, busy: &[Busy]) -> Vec<Candidate> {
    let midnight_wall = day * DAY_MS;
    let offsets = offsets_near(rules, zone, midnight_wall);
    let close_wall = midnight_wall + BUSINESS_END_MINUTE * MINUTE_MS;
    (BUSINESS_START_MINUTE..BUSINESS_END_MINUTE)
        .step_by(SLOT_MINUTES as usize)
        .filter_map(|minute| {
            let start_ms = first_instant(rules, zone, &offsets, midnight_wall + minute * MINUTE_MS)?;
            let end_ms = start_ms + SLOT_MINUTES * MINUTE_MS;
            // A change of offset during the slot can push its real end past closing time.
            let end_wall = end_ms + i64::from(rules.offset_seconds(zone, end_ms)?) * 1000;
            // Half-open intervals: an empty one contains no instant, so it blocks nothing.
            let free = !busy.iter().any(|b| b.start_ms < b.end_ms && start_ms < b.end_ms && b.start_ms < end_ms);
            (end_wall <= close_wall && free).then_some(Candidate { day, minute, start_ms })
        })
        .collect()
}

/// Every UTC offset `zone` uses around a local day (whose midnight, read as UTC, is
/// `midnight_wall`). UTC offsets lie within ±16 hours, so the instants that can show this
/// day's wall times lie within 16 hours either side of it; sampling them hourly finds every
/// offset, as zones never change offset twice within an hour.
fn offsets_near(rules: &(impl ZoneRules + ?Sized), zone: &str, midnight_wall: i64) -> Vec<i32> {
    let mut offsets = Vec::new();
    for hour in -16..=24 + 16 {
        if let Some(offset) = rules.offset_seconds(zone, midnight_wall + hour * HOUR_MS) {
            if !offsets.contains(&offset) {
                offsets.push(offset);
            }
        }
    }
    offsets
}

/// The earliest instant whose local time is `wall` (a local time read as if it were UTC), or
/// `None` when the clocks skip it. `offsets` are the candidate offsets around it.
fn first_instant(rules: &(impl ZoneRules + ?Sized), zone: &str, offsets: &[i32], wall: i64) -> Option<i64> {
    offsets
        .iter()
        .map(|offset| wall - i64::from(*offset) * 1000)
        .filter(|t| rules.offset_seconds(zone, *t).is_some_and(|o| *t + i64::from(o) * 1000 == wall))
        .min()
}

#[cfg(test)]
mod tests;
