//! Counts written behind the response, in batches.
//!
//! Every signed-in request adds to two kinds of stored counters: its metric series and its
//! API rate-limit windows. Writing them to D1 per request put a D1 write beside every request
//! and made the next request's tenant gate queue behind it. Instead each isolate gathers its
//! increments here and a shell writes them in one batch, at most [`FLUSH_DELAY_MS`] after the
//! first one (sooner when [`MAX_PENDING`] series are waiting).
//!
//! A rate window's count is the stored count plus what this isolate has not yet written
//! ([`WriteBehind::unwritten_rate`]), so within one isolate the limits stay exact; across
//! isolates a window may lag by up to the flush delay (ADR 17). Counts taken for a flush stay
//! visible until the shell reports the write settled, so they are never missing in between.

use crate::metrics::Increment;

/// How long after the first unwritten increment a flush is written.
pub const FLUSH_DELAY_MS: u64 = 1_000;
/// Waiting series (metric and rate keys together) that make a flush due at once.
pub const MAX_PENDING: usize = 500;
/// A scheduled flush that has not taken its batch after this long is presumed lost (its
/// request context ended), so another may be scheduled.
pub const STALE_SCHEDULE_MS: i64 = 30_000;

/// One rate window's unwritten requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCount {
    pub org: String,
    pub bucket: String,
    pub window: i64,
    pub count: i64,
}

/// What a flush writes: metric increments per org, and rate windows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flush {
    /// `(org, increment)`; org '' holds platform-wide series.
    pub metrics: Vec<(String, Increment)>,
    pub rates: Vec<RateCount>,
}

impl Flush {
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty() && self.rates.is_empty()
    }

    /// The orgs whose rate windows this flush touches, each once (their old windows are pruned).
    pub fn rate_orgs(&self) -> Vec<&str> {
        let mut orgs: Vec<&str> = self.rates.iter().map(|r| r.org.as_str()).collect();
        orgs.sort_unstable();
        orgs.dedup();
        orgs
    }
}

/// When the shell should write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// A flush is already scheduled, or nothing waits.
    Nothing,
    /// Schedule a flush after [`FLUSH_DELAY_MS`].
    Later,
    /// Write now: too much is waiting.
    Now,
}

type MetricKey = (String, String, String);
type RateKey = (String, String, i64);

/// A few hundred counters at most, kept in insertion order: a vector searched in place costs
/// far less wasm than an ordered map (this runs in the orchestrator, at its size budget).
#[derive(Debug)]
struct Counters<K>(Vec<(K, i64)>);

impl<K> Default for Counters<K> {
    fn default() -> Self {
        Counters(Vec::new())
    }
}

impl<K: PartialEq> Counters<K> {
    fn add(&mut self, key: K, n: i64) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v += n,
            None => self.0.push((key, n)),
        }
    }

    fn get(&self, key: &K) -> i64 {
        self.0.iter().find(|(k, _)| k == key).map_or(0, |(_, v)| *v)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn take(&mut self) -> Vec<(K, i64)> {
        std::mem::take(&mut self.0)
    }
}

/// One isolate's unwritten counts.
#[derive(Debug, Default)]
pub struct WriteBehind {
    metrics: Counters<MetricKey>,
    rates: Counters<RateKey>,
    /// Rate counts taken by a flush whose write has not settled yet.
    in_flight: Counters<RateKey>,
    /// When the pending flush was scheduled.
    scheduled_at_ms: Option<i64>,
}

impl WriteBehind {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `increments` to `org`'s series.
    pub fn add_metrics(&mut self, org: &str, increments: &[Increment]) {
        for i in increments {
            self.metrics.add((org.to_owned(), i.name.clone(), i.labels.clone()), i.value);
        }
    }

    /// Counts one request in `org`'s `bucket` for `window`.
    pub fn add_rate(&mut self, org: &str, bucket: &str, window: i64) {
        self.rates.add((org.to_owned(), bucket.to_owned(), window), 1);
    }

    /// Requests counted in this window by this isolate that D1 does not hold yet.
    pub fn unwritten_rate(&self, org: &str, bucket: &str, window: i64) -> i64 {
        let key = (org.to_owned(), bucket.to_owned(), window);
        self.rates.get(&key) + self.in_flight.get(&key)
    }

    fn pending(&self) -> usize {
        self.metrics.len() + self.rates.len()
    }

    /// Whether the caller should arrange a write, and marks a flush scheduled when it should.
    pub fn schedule(&mut self, now_ms: i64) -> Schedule {
        if self.pending() == 0 {
            return Schedule::Nothing;
        }
        if self.pending() >= MAX_PENDING {
            return Schedule::Now;
        }
        match self.scheduled_at_ms {
            Some(at) if now_ms.saturating_sub(at) < STALE_SCHEDULE_MS => Schedule::Nothing,
            _ => {
                self.scheduled_at_ms = Some(now_ms);
                Schedule::Later
            }
        }
    }

    /// Takes everything waiting for one write. The rate counts stay visible to
    /// [`Self::unwritten_rate`] until [`Self::settled`].
    pub fn take(&mut self) -> Flush {
        self.scheduled_at_ms = None;
        let metrics = self
            .metrics
            .take()
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .map(|((org, name, labels), value)| (org, Increment { name, labels, value }))
            .collect();
        let rates = self.rates.take();
        for (key, n) in &rates {
            self.in_flight.add(key.clone(), *n);
        }
        let rates = rates.into_iter().map(|((org, bucket, window), count)| RateCount { org, bucket, window, count }).collect();
        Flush { metrics, rates }
    }

    /// The write of `flush` ended (stored or failed): its rate counts leave the in-flight
    /// set. A failed write loses them, as a lost isolate would; the limits are for cost control.
    pub fn settled(&mut self, flush: &Flush) {
        for r in &flush.rates {
            self.in_flight.add((r.org.clone(), r.bucket.clone(), r.window), -r.count);
        }
        self.in_flight.0.retain(|(_, n)| *n > 0);
    }
}

#[cfg(test)]
#[path = "write_behind/tests.rs"]
mod tests;
