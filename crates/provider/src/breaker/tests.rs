use super::*;
use proptest::prelude::*;

const C: BreakerConfig = BreakerConfig { threshold: 3, cool_down_ms: 1000 };

fn failed(b: &mut Breaker, n: u32, now: i64) {
    for _ in 0..n {
        assert_eq!(b.admit(&C, now), Admission::Allowed);
        b.on_failure(&C, now);
    }
}

#[test]
fn opens_after_threshold_consecutive_failures() {
    let mut b = Breaker::default();
    failed(&mut b, 2, 0);
    assert_eq!(b.state, BreakerState::Closed { failures: 2 });
    assert_eq!(b.admit(&C, 10), Admission::Allowed);
    assert!(b.on_failure(&C, 10));
    assert_eq!(b.state, BreakerState::Open { until_ms: 1010 });
    assert_eq!(b.admit(&C, 10), Admission::Rejected { retry_in_ms: 1000 });
    assert_eq!(b.admit(&C, 1009), Admission::Rejected { retry_in_ms: 1 });
}

#[test]
fn a_success_resets_the_count() {
    let mut b = Breaker::default();
    failed(&mut b, 2, 0);
    b.on_success();
    failed(&mut b, 2, 0);
    assert_eq!(b.state, BreakerState::Closed { failures: 2 });
}

#[test]
fn after_the_cool_down_exactly_one_probe_goes_through() {
    let mut b = Breaker::default();
    failed(&mut b, 3, 0);
    assert_eq!(b.admit(&C, 1000), Admission::Probe);
    assert_eq!(b.state, BreakerState::HalfOpen { probe_at_ms: 1000 });
    assert_eq!(b.admit(&C, 1001), Admission::Rejected { retry_in_ms: 999 });
}

#[test]
fn a_successful_probe_closes_the_circuit() {
    let mut b = Breaker::default();
    failed(&mut b, 3, 0);
    assert_eq!(b.admit(&C, 1500), Admission::Probe);
    b.on_success();
    assert_eq!(b.state, BreakerState::Closed { failures: 0 });
    assert_eq!(b.admit(&C, 1501), Admission::Allowed);
}

#[test]
fn a_failed_probe_opens_it_again_for_a_full_cool_down() {
    let mut b = Breaker::default();
    failed(&mut b, 3, 0);
    assert_eq!(b.admit(&C, 1200), Admission::Probe);
    assert!(b.on_failure(&C, 1300));
    assert_eq!(b.state, BreakerState::Open { until_ms: 2300 });
    assert_eq!(b.admit(&C, 2299), Admission::Rejected { retry_in_ms: 1 });
    assert_eq!(b.admit(&C, 2300), Admission::Probe);
}

#[test]
fn a_probe_that_never_reports_is_replaced_after_a_cool_down() {
    let mut b = Breaker::default();
    failed(&mut b, 3, 0);
    assert_eq!(b.admit(&C, 1000), Admission::Probe);
    assert_eq!(b.admit(&C, 1999), Admission::Rejected { retry_in_ms: 1 });
    assert_eq!(b.admit(&C, 2000), Admission::Probe);
}

#[test]
fn failures_of_calls_admitted_earlier_do_not_extend_an_open_circuit() {
    let mut b = Breaker::default();
    failed(&mut b, 3, 0);
    assert!(!b.on_failure(&C, 500));
    assert_eq!(b.state, BreakerState::Open { until_ms: 1000 });
}

#[test]
fn a_threshold_of_one_opens_on_the_first_failure() {
    let one = BreakerConfig { threshold: 1, cool_down_ms: 10 };
    let mut b = Breaker::default();
    assert!(b.on_failure(&one, 0));
    assert_eq!(b.admit(&one, 5), Admission::Rejected { retry_in_ms: 5 });
}

#[test]
fn settings_are_read_within_bounds() {
    assert_eq!(BreakerConfig::from_settings(None, None), BreakerConfig::default());
    assert_eq!(BreakerConfig::from_settings(Some(" 2 "), Some("500")), BreakerConfig { threshold: 2, cool_down_ms: 500 });
    for (t, c) in [("0", "99"), ("1001", "3600001"), ("x", "-5")] {
        assert_eq!(BreakerConfig::from_settings(Some(t), Some(c)), BreakerConfig::default());
    }
}

#[test]
fn breakers_are_kept_per_key_and_bounded() {
    let mut all = Breakers::default();
    all.get("a.example").on_failure(&C, 0);
    assert_eq!(all.get("a.example").state, BreakerState::Closed { failures: 1 });
    assert_eq!(all.get("b.example").state, BreakerState::Closed { failures: 0 });
    for i in 0..1000 {
        all.get(&format!("h{i}"));
    }
    assert!(all.len() <= MAX_KEYS);
    assert_eq!(all.get("a.example").state, BreakerState::Closed { failures: 1 }, "a breaker with failures outlives idle ones");
}

#[derive(Debug, Clone)]
enum Op {
    Call { ok: bool },
    Wait(i64),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(prop_oneof![any::<bool>().prop_map(|ok| Op::Call { ok }), (0i64..1500).prop_map(Op::Wait)], 0..200)
}

proptest! {
    /// Against a simple model: calls are refused exactly while the circuit is open (or a probe
    /// is in flight); it opens only after `threshold` failures in a row or a failed probe, and
    /// once open nothing goes through before the cool-down has passed.
    #[test]
    fn behaves_as_specified(ops in ops(), threshold in 1u32..5, cool_down_ms in 1i64..2000) {
        let config = BreakerConfig { threshold, cool_down_ms };
        let mut b = Breaker::default();
        let (mut now, mut run, mut opened_at): (i64, u32, Option<i64>) = (0, 0, None);
        for op in ops {
            match op {
                Op::Wait(ms) => now += ms,
                Op::Call { ok } => match b.admit(&config, now) {
                    Admission::Rejected { retry_in_ms } => {
                        let at = opened_at.expect("refused only after opening");
                        prop_assert!(retry_in_ms >= 1);
                        prop_assert!(now < at + 2 * cool_down_ms);
                    }
                    admitted => {
                        if let Some(at) = opened_at {
                            prop_assert_eq!(admitted, Admission::Probe);
                            prop_assert!(now >= at + cool_down_ms);
                        }
                        if ok {
                            b.on_success();
                            run = 0;
                            opened_at = None;
                        } else {
                            run += 1;
                            let opened = b.on_failure(&config, now);
                            prop_assert_eq!(opened, opened_at.is_some() || run >= threshold);
                            if opened {
                                opened_at = Some(now);
                            }
                        }
                    }
                },
            }
        }
    }
}
