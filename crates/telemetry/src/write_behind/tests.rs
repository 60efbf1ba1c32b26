use super::*;
use std::collections::BTreeMap;
use proptest::prelude::*;

fn inc(name: &str, labels: &str, value: i64) -> Increment {
    Increment { name: name.into(), labels: labels.into(), value }
}

#[test]
fn increments_of_one_series_are_summed_per_org() {
    let mut wb = WriteBehind::new();
    wb.add_metrics("org_a", &[inc("m", "x=\"1\"", 1), inc("m", "x=\"1\"", 2), inc("m", "x=\"2\"", 1)]);
    wb.add_metrics("org_b", &[inc("m", "x=\"1\"", 5)]);
    let flush = wb.take();
    assert_eq!(
        flush.metrics,
        vec![
            ("org_a".to_owned(), inc("m", "x=\"1\"", 3)),
            ("org_a".to_owned(), inc("m", "x=\"2\"", 1)),
            ("org_b".to_owned(), inc("m", "x=\"1\"", 5)),
        ]
    );
    assert!(wb.take().is_empty(), "a take leaves nothing behind");
}

#[test]
fn one_flush_is_scheduled_per_batch() {
    let mut wb = WriteBehind::new();
    assert_eq!(wb.schedule(0), Schedule::Nothing, "nothing waits");
    wb.add_rate("org", "api:org", 7);
    assert_eq!(wb.schedule(10), Schedule::Later);
    wb.add_rate("org", "api:org", 7);
    assert_eq!(wb.schedule(20), Schedule::Nothing, "the scheduled flush will take it");
    wb.take();
    wb.add_rate("org", "api:org", 7);
    assert_eq!(wb.schedule(30), Schedule::Later, "a new batch gets its own flush");
}

#[test]
fn a_flush_that_never_ran_is_replaced_after_a_while() {
    let mut wb = WriteBehind::new();
    wb.add_rate("org", "b", 1);
    assert_eq!(wb.schedule(0), Schedule::Later);
    assert_eq!(wb.schedule(STALE_SCHEDULE_MS - 1), Schedule::Nothing);
    assert_eq!(wb.schedule(STALE_SCHEDULE_MS), Schedule::Later);
}

#[test]
fn too_much_waiting_makes_the_flush_due_now() {
    let mut wb = WriteBehind::new();
    for i in 0..MAX_PENDING {
        wb.add_rate("org", &format!("api:user:{i}"), 1);
    }
    assert_eq!(wb.schedule(0), Schedule::Now);
}

#[test]
fn taken_rate_counts_stay_visible_until_their_write_settles() {
    let mut wb = WriteBehind::new();
    wb.add_rate("org", "api:org", 3);
    wb.add_rate("org", "api:org", 3);
    assert_eq!(wb.unwritten_rate("org", "api:org", 3), 2);
    let flush = wb.take();
    assert_eq!(flush.rates, vec![RateCount { org: "org".into(), bucket: "api:org".into(), window: 3, count: 2 }]);
    wb.add_rate("org", "api:org", 3);
    assert_eq!(wb.unwritten_rate("org", "api:org", 3), 3, "in flight plus new");
    wb.settled(&flush);
    assert_eq!(wb.unwritten_rate("org", "api:org", 3), 1);
    assert_eq!(wb.unwritten_rate("org", "api:org", 4), 0, "another window");
    assert_eq!(wb.unwritten_rate("other", "api:org", 3), 0, "another org");
}

#[test]
fn rate_orgs_are_listed_once() {
    let mut wb = WriteBehind::new();
    wb.add_rate("b", "api:org", 1);
    wb.add_rate("a", "api:org", 1);
    wb.add_rate("b", "api:user:u", 1);
    assert_eq!(wb.take().rate_orgs(), vec!["a", "b"]);
}

#[derive(Debug, Clone)]
enum Op {
    Count(u8, u8),
    Take,
    Settle,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, 0u8..3).prop_map(|(o, b)| Op::Count(o, b)),
        1 => Just(Op::Take),
        1 => Just(Op::Settle),
    ]
}

proptest! {
    /// Whatever the interleaving of requests, flushes and settled writes, every counted request
    /// is either written (settled) or still visible as unwritten: none is lost or counted twice.
    #[test]
    fn every_request_is_written_or_still_visible(ops in proptest::collection::vec(op(), 0..80)) {
        let mut wb = WriteBehind::new();
        let mut counted: BTreeMap<(u8, u8), i64> = BTreeMap::new();
        let mut written: BTreeMap<(u8, u8), i64> = BTreeMap::new();
        let mut flights: Vec<Flush> = Vec::new();
        for op in ops {
            match op {
                Op::Count(o, b) => {
                    wb.add_rate(&format!("org{o}"), &format!("b{b}"), 9);
                    *counted.entry((o, b)).or_insert(0) += 1;
                }
                Op::Take => flights.push(wb.take()),
                Op::Settle => {
                    if !flights.is_empty() {
                        let f = flights.remove(0);
                        for r in &f.rates {
                            let o: u8 = r.org[3..].parse().unwrap();
                            let b: u8 = r.bucket[1..].parse().unwrap();
                            *written.entry((o, b)).or_insert(0) += r.count;
                        }
                        wb.settled(&f);
                    }
                }
            }
            for ((o, b), n) in &counted {
                let w = written.get(&(*o, *b)).copied().unwrap_or(0);
                prop_assert_eq!(wb.unwritten_rate(&format!("org{o}"), &format!("b{b}"), 9) + w, *n);
            }
        }
    }
}
