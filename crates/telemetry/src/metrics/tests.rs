use super::*;
use proptest::prelude::*;

/// What D1 holds after the upserts (each adds to its series), read sorted by name and labels.
fn stored(increments: Vec<Increment>) -> Vec<Series> {
    let mut rows: Vec<Series> = Vec::new();
    for i in increments {
        match rows.iter_mut().find(|r| r.name == i.name && r.labels == i.labels) {
            Some(r) => r.value += i.value,
            None => rows.push(Series { name: i.name, labels: i.labels, value: i.value }),
        }
    }
    rows.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    rows
}

fn sample(text: &str, series: &str) -> Option<i64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(labels(&[("route", "a\"b\\c\nd"), ("status", "200")]), r#"route="a\"b\\c\nd",status="200""#);
    assert_eq!(labels(&[]), "");
}

#[test]
fn every_family_has_help_and_type_even_when_empty() {
    let text = render(&[]);
    for (family, kind, _) in FAMILIES {
        assert!(text.contains(&format!("# HELP {family} ")), "{family}");
        let kind = if *kind == Kind::Counter { "counter" } else { "histogram" };
        assert!(text.contains(&format!("# TYPE {family} {kind}\n")), "{family}");
    }
    assert!(text.contains("# TYPE parley_backups_total counter"));
}

#[test]
fn counters_add_up_per_label_set() {
    let mut incs = request("PostMessage", 201, 12);
    incs.extend(request("PostMessage", 201, 30));
    incs.extend(request("PostMessage", 429, 3));
    incs.push(count(TURNS, &[("outcome", "completed")]));
    let text = render(&stored(incs));
    assert_eq!(sample(&text, r#"parley_http_requests_total{route="PostMessage",status="201"}"#), Some(2));
    assert_eq!(sample(&text, r#"parley_http_requests_total{route="PostMessage",status="429"}"#), Some(1));
    assert_eq!(sample(&text, r#"parley_turns_total{outcome="completed"}"#), Some(1));
}

#[test]
fn histogram_buckets_are_cumulative_with_sum_and_count() {
    let mut incs = Vec::new();
    for ms in [3, 5, 6, 99, 100, 101, 10_000, 10_001, 60_000] {
        incs.extend(request("ListChats", 200, ms));
    }
    let text = render(&stored(incs));
    let bucket = |le: &str| sample(&text, &format!(r#"parley_http_request_duration_ms_bucket{{le="{le}",route="ListChats"}}"#));
    assert_eq!(bucket("5"), Some(2));
    assert_eq!(bucket("10"), Some(3));
    assert_eq!(bucket("50"), Some(3));
    assert_eq!(bucket("100"), Some(5));
    assert_eq!(bucket("250"), Some(6));
    assert_eq!(bucket("10000"), Some(7));
    assert_eq!(bucket("+Inf"), Some(9));
    assert_eq!(sample(&text, r#"parley_http_request_duration_ms_sum{route="ListChats"}"#), Some(3 + 5 + 6 + 99 + 100 + 101 + 10_000 + 10_001 + 60_000));
    assert_eq!(sample(&text, r#"parley_http_request_duration_ms_count{route="ListChats"}"#), Some(9));
}

#[test]
fn unknown_series_and_malformed_bucket_labels_are_left_out() {
    let rows = vec![
        Series { name: "other_total".into(), labels: "a=\"b\"".into(), value: 7 },
        Series { name: "parley_http_request_duration_ms_bucket".into(), labels: "route=\"x\"".into(), value: 7 },
        Series { name: "parley_http_request_duration_ms_bucket".into(), labels: "le=\"7\",route=\"x\"".into(), value: 7 },
    ];
    let text = render(&rows);
    assert!(!text.contains("other_total"));
    assert!(!text.contains("le=\"7\""));
}

#[test]
fn counters_keep_the_order_they_are_read_in() {
    let rows = vec![
        Series { name: TURNS.into(), labels: labels(&[("outcome", "a")]), value: 1 },
        Series { name: TURNS.into(), labels: labels(&[("outcome", "b")]), value: 2 },
    ];
    let text = render(&rows);
    assert!(text.find("outcome=\"a\"").unwrap() < text.find("outcome=\"b\"").unwrap());
}

proptest! {
    /// Whatever latencies are observed, the buckets never decrease, `+Inf` equals `_count`
    /// equals the number of requests, and `_sum` is their total.
    #[test]
    fn histograms_are_consistent(latencies in proptest::collection::vec(0u64..100_000, 0..60), route in "[A-Za-z\"\\\\]{1,8}") {
        let incs: Vec<Increment> = latencies.iter().flat_map(|ms| request(&route, 200, *ms)).collect();
        let text = render(&stored(incs));
        let base = labels(&[("route", &route)]);
        let mut last = 0;
        for le in LATENCY_BUCKETS_MS.iter().map(u64::to_string).chain(["+Inf".to_owned()]) {
            let n = sample(&text, &format!("parley_http_request_duration_ms_bucket{{le=\"{le}\",{base}}}")).unwrap_or(0);
            prop_assert!(n >= last);
            last = n;
        }
        if !latencies.is_empty() {
            prop_assert_eq!(last, latencies.len() as i64);
            prop_assert_eq!(sample(&text, &format!("parley_http_request_duration_ms_count{{{base}}}")), Some(latencies.len() as i64));
            prop_assert_eq!(sample(&text, &format!("parley_http_request_duration_ms_sum{{{base}}}")), Some(latencies.iter().sum::<u64>() as i64));
        }
    }
}
