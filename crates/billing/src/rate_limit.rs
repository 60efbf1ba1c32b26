//! API rate limits per user and per org, over fixed windows. The shell counts each request
//! in D1 (one upsert per scope, returning the count, folded into the tenant gate's query);
//! this decides from the counts. Fixed windows are cheap to store (one row per scope and
//! window) and, unlike a sliding log, cost one write per request; a burst at a window's edge
//! can reach twice the limit over one window's length, which is acceptable for abuse control.

/// Requests per window a user may make unless `RATE_LIMIT_USER` says otherwise.
pub const DEFAULT_PER_USER: u32 = 600;
/// Requests per window an org may make unless `RATE_LIMIT_ORG` says otherwise.
pub const DEFAULT_PER_ORG: u32 = 3000;
/// The window: one minute.
pub const WINDOW_MS: i64 = 60_000;

/// The limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_user: u32,
    pub per_org: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { per_user: DEFAULT_PER_USER, per_org: DEFAULT_PER_ORG }
    }
}

impl RateLimits {
    /// From the `RATE_LIMIT_USER` and `RATE_LIMIT_ORG` settings (requests per minute, 1 to
    /// 1,000,000); a missing or invalid value keeps its default.
    pub fn from_settings(per_user: Option<&str>, per_org: Option<&str>) -> Self {
        let read = |v: Option<&str>, d: u32| v.and_then(|v| v.trim().parse().ok()).filter(|n| (1..=1_000_000).contains(n)).unwrap_or(d);
        RateLimits { per_user: read(per_user, DEFAULT_PER_USER), per_org: read(per_org, DEFAULT_PER_ORG) }
    }
}

/// The window `now_ms` falls in.
pub fn rate_window(now_ms: i64) -> i64 {
    now_ms.div_euclid(WINDOW_MS)
}

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateScope {
    User,
    Org,
}

impl RateScope {
    /// The scope's stable name, used in errors, metrics and the D1 bucket.
    pub fn as_str(self) -> &'static str {
        match self {
            RateScope::User => "user",
            RateScope::Org => "org",
        }
    }
}

/// A request over a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub scope: RateScope,
    pub limit: u32,
    /// Whole seconds until the window ends (at least 1).
    pub retry_after_secs: u64,
}

/// Decides a request from its window's counts, this request included. The user's limit is
/// checked first: a single noisy user is told it is their own limit.
pub fn check_rate(limits: &RateLimits, user_count: i64, org_count: i64, now_ms: i64) -> Result<(), RateLimited> {
    let scope = if user_count > i64::from(limits.per_user) {
        RateScope::User
    } else if org_count > i64::from(limits.per_org) {
        RateScope::Org
    } else {
        return Ok(());
    };
    let limit = if scope == RateScope::User { limits.per_user } else { limits.per_org };
    let window_end = (rate_window(now_ms) + 1) * WINDOW_MS;
    let retry_after_secs = ((window_end - now_ms + 999) / 1000).max(1) as u64;
    Err(RateLimited { scope, limit, retry_after_secs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const L: RateLimits = RateLimits { per_user: 3, per_org: 5 };

    #[test]
    fn the_limit_itself_is_allowed_and_one_more_is_not() {
        assert_eq!(check_rate(&L, 3, 5, 0), Ok(()));
        assert_eq!(check_rate(&L, 4, 4, 0).unwrap_err().scope, RateScope::User);
        assert_eq!(check_rate(&L, 1, 6, 0).unwrap_err().scope, RateScope::Org);
        assert_eq!(check_rate(&L, 9, 9, 0).unwrap_err(), RateLimited { scope: RateScope::User, limit: 3, retry_after_secs: 60 });
    }

    #[test]
    fn retry_after_is_the_rest_of_the_window_rounded_up() {
        assert_eq!(check_rate(&L, 4, 0, 59_999).unwrap_err().retry_after_secs, 1);
        assert_eq!(check_rate(&L, 4, 0, 59_000).unwrap_err().retry_after_secs, 1);
        assert_eq!(check_rate(&L, 4, 0, 58_999).unwrap_err().retry_after_secs, 2);
        assert_eq!(check_rate(&L, 4, 0, 120_000).unwrap_err().retry_after_secs, 60);
        assert_eq!(check_rate(&L, 4, 0, -1).unwrap_err().retry_after_secs, 1);
    }

    #[test]
    fn windows_are_whole_minutes() {
        assert_eq!(rate_window(0), 0);
        assert_eq!(rate_window(59_999), 0);
        assert_eq!(rate_window(60_000), 1);
        assert_eq!(rate_window(-1), -1);
    }

    #[test]
    fn settings_fall_back_to_the_defaults() {
        assert_eq!(RateLimits::from_settings(None, None), RateLimits::default());
        assert_eq!(RateLimits::from_settings(Some("2"), Some(" 7 ")), RateLimits { per_user: 2, per_org: 7 });
        assert_eq!(RateLimits::from_settings(Some("0"), Some("lots")), RateLimits::default());
    }

    proptest! {
        #[test]
        fn refuses_exactly_the_requests_over_a_limit(user in 0i64..20, org in 0i64..20, now in -1_000_000i64..1_000_000) {
            let r = check_rate(&L, user, org, now);
            prop_assert_eq!(r.is_err(), user > 3 || org > 5);
            if let Err(e) = r {
                prop_assert!((1..=60).contains(&e.retry_after_secs));
                prop_assert!(now + e.retry_after_secs as i64 * 1000 >= (rate_window(now) + 1) * WINDOW_MS);
            }
        }
    }
}
