//! Body size caps and the per-org rate limiter.

use egress::{check_request_body, check_response_size, EgressPolicy, Refusal, TokenBucket};

#[test]
fn request_body_cap() {
    let p = EgressPolicy::default();
    assert_eq!(check_request_body(&p, 0), Ok(()));
    assert_eq!(check_request_body(&p, 1024 * 1024), Ok(()));
    let err = check_request_body(&p, 1024 * 1024 + 1).unwrap_err();
    assert_eq!(
        err,
        Refusal::RequestTooLarge {
            len: 1024 * 1024 + 1,
            max: 1024 * 1024
        }
    );
    assert_eq!(err.code(), "request_too_large");

    let small = EgressPolicy {
        max_request_bytes: 10,
        ..EgressPolicy::default()
    };
    assert_eq!(check_request_body(&small, 10), Ok(()));
    assert_eq!(
        check_request_body(&small, 11).unwrap_err().code(),
        "request_too_large"
    );
}

#[test]
fn response_size_cap() {
    let p = EgressPolicy {
        max_response_bytes: 100,
        ..EgressPolicy::default()
    };
    // The shell calls this as chunks arrive.
    let mut read = 0;
    for chunk in [40, 40, 20] {
        read += chunk;
        assert_eq!(check_response_size(&p, read), Ok(()));
    }
    let err = check_response_size(&p, read + 1).unwrap_err();
    assert_eq!(err, Refusal::ResponseTooLarge { len: 101, max: 100 });
    assert_eq!(err.code(), "response_too_large");
    assert!(err.to_string().contains("101"));
    assert_eq!(
        check_response_size(&EgressPolicy::default(), 1024 * 1024 + 1)
            .unwrap_err()
            .code(),
        "response_too_large"
    );
}

fn retry_after(r: Result<(), Refusal>) -> u64 {
    match r {
        Err(Refusal::RateLimited { retry_after_ms }) => retry_after_ms,
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[test]
fn burst_then_refill() {
    let t0 = 1_700_000_000_000;
    let mut bucket = TokenBucket::new(3, 1.0, t0);
    for _ in 0..3 {
        assert_eq!(bucket.try_take(t0), Ok(()));
    }
    assert_eq!(retry_after(bucket.try_take(t0)), 1000);
    assert_eq!(retry_after(bucket.try_take(t0 + 400)), 600);
    // Waiting exactly the advertised time succeeds.
    assert_eq!(bucket.try_take(t0 + 1000), Ok(()));
    assert_eq!(retry_after(bucket.try_take(t0 + 1000)), 1000);
    // A long idle period refills only up to the burst capacity.
    let later = t0 + 3_600_000;
    for _ in 0..3 {
        assert_eq!(bucket.try_take(later), Ok(()));
    }
    assert!(bucket.try_take(later).is_err());
    assert_eq!(bucket.try_take(later).unwrap_err().code(), "rate_limited");
}

#[test]
fn retry_after_is_always_enough() {
    for rate in [0.1, 0.3, 1.0 / 3.0, 2.5, 7.0, 1000.0] {
        let mut bucket = TokenBucket::new(1, rate, 0);
        assert_eq!(bucket.try_take(0), Ok(()));
        let mut now = 0;
        for _ in 0..20 {
            let wait = retry_after(bucket.try_take(now));
            assert!(wait >= 1);
            now += wait as i64;
            assert_eq!(bucket.try_take(now), Ok(()), "rate {rate}, now {now}");
        }
    }
}

#[test]
fn clock_going_backwards_mints_nothing() {
    let mut bucket = TokenBucket::new(1, 1.0, 10_000);
    assert_eq!(bucket.try_take(10_000), Ok(()));
    assert!(bucket.try_take(5_000).is_err());
    assert!(bucket.try_take(10_500).is_err());
    assert_eq!(bucket.try_take(11_000), Ok(()));
}

#[test]
fn no_refill_means_wait_forever() {
    let mut bucket = TokenBucket::new(1, 0.0, 0);
    assert_eq!(bucket.try_take(0), Ok(()));
    assert_eq!(retry_after(bucket.try_take(i64::MAX)), u64::MAX);
    let mut empty = TokenBucket::new(0, 10.0, 0);
    assert_eq!(retry_after(empty.try_take(1_000_000)), u64::MAX);
}

#[test]
fn bucket_round_trips_through_json() {
    let mut bucket = TokenBucket::new(5, 2.0, 1_000);
    bucket.try_take(1_000).unwrap();
    bucket.try_take(1_100).unwrap();
    let json = serde_json::to_string(&bucket).unwrap();
    let mut restored: TokenBucket = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, bucket);
    assert_eq!(restored.try_take(1_200), bucket.try_take(1_200));
    assert_eq!(restored, bucket);
}

#[test]
fn corrupted_state_fails_closed() {
    let mut negative: TokenBucket =
        serde_json::from_str(r#"{"capacity":2,"refill_per_sec":1.0,"tokens":-50.0,"last_ms":0}"#)
            .unwrap();
    assert!(negative.try_take(0).is_err());
    assert_eq!(negative.try_take(1_000), Ok(()));
    let mut overfull: TokenBucket =
        serde_json::from_str(r#"{"capacity":2,"refill_per_sec":-1.0,"tokens":1e9,"last_ms":0}"#)
            .unwrap();
    assert_eq!(overfull.try_take(0), Ok(()));
    assert_eq!(overfull.try_take(0), Ok(()));
    assert_eq!(retry_after(overfull.try_take(10_000)), u64::MAX);
}
