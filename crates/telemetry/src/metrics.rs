//! Metric families, the increments events add to them, and the Prometheus text rendering.
//!
//! Workers isolates are many and short-lived, so counts are not kept in memory: every event
//! becomes [`Increment`]s that a shell adds to stored series (D1 `metric_counts`, per org),
//! and `GET /metrics` renders what is stored. A histogram is stored as one series per bucket
//! (not cumulative, so an increment touches exactly one bucket) and its `_sum`; rendering
//! makes the buckets cumulative and derives `_count` from them.

use std::collections::BTreeMap;
use std::fmt::Write;

/// HTTP requests by route and status.
pub const REQUESTS: &str = "parley_http_requests_total";
/// Request latency by route, in milliseconds.
pub const LATENCY: &str = "parley_http_request_duration_ms";
/// Agent turns by outcome.
pub const TURNS: &str = "parley_turns_total";
/// Tool calls by tool and outcome.
pub const TOOL_CALLS: &str = "parley_tool_calls_total";
/// Approval decisions by decision.
pub const APPROVALS: &str = "parley_approvals_total";
/// Send-policy decisions by verdict and first reason.
pub const POLICY_DECISIONS: &str = "parley_policy_decisions_total";
/// Signed webhook deliveries by source and outcome.
pub const WEBHOOKS: &str = "parley_webhooks_total";
/// Durable Object alarms run, by object.
pub const ALARMS: &str = "parley_alarms_total";
/// Requests refused by the API rate limits, by scope.
pub const RATE_LIMITED: &str = "parley_rate_limited_total";
/// Backups by kind and outcome (none are taken yet).
pub const BACKUPS: &str = "parley_backups_total";

/// Upper bounds of the latency buckets, in milliseconds (`+Inf` follows).
pub const LATENCY_BUCKETS_MS: [u64; 11] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/// What kind of family a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
}

/// Every family `/metrics` shows, in order, with its help text.
pub const FAMILIES: &[(&str, Kind, &str)] = &[
    (REQUESTS, Kind::Counter, "HTTP requests by route and status."),
    (LATENCY, Kind::Histogram, "HTTP request latency by route, in milliseconds."),
    (TURNS, Kind::Counter, "Agent turns by outcome."),
    (TOOL_CALLS, Kind::Counter, "Tool calls by tool and outcome."),
    (APPROVALS, Kind::Counter, "Approval decisions by decision."),
    (POLICY_DECISIONS, Kind::Counter, "Send-policy decisions by verdict and first reason."),
    (WEBHOOKS, Kind::Counter, "Signed webhook deliveries by source and outcome."),
    (ALARMS, Kind::Counter, "Durable Object alarms run, by object."),
    (RATE_LIMITED, Kind::Counter, "Requests refused by the API rate limits, by scope."),
    (BACKUPS, Kind::Counter, "Backups by kind and outcome."),
];

/// One addition to a stored series: the series is `(name, labels)`, unique per org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Increment {
    /// The stored series name: a family name, or a histogram's `_bucket` or `_sum`.
    pub name: String,
    /// The label set, rendered and escaped (`a="x",b="y"`), in a fixed order.
    pub labels: String,
    pub value: i64,
}

/// A stored series as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub labels: String,
    pub value: i64,
}

/// A label set in the given order, each value escaped as the exposition format requires.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

/// A counter increment of one.
pub fn count(name: &str, pairs: &[(&str, &str)]) -> Increment {
    Increment { name: name.to_owned(), labels: labels(pairs), value: 1 }
}

/// What one HTTP request adds: its count, its latency bucket and the latency sum.
pub fn request(route: &str, status: u16, duration_ms: u64) -> Vec<Increment> {
    let status = status.to_string();
    let le = LATENCY_BUCKETS_MS.iter().find(|b| duration_ms <= **b).map_or_else(|| "+Inf".to_owned(), u64::to_string);
    let ms = i64::try_from(duration_ms).unwrap_or(i64::MAX);
    vec![
        count(REQUESTS, &[("route", route), ("status", &status)]),
        Increment { name: format!("{LATENCY}_bucket"), labels: labels(&[("le", &le), ("route", route)]), value: 1 },
        Increment { name: format!("{LATENCY}_sum"), labels: labels(&[("route", route)]), value: ms },
    ]
}

