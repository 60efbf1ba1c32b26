//! A per-org token bucket for outbound requests. Pure: the shell passes the time in and persists
//! the bucket (it is serde-serialisable) between requests, e.g. in the org's Durable Object.

use serde::{Deserialize, Serialize};

use crate::Refusal;

/// Slack for floating-point error, so that waiting exactly the advertised `retry_after_ms` always
/// succeeds.
const EPSILON: f64 = 1e-9;

/// Up to `capacity` requests in a burst, refilled continuously at `refill_per_sec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenBucket {
    capacity: u32,
    refill_per_sec: f64,
    tokens: f64,
    last_ms: i64,
}

impl TokenBucket {
    /// A full bucket as of `now_ms`.
    pub fn new(capacity: u32, refill_per_sec: f64, now_ms: i64) -> Self {
        TokenBucket {
            capacity,
            refill_per_sec,
            tokens: capacity as f64,
            last_ms: now_ms,
        }
    }

    /// Burst size.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Tokens added per second.
    pub fn refill_per_sec(&self) -> f64 {
        self.refill_per_sec
    }

    /// Tokens available as of the last update (fractional while refilling).
    pub fn tokens(&self) -> f64 {
        self.tokens
    }

    /// Takes one token for a request at `now_ms`, or says how long until one is available.
    pub fn try_take(&mut self, now_ms: i64) -> Result<(), Refusal> {
        self.refill(now_ms);
        if self.tokens + EPSILON >= 1.0 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            Ok(())
        } else {
            Err(Refusal::RateLimited {
                retry_after_ms: self.retry_after_ms(),
            })
        }
    }

    /// A usable refill rate: zero for nonsense (negative, NaN, infinite) values, so a bad
    /// configuration or a corrupted persisted bucket fails closed.
    fn rate(&self) -> f64 {
        if self.refill_per_sec.is_finite() && self.refill_per_sec > 0.0 {
            self.refill_per_sec
        } else {
            0.0
        }
    }

    fn refill(&mut self, now_ms: i64) {
        let capacity = self.capacity as f64;
        if !self.tokens.is_finite() || self.tokens < 0.0 {
            self.tokens = 0.0;
        }
        self.tokens = self.tokens.min(capacity);
        // A clock that steps backwards must not mint tokens, nor move `last_ms` back (which would
        // mint them on the next call).
        if now_ms > self.last_ms {
            let elapsed_ms = (now_ms as i128 - self.last_ms as i128) as f64;
            self.tokens = (self.tokens + elapsed_ms * self.rate() / 1000.0).min(capacity);
            self.last_ms = now_ms;
        }
    }

    fn retry_after_ms(&self) -> u64 {
        let rate = self.rate();
        if rate == 0.0 || self.capacity == 0 {
            return u64::MAX;
        }
        let wait = ((1.0 - self.tokens) * 1000.0 / rate).ceil();
        // `as` saturates, so an absurdly slow rate becomes u64::MAX rather than wrapping.
        (wait as u64).max(1)
    }
}
