//! When to retry a failed model call, how long to wait, and when to switch to the fallback
//! model. The shell sleeps and calls; this decides.

use crate::config::ProviderConfig;

/// First backoff, doubled on each retry.
pub const BASE_DELAY_MS: u64 = 250;
/// Longest backoff we compute ourselves.
pub const MAX_DELAY_MS: u64 = 4_000;
/// Longest `Retry-After` we honour; beyond that the turn fails rather than hang.
pub const MAX_RETRY_AFTER_MS: u64 = 20_000;

/// How a call failed before any output was passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The provider answered with this HTTP status.
    Status(u16),
    /// No response headers, or no chunk, within the timeout.
    Timeout,
    /// The connection failed.
    Network,
    /// The stream was malformed or cut short.
    Stream,
}

impl Failure {
    /// 429, 5xx, timeouts, network and stream failures are worth another attempt; other
    /// statuses (bad request, bad key) will fail the same way again.
    pub fn is_retryable(self) -> bool {
        match self {
            Failure::Status(s) => s == 429 || (500..=599).contains(&s),
            Failure::Timeout | Failure::Network | Failure::Stream => true,
        }
    }
}

/// What to do after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Call again with this model after this many milliseconds.
    Retry { model: String, delay_ms: u64 },
    /// Stop; the turn fails.
    GiveUp,
}

/// Where a call stands in its retry plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryState {
    on_fallback: bool,
    retries_used: u32,
}

impl RetryState {
    pub fn new() -> Self {
        RetryState { on_fallback: false, retries_used: 0 }
    }

    /// The model the next attempt uses.
    pub fn model<'a>(&self, config: &'a ProviderConfig) -> &'a str {
        match (&config.fallback_model, self.on_fallback) {
            (Some(f), true) => f,
            _ => &config.model,
        }
    }

    /// Decides the next step. `retry_after_ms` is the provider's `Retry-After`, if it sent one;
    /// `jitter` is a random number in `[0, 1)` from the shell.
    pub fn after_failure(&mut self, config: &ProviderConfig, failure: Failure, retry_after_ms: Option<u64>, jitter: f64) -> Next {
        if !failure.is_retryable() {
            return Next::GiveUp;
        }
        if self.retries_used < config.max_retries {
            self.retries_used += 1;
            let delay_ms = backoff_ms(self.retries_used, retry_after_ms, jitter);
            if delay_ms > MAX_RETRY_AFTER_MS {
                return Next::GiveUp;
            }
            return Next::Retry { model: self.model(config).to_owned(), delay_ms };
        }
        if !self.on_fallback && config.fallback_model.is_some() {
            self.on_fallback = true;
            self.retries_used = 0;
            return Next::Retry { model: self.model(config).to_owned(), delay_ms: 0 };
        }
        Next::GiveUp
    }
}

impl Default for RetryState {
    fn default() -> Self {
        Self::new()
    }
}

/// Exponential backoff with jitter for the `retry`-th retry (1-based): a random delay between
/// half and all of `BASE * 2^(retry-1)`, capped, and never shorter than `Retry-After`.
pub fn backoff_ms(retry: u32, retry_after_ms: Option<u64>, jitter: f64) -> u64 {
    let exp = BASE_DELAY_MS.saturating_mul(1u64 << retry.saturating_sub(1).min(20)).min(MAX_DELAY_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    let computed = exp / 2 + ((exp / 2) as f64 * jitter) as u64;
    computed.max(retry_after_ms.unwrap_or(0))
}

/// Parses a `Retry-After` header given in seconds (the HTTP-date form is not used by
/// OpenAI-compatible providers and is ignored).
pub fn parse_retry_after(header: Option<&str>) -> Option<u64> {
    let secs: f64 = header?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some((secs * 1000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config(max_retries: u32, fallback: Option<&str>) -> ProviderConfig {
        ProviderConfig { api_key: "k".into(), base_url: "b".into(), model: "main".into(), fallback_model: fallback.map(str::to_owned), cheap_model: None, timeout_ms: 1000, max_retries }
    }

    #[test]
    fn retries_then_falls_back_then_gives_up() {
        let cfg = config(2, Some("small"));
        let mut s = RetryState::new();
        assert!(matches!(s.after_failure(&cfg, Failure::Status(429), None, 0.0), Next::Retry { ref model, delay_ms: 125 } if model == "main"));
        assert!(matches!(s.after_failure(&cfg, Failure::Status(503), None, 0.0), Next::Retry { ref model, delay_ms: 250 } if model == "main"));
        assert_eq!(s.after_failure(&cfg, Failure::Timeout, None, 0.0), Next::Retry { model: "small".into(), delay_ms: 0 });
        assert_eq!(s.model(&cfg), "small");
        assert!(matches!(s.after_failure(&cfg, Failure::Status(500), None, 0.0), Next::Retry { ref model, .. } if model == "small"));
        assert!(matches!(s.after_failure(&cfg, Failure::Status(500), None, 0.0), Next::Retry { .. }));
        assert_eq!(s.after_failure(&cfg, Failure::Status(500), None, 0.0), Next::GiveUp);
    }

    #[test]
    fn client_errors_are_not_retried() {
        let cfg = config(3, Some("small"));
        for status in [400, 401, 403, 404, 422] {
            assert_eq!(RetryState::new().after_failure(&cfg, Failure::Status(status), None, 0.5), Next::GiveUp);
        }
    }

    #[test]
    fn retry_after_is_honoured_within_reason() {
        let cfg = config(1, None);
        assert_eq!(RetryState::new().after_failure(&cfg, Failure::Status(429), Some(2_000), 0.0), Next::Retry { model: "main".into(), delay_ms: 2_000 });
        assert_eq!(RetryState::new().after_failure(&cfg, Failure::Status(429), Some(60_000), 0.0), Next::GiveUp);
        assert_eq!(parse_retry_after(Some("1.5")), Some(1_500));
        assert_eq!(parse_retry_after(Some("soon")), None);
        assert_eq!(parse_retry_after(Some("-1")), None);
    }

    proptest! {
        #[test]
        fn backoff_stays_in_its_band(retry in 1u32..40, jitter in 0.0f64..1.0) {
            let exp = (BASE_DELAY_MS << (retry - 1).min(20)).min(MAX_DELAY_MS);
            let d = backoff_ms(retry, None, jitter);
            prop_assert!(d >= exp / 2 && d <= exp);
        }
    }
}