/// Folds increments for the same series together, so a batch writes each series once.
pub fn merge(increments: Vec<Increment>) -> Vec<Increment> {
    let mut merged: BTreeMap<(String, String), i64> = BTreeMap::new();
    for i in increments {
        let v = merged.entry((i.name, i.labels)).or_insert(0);
        *v = v.saturating_add(i.value);
    }
    merged.into_iter().map(|((name, labels), value)| Increment { name, labels, value }).collect()
}

/// The Prometheus text exposition of the stored series: every family with its `HELP` and
/// `TYPE`, series sorted by labels, histogram buckets cumulative with `+Inf`, `_sum` and
/// `_count`. Stored series of unknown families are left out.
pub fn render(stored: &[Series]) -> String {
    let mut out = String::new();
    for (family, kind, help) in FAMILIES {
        let _ = writeln!(out, "# HELP {family} {help}");
        match kind {
            Kind::Counter => {
                let _ = writeln!(out, "# TYPE {family} counter");
                let series: BTreeMap<&str, i64> = stored.iter().filter(|s| s.name == *family).map(|s| (s.labels.as_str(), s.value)).collect();
                for (l, v) in series {
                    let _ = writeln!(out, "{family}{{{l}}} {v}");
                }
            }
            Kind::Histogram => {
                let _ = writeln!(out, "# TYPE {family} histogram");
                render_histogram(&mut out, family, stored);
            }
        }
    }
    out
}

fn render_histogram(out: &mut String, family: &str, stored: &[Series]) {
    let (bucket_name, sum_name) = (format!("{family}_bucket"), format!("{family}_sum"));
    // base labels -> (per-bucket counts, +Inf count, sum)
    let mut by_labels: BTreeMap<&str, ([i64; LATENCY_BUCKETS_MS.len()], i64, i64)> = BTreeMap::new();
    for s in stored {
        if s.name == bucket_name {
            let Some((le, base)) = split_le(&s.labels) else { continue };
            let entry = by_labels.entry(base).or_default();
            match LATENCY_BUCKETS_MS.iter().position(|b| b.to_string() == le) {
                Some(i) => entry.0[i] = entry.0[i].saturating_add(s.value),
                None if le == "+Inf" => entry.1 = entry.1.saturating_add(s.value),
                None => {}
            }
        } else if s.name == sum_name {
            let entry = by_labels.entry(s.labels.as_str()).or_default();
            entry.2 = entry.2.saturating_add(s.value);
        }
    }
    for (base, (buckets, inf, sum)) in by_labels {
        let sep = if base.is_empty() { "" } else { "," };
        let mut cumulative = 0i64;
        for (bound, n) in LATENCY_BUCKETS_MS.iter().zip(buckets) {
            cumulative = cumulative.saturating_add(n);
            let _ = writeln!(out, "{bucket_name}{{le=\"{bound}\"{sep}{base}}} {cumulative}");
        }
        cumulative = cumulative.saturating_add(inf);
        let _ = writeln!(out, "{bucket_name}{{le=\"+Inf\"{sep}{base}}} {cumulative}");
        let _ = writeln!(out, "{sum_name}{{{base}}} {sum}");
        let _ = writeln!(out, "{family}_count{{{base}}} {cumulative}");
    }
}

/// Splits a stored bucket's labels `le="X"[,rest]` into `X` and the rest. `le` comes first
/// and its value never contains a quote, so the first closing quote ends it.
fn split_le(labels: &str) -> Option<(&str, &str)> {
    let rest = labels.strip_prefix("le=\"")?;
    let end = rest.find('"')?;
    let base = &rest[end + 1..];
    Some((&rest[..end], base.strip_prefix(',').unwrap_or(base)))
}

#[cfg(test)]
mod tests;
