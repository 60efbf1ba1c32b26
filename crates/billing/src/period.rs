//! The windows usage is counted in: the subscription's billing period for monthly token
//! quotas, and the UTC day for daily message quotas.

use domain::civil::{civil_from_days, days_from_civil, DAY_MS};

/// A half-open interval `[start_ms, end_ms)` in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Period {
    /// Whether `now_ms` falls inside the period.
    pub fn contains(&self, now_ms: i64) -> bool {
        self.start_ms <= now_ms && now_ms < self.end_ms
    }
}

/// The period usage counts against at `now_ms`: the subscription's current period (Stripe
/// seconds) when it contains now, else the UTC calendar month containing now. The fallback
/// covers orgs without a subscription and the gap between a period ending and Stripe's
/// renewal event arriving, so usage is never counted against an expired window.
pub fn usage_period(sub_period: Option<(i64, i64)>, now_ms: i64) -> Period {
    if let Some((start_secs, end_secs)) = sub_period {
        let period = Period { start_ms: start_secs.saturating_mul(1000), end_ms: end_secs.saturating_mul(1000) };
        if period.contains(now_ms) {
            return period;
        }
    }
    calendar_month(now_ms)
}

/// The UTC calendar month containing `now_ms`.
fn calendar_month(now_ms: i64) -> Period {
    let (year, month, _) = civil_from_days(now_ms.div_euclid(DAY_MS));
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    Period {
        start_ms: days_from_civil(year, month, 1).saturating_mul(DAY_MS),
        end_ms: days_from_civil(next_year, next_month, 1).saturating_mul(DAY_MS),
    }
}

/// The UTC date of `now_ms` as `YYYY-MM-DD`, the key daily counters are stored under.
pub fn utc_day(now_ms: i64) -> String {
    let (year, month, day) = civil_from_days(now_ms.div_euclid(DAY_MS));
    format!("{year:04}-{month:02}-{day:02}")
}

/// The first UTC midnight strictly after `now_ms` (at midnight exactly, the next one), when
/// daily counters reset. Saturates at `i64::MAX` rather than overflowing.
pub fn next_utc_midnight_ms(now_ms: i64) -> i64 {
    (now_ms.div_euclid(DAY_MS) + 1).saturating_mul(DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Milliseconds at `y-m-d hh:00` UTC.
    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        days_from_civil(y, m, d) * DAY_MS + hour * 3_600_000
    }

    #[test]
    fn utc_days() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(-1), "1969-12-31");
        assert_eq!(utc_day(at(2026, 11, 22, 23) + 3_599_999), "2026-11-22");
        assert_eq!(utc_day(at(2026, 11, 23, 0)), "2026-11-23");
        assert_eq!(utc_day(at(2028, 2, 29, 12)), "2028-02-29");
        assert_eq!(utc_day(at(2028, 3, 1, 0) - 1), "2028-02-29");
        assert_eq!(utc_day(at(2027, 3, 1, 0) - 1), "2027-02-28");
    }

    #[test]
    fn next_midnights() {
        assert_eq!(next_utc_midnight_ms(0), DAY_MS);
        assert_eq!(next_utc_midnight_ms(-1), 0);
        assert_eq!(next_utc_midnight_ms(-DAY_MS), 0);
        assert_eq!(next_utc_midnight_ms(at(2028, 2, 28, 13)), at(2028, 2, 29, 0));
        assert_eq!(next_utc_midnight_ms(at(2028, 2, 29, 13)), at(2028, 3, 1, 0));
        assert_eq!(next_utc_midnight_ms(at(2026, 12, 31, 23)), at(2027, 1, 1, 0));
        assert_eq!(next_utc_midnight_ms(i64::MAX), i64::MAX);
    }

    #[test]
    fn subscription_period_when_it_contains_now() {
        let now = 1_700_000_000_000;
        let sub = Some((1_699_000_000, 1_701_000_000));
        assert_eq!(usage_period(sub, now), Period { start_ms: 1_699_000_000_000, end_ms: 1_701_000_000_000 });
        // Start is inclusive, end exclusive.
        assert_eq!(usage_period(sub, 1_699_000_000_000).start_ms, 1_699_000_000_000);
        assert_ne!(usage_period(sub, 1_701_000_000_000).start_ms, 1_699_000_000_000);
    }

    #[test]
    fn calendar_month_fallback() {
        let feb_leap = Period { start_ms: at(2028, 2, 1, 0), end_ms: at(2028, 3, 1, 0) };
        assert_eq!(usage_period(None, at(2028, 2, 29, 23)), feb_leap);
        // An expired subscription period falls back too.
        assert_eq!(usage_period(Some((0, 10)), at(2028, 2, 1, 0)), feb_leap);
        // A reversed period contains nothing.
        assert_eq!(usage_period(Some((2_000_000_000, 1_000_000_000)), at(2028, 2, 10, 0)), feb_leap);
        assert_eq!(
            usage_period(None, at(2026, 12, 31, 23)),
            Period { start_ms: at(2026, 12, 1, 0), end_ms: at(2027, 1, 1, 0) }
        );
        assert_eq!(usage_period(None, at(2027, 1, 1, 0)), Period { start_ms: at(2027, 1, 1, 0), end_ms: at(2027, 2, 1, 0) });
        assert_eq!(usage_period(None, 0), Period { start_ms: 0, end_ms: 31 * DAY_MS });
        assert_eq!(usage_period(None, -1), Period { start_ms: -31 * DAY_MS, end_ms: 0 });
    }

    proptest! {
        #[test]
        fn month_contains_now_and_starts_on_the_first(now in -1_000_000_000_000_000i64..1_000_000_000_000_000) {
            let p = usage_period(None, now);
            prop_assert!(p.contains(now));
            prop_assert!(utc_day(p.start_ms).ends_with("-01"));
            prop_assert!(utc_day(p.end_ms).ends_with("-01"));
            let days = (p.end_ms - p.start_ms) / DAY_MS;
            prop_assert!((28..=31).contains(&days));
        }

        #[test]
        fn next_midnight_is_within_a_day(now in -1_000_000_000_000_000i64..1_000_000_000_000_000) {
            let midnight = next_utc_midnight_ms(now);
            prop_assert!(midnight > now && midnight - now <= DAY_MS);
            prop_assert_eq!(midnight.rem_euclid(DAY_MS), 0);
            prop_assert_ne!(utc_day(midnight), utc_day(now));
        }
    }
}
