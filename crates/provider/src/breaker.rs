//! A circuit breaker for an outbound dependency (the model provider, an HTTP tool's host).
//!
//! Closed: calls go through and consecutive failures are counted; the `threshold`-th opens the
//! circuit. Open: calls fail fast until `cool_down_ms` has passed. Half-open: exactly one probe
//! goes through; its success closes the circuit, its failure opens it again for another
//! cool-down. A probe that never reports back (its isolate died) is given up after one
//! cool-down, and another probe is let through. Time is passed in, in milliseconds.

use std::collections::BTreeMap;

/// How many failures open the circuit and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit (at least 1).
    pub threshold: u32,
    /// How long the circuit stays open before a probe, in milliseconds.
    pub cool_down_ms: i64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { threshold: 5, cool_down_ms: 30_000 }
    }
}

impl BreakerConfig {
    /// From the `BREAKER_FAILURE_THRESHOLD` and `BREAKER_COOL_DOWN_MS` settings; a missing or
    /// unreasonable value (threshold 1 to 1000, cool-down 100 ms to 1 hour) keeps the default.
    pub fn from_settings(threshold: Option<&str>, cool_down_ms: Option<&str>) -> Self {
        let d = BreakerConfig::default();
        BreakerConfig {
            threshold: threshold.and_then(|t| t.trim().parse().ok()).filter(|t| (1..=1000).contains(t)).unwrap_or(d.threshold),
            cool_down_ms: cool_down_ms.and_then(|c| c.trim().parse().ok()).filter(|c| (100..=3_600_000).contains(c)).unwrap_or(d.cool_down_ms),
        }
    }
}

/// Where a breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` in a row so far.
    Closed { failures: u32 },
    /// Calls fail fast until `until_ms`.
    Open { until_ms: i64 },
    /// One probe, started at `probe_at_ms`, is in flight; other calls fail fast.
    HalfOpen { probe_at_ms: i64 },
}

/// Whether a call may go out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The circuit is closed.
    Allowed,
    /// The circuit was open and has cooled down: this call is the probe.
    Probe,
    /// Fail fast; the circuit may let a probe through in `retry_in_ms`.
    Rejected { retry_in_ms: i64 },
}

/// One dependency's breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breaker {
    pub state: BreakerState,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker { state: BreakerState::Closed { failures: 0 } }
    }
}

impl Breaker {
    /// Asks to make a call at `now_ms`.
    pub fn admit(&mut self, config: &BreakerConfig, now_ms: i64) -> Admission {
        match self.state {
            BreakerState::Closed { .. } => Admission::Allowed,
            BreakerState::Open { until_ms } | BreakerState::HalfOpen { probe_at_ms: until_ms } if now_ms < self.ready_at(config, until_ms) => {
                Admission::Rejected { retry_in_ms: (self.ready_at(config, until_ms) - now_ms).max(1) }
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen { .. } => {
                self.state = BreakerState::HalfOpen { probe_at_ms: now_ms };
                Admission::Probe
            }
        }
    }

    /// When the next call may go out: the end of the open period, or a stale probe's expiry.
    fn ready_at(&self, config: &BreakerConfig, at_ms: i64) -> i64 {
        match self.state {
            BreakerState::HalfOpen { .. } => at_ms.saturating_add(config.cool_down_ms),
            _ => at_ms,
        }
    }

    /// The call succeeded: the circuit closes.
    pub fn on_success(&mut self) {
        self.state = BreakerState::Closed { failures: 0 };
    }

    /// The call failed at `now_ms`. Returns true when this failure opened the circuit.
    pub fn on_failure(&mut self, config: &BreakerConfig, now_ms: i64) -> bool {
        let open = BreakerState::Open { until_ms: now_ms.saturating_add(config.cool_down_ms) };
        match self.state {
            BreakerState::Closed { failures } if failures.saturating_add(1) < config.threshold.max(1) => {
                self.state = BreakerState::Closed { failures: failures + 1 };
                false
            }
            BreakerState::Closed { .. } | BreakerState::HalfOpen { .. } => {
                self.state = open;
                true
            }
            // A call admitted before the circuit opened failed too: it stays open as it is.
            BreakerState::Open { .. } => false,
        }
    }
}

/// Breakers by key (an HTTP tool's host), bounded: when full, closed breakers with no
/// failures are forgotten first, then the oldest keys.
#[derive(Debug, Default)]
pub struct Breakers {
    by_key: BTreeMap<String, Breaker>,
}

/// Most keys a [`Breakers`] remembers.
pub const MAX_KEYS: usize = 256;

impl Breakers {
    /// The breaker for `key`, created closed.
    pub fn get(&mut self, key: &str) -> &mut Breaker {
        if !self.by_key.contains_key(key) && self.by_key.len() >= MAX_KEYS {
            self.by_key.retain(|_, b| b.state != BreakerState::Closed { failures: 0 });
            while self.by_key.len() >= MAX_KEYS {
                let Some(first) = self.by_key.keys().next().cloned() else { break };
                self.by_key.remove(&first);
            }
        }
        self.by_key.entry(key.to_owned()).or_default()
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests;
