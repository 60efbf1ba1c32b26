//! Stripe webhooks. One header comes with each request:
//!
//! `Stripe-Signature: t=1492774577,v1=5257a8...,v1=...,v0=...`
//!
//! - comma-separated `key=value` pairs;
//! - `t`: seconds since the Unix epoch when the event was signed (the first `t` counts, as in
//!   Stripe's own libraries);
//! - `v1`: lowercase hex HMAC-SHA256 of `{t}.{body}`. Several are sent while the endpoint's
//!   secret is being rolled, and any one may match;
//! - `v0` (a legacy scheme Stripe sends in test mode) and unknown keys are ignored, so a header
//!   carrying only those is refused.
//!
//! Unlike Svix, the HMAC key is the whole `whsec_...` secret string, bytes as they are, not a
//! decoded form of it.

use hmac::Mac;

use crate::{decode_hex, encode_hex, fresh, mac, SignatureError};

/// The `Stripe-Signature` value (`t=...,v1=...`) for a body, for senders and tests.
pub fn sign_stripe(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret.as_bytes(), &timestamp.to_string(), body).finalize().into_bytes();
    format!("t={timestamp},v1={}", encode_hex(&tag))
}

/// Verifies a Stripe-signed request from its `Stripe-Signature` header and returns the signed
/// timestamp `t`. `now_secs` is the current time in seconds since the epoch.
///
/// Errors, in the order they are checked:
/// - [`SignatureError::BadSecret`]: the secret is empty (HMAC would accept an empty key, and
///   then anyone could forge a signature). Checked first so a misconfiguration shows on every
///   request instead of hiding behind bad requests;
/// - [`SignatureError::Missing`]: the header is missing or blank, or has no `t`;
/// - [`SignatureError::NoV1Signature`]: the header has no `v1` at all (e.g. only `v0`). Kept
///   apart from `Missing` because the header did arrive: it points at how the sender signs,
///   not at a proxy dropping the header;
/// - [`SignatureError::BadTimestamp`]: `t` is not a whole number of seconds;
/// - [`SignatureError::Stale`]: `t` is more than [`crate::TOLERANCE_SECS`] from now, either way
///   (Stripe's libraries only refuse old ones; refusing the future too closes replays signed
///   ahead by a skewed or compromised clock);
/// - [`SignatureError::Mismatch`]: no `v1` matches.
pub fn verify_stripe(secret: &str, header: Option<&str>, body: &[u8], now_secs: i64) -> Result<i64, SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::BadSecret);
    }
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(SignatureError::Missing);
    };
    let pairs = || header.split(',').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.trim(), v.trim()));
    let Some(t) = pairs().find(|(k, _)| *k == "t").map(|(_, v)| v) else {
        return Err(SignatureError::Missing);
    };
    let mut v1 = pairs().filter(|(k, _)| *k == "v1").map(|(_, v)| v).peekable();
    if v1.peek().is_none() {
        return Err(SignatureError::NoV1Signature);
    }
    let ts: i64 = t.parse().map_err(|_| SignatureError::BadTimestamp)?;
    if !fresh(ts, now_secs) {
        return Err(SignatureError::Stale);
    }
    // Stripe signs the parsed integer, re-formatted, rather than the header's raw text.
    let expected = mac(secret.as_bytes(), &ts.to_string(), body);
    // A value that is not hex cannot match; it is skipped like a wrong one. (Uppercase hex
    // decodes to the same bytes, so accepting it admits no other signature.)
    for candidate in v1.filter_map(decode_hex) {
        // `verify_slice` compares in constant time, and refuses a truncated tag.
        if expected.clone().verify_slice(&candidate).is_ok() {
            return Ok(ts);
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "whsec_8KpJ3vQ2mX7rT1yL5nB9cF4dG6hA0sE2";
    const TS: i64 = 1_492_774_577;
    const BODY: &[u8] = br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"checkout.session.completed"}"#;

    /// Computed outside this crate, with
    /// `printf '%s' '1492774577.{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"checkout.session.completed"}' | openssl dgst -sha256 -hmac 'whsec_8KpJ3vQ2mX7rT1yL5nB9cF4dG6hA0sE2'`
    /// and confirmed with Python's `hmac.new(secret.encode(), b"1492774577." + body, hashlib.sha256).hexdigest()`.
    /// The key is the secret's full text, prefix included.
    const KNOWN_V1: &str = "59342771e2408182e8be054fe56e9b38e1d2030a02e6c9f4390e6e8687f779ae";

    fn check(header: &str, now: i64) -> Result<i64, SignatureError> {
        verify_stripe(SECRET, Some(header), BODY, now)
    }

    #[test]
    fn known_answer() {
        assert_eq!(sign_stripe(SECRET, TS, BODY), format!("t=1492774577,v1={KNOWN_V1}"));
        assert_eq!(check(&format!("t=1492774577,v1={KNOWN_V1}"), TS), Ok(TS));
        assert_eq!(check(&format!("t=1492774577,v1={}", KNOWN_V1.to_uppercase()), TS), Ok(TS), "the same bytes");
    }

    #[test]
    fn every_way_to_get_it_wrong() {
        let good = format!("t=1492774577,v1={KNOWN_V1}");
        let other = sign_stripe("whsec_another", TS, BODY);
        let other_v1 = other.split_once(",v1=").unwrap().1;

        // Tampering with anything that is signed.
        assert_eq!(verify_stripe(SECRET, Some(&good), br#"{"id":"evt_2"}"#, TS), Err(SignatureError::Mismatch));
        assert_eq!(check(&format!("t=1492774578,v1={KNOWN_V1}"), TS), Err(SignatureError::Mismatch), "the timestamp is signed");
        assert_eq!(check(&other, TS), Err(SignatureError::Mismatch), "signed with another secret");
        assert_eq!(verify_stripe("whsec_another", Some(&good), BODY, TS), Err(SignatureError::Mismatch), "verified with another secret");
        assert_eq!(verify_stripe(SECRET.strip_prefix("whsec_").unwrap(), Some(&good), BODY, TS), Err(SignatureError::Mismatch), "the prefix is part of the key");

        // Freshness: exactly 300 s either way is accepted, 301 is not.
        assert_eq!(check(&good, TS + 300), Ok(TS));
        assert_eq!(check(&good, TS - 300), Ok(TS));
        assert_eq!(check(&good, TS + 301), Err(SignatureError::Stale), "too old");
        assert_eq!(check(&good, TS - 301), Err(SignatureError::Stale), "from the future");
        assert_eq!(check(&format!("t=-9223372036854775808,v1={KNOWN_V1}"), TS), Err(SignatureError::Stale), "no overflow");

        // The header.
        assert_eq!(verify_stripe(SECRET, None, BODY, TS), Err(SignatureError::Missing));
        assert_eq!(check("  ", TS), Err(SignatureError::Missing));
        assert_eq!(check(&format!("v1={KNOWN_V1}"), TS), Err(SignatureError::Missing), "no t");
        assert_eq!(check(&format!("t1492774577,v1={KNOWN_V1}"), TS), Err(SignatureError::Missing), "t without =");
        assert_eq!(check("t=1492774577", TS), Err(SignatureError::NoV1Signature));
        assert_eq!(check(&format!("t=1492774577,v0={KNOWN_V1}"), TS), Err(SignatureError::NoV1Signature), "v0 is ignored, even when the bytes would match");
        assert_eq!(check(&format!("t=1492774577,v2={KNOWN_V1},x=y"), TS), Err(SignatureError::NoV1Signature), "unknown keys are ignored");
        assert_eq!(check(&format!("t=soon,v1={KNOWN_V1}"), TS), Err(SignatureError::BadTimestamp));
        assert_eq!(check(&format!("t=1492774577.0,v1={KNOWN_V1}"), TS), Err(SignatureError::BadTimestamp));

        // Several signatures.
        assert_eq!(check(&format!("t=1492774577,v1={other_v1},v0=abcd,v1={KNOWN_V1}"), TS), Ok(TS), "a later v1 may match");
        assert_eq!(check(&format!("t=1492774577, v1=zz, v1={KNOWN_V1}"), TS), Ok(TS), "an undecodable v1 is skipped; spaces are tolerated");
        assert_eq!(check(&format!("t=1492774577,v1={}", &KNOWN_V1[..32]), TS), Err(SignatureError::Mismatch), "a truncated tag is refused");
        assert_eq!(check("t=1492774577,v1=", TS), Err(SignatureError::Mismatch));
        assert_eq!(check(&format!("t=1492774577,v1={KNOWN_V1},t=1492774999"), TS), Ok(TS), "the first t counts");

        // The secret.
        assert_eq!(verify_stripe("", Some(&good), BODY, TS), Err(SignatureError::BadSecret));
        assert_eq!(verify_stripe("", None, BODY, TS), Err(SignatureError::BadSecret), "a bad secret shows before a bad request");
        assert_eq!(SignatureError::NoV1Signature.code(), "signature_v1_missing");
    }

    proptest! {
        #[test]
        fn a_signature_verifies_only_its_own_body(
            secret in "whsec_[A-Za-z0-9]{1,40}",
            body in proptest::collection::vec(any::<u8>(), 0..200),
            other in proptest::collection::vec(any::<u8>(), 0..200),
            ts in 0i64..2_000_000_000,
        ) {
            let header = sign_stripe(&secret, ts, &body);
            prop_assert_eq!(verify_stripe(&secret, Some(&header), &body, ts), Ok(ts));
            if other != body {
                prop_assert_eq!(verify_stripe(&secret, Some(&header), &other, ts), Err(SignatureError::Mismatch));
            }
        }
    }
}
