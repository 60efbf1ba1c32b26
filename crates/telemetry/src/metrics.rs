//! Metric families, the increments events add to them, and the Prometheus text rendering.
//!
//! Workers isolates are many and short-lived, so counts are not kept in memory: every event
//! becomes [`Increment`]s that a shell adds to stored series (D1 `metric_counts`, per org),
//! and `GET /metrics` renders what is stored. A histogram is stored as one series per bucket
//! (not cumulative, so an increment touches exactly one bucket) and its `_sum`; rendering
//! makes the buckets cumulative and derives `_count` from them. Increments for the same series
//! may repeat in a batch: each upsert adds its own.


/// HTTP requests by route and status.
pub const REQUESTS: &str = "parley_http_requests_total";
/// Request latency by route, in milliseconds.
pub const LATENCY: &str = "parley_http_request_duration_ms";
const LATENCY_BUCKET: &str = "parley_http_request_duration_ms_bucket";
const LATENCY_SUM: &str = "parley_http_request_duration_ms_sum";
/// Agent turns by outcome.
pub const TURNS: &str = "parley_turns_total";
/// Tool calls by tool and outcome.
pub const TOOL_CALLS: &str = "parley_tool_calls_total";
/// Approval decisions by decision.
pub const APPROVALS: &str = "parley_approvals_total";
/// Send-policy decisions by verdict and first reason.
pub const POLICY_DECISIONS: &str = "parley_policy_decisions_total";
/// Durable Object alarms run, by object.
pub const ALARMS: &str = "parley_alarms_total";
/// Backups by kind (`chat`, `workspace`) and outcome (`ok`, `failed`).
pub const BACKUPS: &str = "parley_backups_total";

/// The header in which the Workspace reports a send's policy decision to the orchestrator,
/// which counts it: `{verdict} {first reason}`.
pub const POLICY_HEADER: &str = "x-parley-policy";

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
    (ALARMS, Kind::Counter, "Durable Object alarms run, by object."),
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
        // The escaped characters are ASCII, so the cuts between them fall on char boundaries.
        let mut from = 0;
        for (i, b) in v.bytes().enumerate() {
            let escaped = match b {
                b'\\' => "\\\\",
                b'"' => "\\\"",
                b'\n' => "\\n",
                _ => continue,
            };
            out.push_str(&v[from..i]);
            out.push_str(escaped);
            from = i + 1;
        }
        out.push_str(&v[from..]);
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
        Increment { name: LATENCY_BUCKET.to_owned(), labels: labels(&[("le", &le), ("route", route)]), value: 1 },
        Increment { name: LATENCY_SUM.to_owned(), labels: labels(&[("route", route)]), value: ms },
    ]
}

/// The Prometheus text exposition of the stored series: every family with its `HELP` and
/// `TYPE`; counters in the order given (the shell reads them sorted by labels); histogram
/// buckets cumulative with `+Inf`, `_sum` and `_count`, per label set in the order first
/// seen. Stored series of unknown families are left out.
pub fn render(stored: &[Series]) -> String {
    let mut out = String::new();
    for (family, kind, help) in FAMILIES {
        line(&mut out, &["# HELP ", family, " ", help]);
        match kind {
            Kind::Counter => {
                line(&mut out, &["# TYPE ", family, " counter"]);
                for s in stored.iter().filter(|s| s.name == *family) {
                    sample(&mut out, family, "", &s.labels, s.value);
                }
            }
            Kind::Histogram => {
                line(&mut out, &["# TYPE ", family, " histogram"]);
                render_histogram(&mut out, family, stored);
            }
        }
    }
    out
}

fn line(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
    out.push('\n');
}

/// `{family}{suffix}{labels} value`.
fn sample(out: &mut String, family: &str, suffix: &str, labels: &str, value: i64) {
    line(out, &[family, suffix, "{", labels, "} ", &value.to_string()]);
}

/// One histogram label set: per-bucket counts (the last is `+Inf`) and the sum.
struct Histogram<'a> {
    labels: &'a str,
    buckets: [i64; LATENCY_BUCKETS_MS.len() + 1],
    sum: i64,
}

fn render_histogram(out: &mut String, family: &str, stored: &[Series]) {
    let mut groups: Vec<Histogram<'_>> = Vec::new();
    for s in stored {
        let (bucket, base) = match s.name.strip_prefix(family) {
            Some("_bucket") => match split_le(&s.labels).and_then(|(le, base)| bucket_index(le).map(|i| (Some(i), base))) {
                Some(found) => found,
                None => continue,
            },
            Some("_sum") => (None, s.labels.as_str()),
            _ => continue,
        };
        let at = match groups.iter().position(|g| g.labels == base) {
            Some(at) => at,
            None => {
                groups.push(Histogram { labels: base, buckets: [0; LATENCY_BUCKETS_MS.len() + 1], sum: 0 });
                groups.len() - 1
            }
        };
        let g = &mut groups[at];
        match bucket {
            Some(i) => g.buckets[i] = g.buckets[i].saturating_add(s.value),
            None => g.sum = g.sum.saturating_add(s.value),
        }
    }
    for g in groups {
        let sep = if g.labels.is_empty() { "" } else { "," };
        let mut cumulative = 0i64;
        for (i, n) in g.buckets.iter().enumerate() {
            cumulative = cumulative.saturating_add(*n);
            let le = LATENCY_BUCKETS_MS.get(i).map_or_else(|| "+Inf".to_owned(), u64::to_string);
            line(out, &[family, "_bucket{le=\"", &le, "\"", sep, g.labels, "} ", &cumulative.to_string()]);
        }
        sample(out, family, "_sum", g.labels, g.sum);
        sample(out, family, "_count", g.labels, cumulative);
    }
}

/// The index of a bucket bound (`+Inf` last), if it is one of ours.
fn bucket_index(le: &str) -> Option<usize> {
    if le == "+Inf" {
        return Some(LATENCY_BUCKETS_MS.len());
    }
    let bound: u64 = le.parse().ok()?;
    LATENCY_BUCKETS_MS.iter().position(|b| *b == bound)
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
