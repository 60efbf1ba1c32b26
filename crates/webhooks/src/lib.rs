//! Verifying signed webhooks. Parley's own inbound webhook (a messaging provider reporting a
//! contact's reply) is signed like this:
//!
//! - `x-parley-timestamp`: seconds since the Unix epoch when the request was signed;
//! - `x-parley-signature`: `v1=<hex HMAC-SHA256 of "{timestamp}.{body}" keyed with the secret>`;
//!   several comma-separated `v1=` values may be sent during a secret rotation, any one may match.
//!
//! Requests signed more than [`TOLERANCE_SECS`] away from now, in either direction, are refused,
//! so a captured request cannot be replayed later.
//!
//! Two third-party schemes are verified too, each exactly as its sender signs:
//! [`svix`] (Clerk's webhooks) and [`stripe`]. All three share [`SignatureError`] and the
//! same [`TOLERANCE_SECS`] window.

pub mod stripe;
pub mod svix;

pub use stripe::{sign_stripe, verify_stripe};
pub use svix::{sign_svix, verify_svix};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// How far a signature's timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signed request is refused. Each reason has its own code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    #[error("the signature or timestamp header is missing")]
    Missing,
    #[error("the timestamp header is not a number of seconds")]
    BadTimestamp,
    #[error("the timestamp is more than {TOLERANCE_SECS} seconds from now")]
    Stale,
    #[error("no v1 signature matches")]
    Mismatch,
    /// The signature header is present but carries no `v1` entry at all (e.g. Stripe's legacy
    /// `v0` only). Kept apart from [`SignatureError::Mismatch`] because it points at the
    /// sender's configuration, not at a forged or corrupted request.
    #[error("the signature header has no v1 signature")]
    NoV1Signature,
    /// The configured secret is unusable (empty, or for Svix not `whsec_<base64>`). This is our
    /// configuration error, not the caller's, so the shell should answer it like a missing
    /// secret rather than as a bad request.
    #[error("the webhook secret is empty or not valid base64")]
    BadSecret,
}

impl SignatureError {
    /// A stable machine-readable code for API error bodies and logs.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::Missing => "signature_missing",
            SignatureError::BadTimestamp => "signature_timestamp_invalid",
            SignatureError::Stale => "signature_timestamp_stale",
            SignatureError::Mismatch => "signature_mismatch",
            SignatureError::NoV1Signature => "signature_v1_missing",
            SignatureError::BadSecret => "webhook_secret_invalid",
        }
    }
}

pub(crate) fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `x-parley-signature` value for a body (for senders and tests).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body).finalize().into_bytes();
    format!("v1={}", encode_hex(&tag))
}

/// Verifies a request. `now_secs` is the current time in seconds since the epoch.
pub fn verify(secret: &[u8], timestamp: Option<&str>, signature: Option<&str>, body: &[u8], now_secs: i64) -> Result<(), SignatureError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else { return Err(SignatureError::Missing) };
    let ts: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    if !fresh(ts, now_secs) {
        return Err(SignatureError::Stale);
    }
    let candidates = signature.split(',').filter_map(|part| part.trim().strip_prefix("v1=")).filter_map(decode_hex);
    for candidate in candidates {
        // `verify_slice` compares in constant time.
        if mac(secret, timestamp.trim(), body).verify_slice(&candidate).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// Whether a signature made at `ts` is within [`TOLERANCE_SECS`] of `now_secs`, either way,
/// the boundary included. `abs_diff` rather than `(now - ts).abs()`: a header such as
/// `-9223372036854775808` would overflow the subtraction (a panic in debug builds).
pub(crate) fn fresh(ts: i64, now_secs: i64) -> bool {
    now_secs.abs_diff(ts) <= TOLERANCE_SECS.unsigned_abs()
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"whsec_test";

    #[test]
    fn every_way_to_get_it_wrong() {
        let body = br#"{"hello":"world"}"#;
        let sig = sign(SECRET, 1_000, body);
        assert_eq!(verify(SECRET, Some("1000"), Some(&sig), body, 1_000), Ok(()));
        assert_eq!(verify(SECRET, Some("1000"), Some(&format!("v1=00, {sig}")), body, 1_100), Ok(()), "any one of several may match");
        assert_eq!(verify(SECRET, None, Some(&sig), body, 1_000), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, Some("1000"), None, body, 1_000), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, Some("soon"), Some(&sig), body, 1_000), Err(SignatureError::BadTimestamp));
        assert_eq!(verify(SECRET, Some("1000"), Some(&sig), body, 1_301), Err(SignatureError::Stale));
        assert_eq!(verify(SECRET, Some("1000"), Some(&sig), body, 699), Err(SignatureError::Stale), "future timestamps too");
        assert_eq!(verify(SECRET, Some("-9223372036854775808"), Some(&sig), body, 1_000), Err(SignatureError::Stale), "no overflow");
        assert_eq!(verify(SECRET, Some("1000"), Some(&sig), br#"{"hello":"World"}"#, 1_000), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"other", Some("1000"), Some(&sig), body, 1_000), Err(SignatureError::Mismatch));
        assert_eq!(verify(SECRET, Some("1001"), Some(&sig), body, 1_000), Err(SignatureError::Mismatch), "the timestamp is signed");
        assert_eq!(verify(SECRET, Some("1000"), Some("v0=abcd"), body, 1_000), Err(SignatureError::Mismatch));
    }

    proptest! {
        #[test]
        fn a_signature_verifies_only_its_own_body(body in proptest::collection::vec(any::<u8>(), 0..200), other in proptest::collection::vec(any::<u8>(), 0..200), ts in 0i64..2_000_000_000) {
            let sig = sign(SECRET, ts, &body);
            prop_assert_eq!(verify(SECRET, Some(&ts.to_string()), Some(&sig), &body, ts), Ok(()));
            if other != body {
                prop_assert_eq!(verify(SECRET, Some(&ts.to_string()), Some(&sig), &other, ts), Err(SignatureError::Mismatch));
            }
        }
    }
}
