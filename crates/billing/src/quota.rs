//! Plan quotas checked before an agent turn starts.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::period::next_utc_midnight_ms;

/// How long to wait before retrying when the org's turn limit is reached: turns are short,
/// so a few seconds is usually enough for one to finish.
pub const CONCURRENT_RETRY_SECS: u64 = 5;

/// What a plan allows. A limit of 0 allows nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLimits {
    /// Messages per UTC day.
    pub messages_per_day: u32,
    /// Model tokens per usage period (see [`crate::usage_period`]).
    pub tokens_per_month: u64,
    /// Agent turns running at once across the org.
    pub concurrent_turns: u32,
}

/// Usage so far, not counting the turn being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSnapshot {
    pub messages_today: u32,
    pub tokens_this_period: u64,
    /// Turns already running for the org, other than this one.
    pub active_turns_elsewhere: u32,
}

/// Which quota was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quota {
    MessagesPerDay,
    TokensPerMonth,
    ConcurrentTurns,
}

impl Quota {
    /// A stable snake_case name for API error bodies and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Quota::MessagesPerDay => "messages_per_day",
            Quota::TokensPerMonth => "tokens_per_month",
            Quota::ConcurrentTurns => "concurrent_turns",
        }
    }
}

/// A quota is used up; `retry_after_secs` is when it frees up (for a `Retry-After` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("The {} limit of {limit} is reached; try again in {retry_after_secs} s, or ask an admin to upgrade the plan under Settings → Billing.", .quota.as_str())]
pub struct QuotaExceeded {
    pub quota: Quota,
    pub limit: u64,
    pub retry_after_secs: u64,
}

impl QuotaExceeded {
    /// A stable machine-readable code for API error bodies and logs.
    pub fn code(&self) -> &'static str {
        "quota_exceeded"
    }

    /// The HTTP status to answer with: 429 Too Many Requests.
    pub fn status(&self) -> u16 {
        429
    }
}

/// Whether one more turn fits the plan at `now_ms`. Token quotas reset at `period_end_ms`
/// (the end of [`crate::usage_period`]); message quotas at the next UTC midnight.
///
/// When several quotas are used up, the one that frees up last is reported, so a client that
/// honours `Retry-After` does not come back only to be refused by another quota.
pub fn check_quotas(limits: &PlanLimits, usage: &UsageSnapshot, period_end_ms: i64, now_ms: i64) -> Result<(), QuotaExceeded> {
    let exceeded = [
        (usage.messages_today >= limits.messages_per_day).then(|| QuotaExceeded {
            quota: Quota::MessagesPerDay,
            limit: u64::from(limits.messages_per_day),
            retry_after_secs: secs_until(next_utc_midnight_ms(now_ms), now_ms),
        }),
        (usage.tokens_this_period >= limits.tokens_per_month).then(|| QuotaExceeded {
            quota: Quota::TokensPerMonth,
            limit: limits.tokens_per_month,
            retry_after_secs: secs_until(period_end_ms, now_ms),
        }),
        (usage.active_turns_elsewhere >= limits.concurrent_turns).then(|| QuotaExceeded {
            quota: Quota::ConcurrentTurns,
            limit: u64::from(limits.concurrent_turns),
            retry_after_secs: CONCURRENT_RETRY_SECS,
        }),
    ];
    match exceeded.into_iter().flatten().max_by_key(|e| e.retry_after_secs) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Whole seconds from `now_ms` until `at_ms`, rounded up and at least 1: a `Retry-After` of 0
/// would invite an immediate retry that is refused again.
fn secs_until(at_ms: i64, now_ms: i64) -> u64 {
    let ms = at_ms.saturating_sub(now_ms).max(0) as u64;
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::civil::DAY_MS;

    const LIMITS: PlanLimits = PlanLimits { messages_per_day: 100, tokens_per_month: 1_000_000, concurrent_turns: 2 };
    const IDLE: UsageSnapshot = UsageSnapshot { messages_today: 0, tokens_this_period: 0, active_turns_elsewhere: 0 };
    const NOW: i64 = 20_000 * DAY_MS + 3_600_000; // 01:00 UTC
    const PERIOD_END: i64 = NOW + 10 * DAY_MS;

    #[test]
    fn within_limits() {
        let usage = UsageSnapshot { messages_today: 99, tokens_this_period: 999_999, active_turns_elsewhere: 1 };
        assert_eq!(check_quotas(&LIMITS, &usage, PERIOD_END, NOW), Ok(()));
    }

    #[test]
    fn messages_retry_at_next_utc_midnight() {
        let usage = UsageSnapshot { messages_today: 100, ..IDLE };
        let err = check_quotas(&LIMITS, &usage, PERIOD_END, NOW).unwrap_err();
        assert_eq!(err, QuotaExceeded { quota: Quota::MessagesPerDay, limit: 100, retry_after_secs: 23 * 3600 });
        // Rounded up, and never 0.
        let err = check_quotas(&LIMITS, &usage, PERIOD_END, 20_001 * DAY_MS - 1_500).unwrap_err();
        assert_eq!(err.retry_after_secs, 2);
        let err = check_quotas(&LIMITS, &usage, PERIOD_END, 20_001 * DAY_MS - 1).unwrap_err();
        assert_eq!(err.retry_after_secs, 1);
    }

    #[test]
    fn tokens_retry_at_period_end() {
        let usage = UsageSnapshot { tokens_this_period: 1_000_000, ..IDLE };
        let err = check_quotas(&LIMITS, &usage, PERIOD_END, NOW).unwrap_err();
        assert_eq!(err, QuotaExceeded { quota: Quota::TokensPerMonth, limit: 1_000_000, retry_after_secs: 10 * 86_400 });
        assert_eq!(err.quota.as_str(), "tokens_per_month");
        // A period end already passed still asks for a short wait, not 0.
        let err = check_quotas(&LIMITS, &usage, NOW - 5, NOW).unwrap_err();
        assert_eq!(err.retry_after_secs, 1);
    }

    #[test]
    fn concurrency_retries_in_five_seconds() {
        let usage = UsageSnapshot { active_turns_elsewhere: 2, ..IDLE };
        let err = check_quotas(&LIMITS, &usage, PERIOD_END, NOW).unwrap_err();
        assert_eq!(err, QuotaExceeded { quota: Quota::ConcurrentTurns, limit: 2, retry_after_secs: 5 });
        assert_eq!((err.code(), err.status()), ("quota_exceeded", 429));
        assert!(err.to_string().contains("concurrent_turns"));
    }

    #[test]
    fn zero_limits_allow_nothing() {
        for limits in [
            PlanLimits { messages_per_day: 0, ..LIMITS },
            PlanLimits { tokens_per_month: 0, ..LIMITS },
            PlanLimits { concurrent_turns: 0, ..LIMITS },
        ] {
            assert!(check_quotas(&limits, &IDLE, PERIOD_END, NOW).is_err());
        }
    }

    #[test]
    fn the_latest_reset_is_reported() {
        let usage = UsageSnapshot { messages_today: 100, tokens_this_period: 1_000_000, active_turns_elsewhere: 2 };
        let err = check_quotas(&LIMITS, &usage, PERIOD_END, NOW).unwrap_err();
        assert_eq!(err.quota, Quota::TokensPerMonth);
        let err = check_quotas(&LIMITS, &usage, NOW + 1_000, NOW).unwrap_err();
        assert_eq!(err.quota, Quota::MessagesPerDay);
    }
}
