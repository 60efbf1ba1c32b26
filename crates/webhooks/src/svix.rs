//! Svix webhooks, which is how Clerk signs its events. Three headers come with each request:
//!
//! - `svix-id`: the message id, unique per message (and signed, so it can be used to dedupe);
//! - `svix-timestamp`: seconds since the Unix epoch when the message was signed;
//! - `svix-signature`: a space-separated list of `v1,<base64 HMAC-SHA256>` entries. Several are
//!   sent while the endpoint's secret is being rotated, and any one may match. Entries with
//!   another version prefix are ignored, as Svix's own libraries do, so a future scheme can be
//!   added by the sender without breaking us.
//!
//! The HMAC key is the base64-decoded part of the `whsec_<base64>` secret (not the string itself,
//! unlike Stripe), and the signed content is `{id}.{timestamp}.{body}`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{fresh, SignatureError};

/// The prefix Svix puts in front of the base64 key in the secrets it hands out.
const SECRET_PREFIX: &str = "whsec_";

/// Decodes `whsec_<base64>` (or the bare base64) into the HMAC key.
///
/// An empty key is refused too: HMAC would accept it, but then anyone could forge a signature,
/// so it can only be a configuration mistake.
fn key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let encoded = secret.trim();
    let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
    match STANDARD.decode(encoded) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(SignatureError::BadSecret),
    }
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    // Svix signs the timestamp as it re-formats the parsed integer, not the header's raw text.
    m.update(format!("{id}.{timestamp}.").as_bytes());
    m.update(body);
    m
}

/// A present, non-blank header value, trimmed.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// The `svix-signature` value (`v1,<base64>`) for a message, for senders and tests.
///
/// Fails with [`SignatureError::BadSecret`] if the secret is not `whsec_<base64>` or bare base64.
pub fn sign_svix(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignatureError> {
    let tag = mac(&key(secret)?, id, timestamp, body).finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Verifies a Svix-signed request (Clerk webhooks) from its `svix-id`, `svix-timestamp` and
/// `svix-signature` headers. `now_secs` is the current time in seconds since the epoch.
///
/// Errors, in the order they are checked:
/// - [`SignatureError::BadSecret`]: the configured secret is unusable. Checked first so a
///   misconfiguration shows on every request instead of hiding behind bad requests;
/// - [`SignatureError::Missing`]: any of the three headers is missing or blank;
/// - [`SignatureError::BadTimestamp`]: the timestamp is not a whole number of seconds;
/// - [`SignatureError::Stale`]: the timestamp is more than [`crate::TOLERANCE_SECS`] from now;
/// - [`SignatureError::NoV1Signature`]: the signature header has no `v1,` entry at all;
/// - [`SignatureError::Mismatch`]: no `v1` entry matches.
pub fn verify_svix(secret: &str, id: Option<&str>, timestamp: Option<&str>, signature: Option<&str>, body: &[u8], now_secs: i64) -> Result<(), SignatureError> {
    let key = key(secret)?;
    let (Some(id), Some(timestamp), Some(signature)) = (present(id), present(timestamp), present(signature)) else {
        return Err(SignatureError::Missing);
    };
    let ts: i64 = timestamp.parse().map_err(|_| SignatureError::BadTimestamp)?;
    if !fresh(ts, now_secs) {
        return Err(SignatureError::Stale);
    }
    let mut v1_entries = signature.split_whitespace().filter_map(|entry| entry.split_once(',')).filter(|(version, _)| *version == "v1").peekable();
    if v1_entries.peek().is_none() {
        return Err(SignatureError::NoV1Signature);
    }
    let expected = mac(&key, id, ts, body);
    // An entry that is not base64 cannot match; it is skipped like a wrong one.
    for candidate in v1_entries.filter_map(|(_, sig)| STANDARD.decode(sig).ok()) {
        // `verify_slice` compares in constant time, and refuses a truncated tag.
        if expected.clone().verify_slice(&candidate).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The example secret and message from Svix's documentation.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    /// Computed outside this crate, with
    /// `python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}", hashlib.sha256).digest()).decode())'`
    /// and confirmed with `openssl dgst -sha256 -mac HMAC -macopt hexkey:... -binary | base64`.
    /// It is also the value Svix's documentation gives for this example.
    const KNOWN: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn check(signature: &str, now: i64) -> Result<(), SignatureError> {
        verify_svix(SECRET, Some(ID), Some(&TS.to_string()), Some(signature), BODY, now)
    }

    #[test]
    fn known_answer() {
        assert_eq!(sign_svix(SECRET, ID, TS, BODY).as_deref(), Ok(KNOWN));
        assert_eq!(check(KNOWN, TS), Ok(()));
        let bare = SECRET.strip_prefix("whsec_").unwrap();
        assert_eq!(sign_svix(bare, ID, TS, BODY).as_deref(), Ok(KNOWN), "a secret without the prefix is the same key");
        assert_eq!(verify_svix(bare, Some(ID), Some("1614265330"), Some(KNOWN), BODY, TS), Ok(()));
    }

    #[test]
    fn every_way_to_get_it_wrong() {
        let ts = TS.to_string();
        let other = sign_svix("whsec_c2VjcmV0LW51bWJlci10d28=", ID, TS, BODY).unwrap();

        // Tampering with anything that is signed.
        assert_eq!(verify_svix(SECRET, Some(ID), Some(&ts), Some(KNOWN), br#"{"test": 2432232315}"#, TS), Err(SignatureError::Mismatch));
        assert_eq!(verify_svix(SECRET, Some("msg_other"), Some(&ts), Some(KNOWN), BODY, TS), Err(SignatureError::Mismatch), "the id is signed");
        assert_eq!(verify_svix(SECRET, Some(ID), Some("1614265331"), Some(KNOWN), BODY, TS), Err(SignatureError::Mismatch), "the timestamp is signed");
        assert_eq!(check(&other, TS), Err(SignatureError::Mismatch), "signed with another secret");
        assert_eq!(verify_svix("whsec_c2VjcmV0LW51bWJlci10d28=", Some(ID), Some(&ts), Some(KNOWN), BODY, TS), Err(SignatureError::Mismatch), "verified with another secret");
        // The key is the decoded secret, not the secret's text.
        let mut m = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        m.update(b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.");
        m.update(BODY);
        assert_eq!(check(&format!("v1,{}", STANDARD.encode(m.finalize().into_bytes())), TS), Err(SignatureError::Mismatch));

        // Freshness: exactly 300 s either way is accepted, 301 is not.
        assert_eq!(check(KNOWN, TS + 300), Ok(()));
        assert_eq!(check(KNOWN, TS - 300), Ok(()));
        assert_eq!(check(KNOWN, TS + 301), Err(SignatureError::Stale), "too old");
        assert_eq!(check(KNOWN, TS - 301), Err(SignatureError::Stale), "from the future");
        assert_eq!(verify_svix(SECRET, Some(ID), Some("-9223372036854775808"), Some(KNOWN), BODY, TS), Err(SignatureError::Stale), "no overflow");

        // Headers.
        for (id, ts, sig) in [(None, Some("1614265330"), Some(KNOWN)), (Some(ID), None, Some(KNOWN)), (Some(ID), Some("1614265330"), None), (Some(""), Some("1614265330"), Some(KNOWN)), (Some(ID), Some(" "), Some(KNOWN)), (Some(ID), Some("1614265330"), Some(""))] {
            assert_eq!(verify_svix(SECRET, id, ts, sig, BODY, TS), Err(SignatureError::Missing), "{id:?} {ts:?} {sig:?}");
        }
        assert_eq!(verify_svix(SECRET, Some(ID), Some("soon"), Some(KNOWN), BODY, TS), Err(SignatureError::BadTimestamp));
        assert_eq!(verify_svix(SECRET, Some(ID), Some("1614265330.5"), Some(KNOWN), BODY, TS), Err(SignatureError::BadTimestamp));

        // Signature lists.
        assert_eq!(check(&format!("{other} v1,bm90IGl0 {KNOWN}"), TS), Ok(()), "a later entry may match");
        assert_eq!(check(&format!("v1,!!notbase64!! {KNOWN}"), TS), Ok(()), "an undecodable entry is skipped");
        let truncated = format!("v1,{}", STANDARD.encode(&STANDARD.decode(&KNOWN[3..]).unwrap()[..16]));
        assert_eq!(check(&truncated, TS), Err(SignatureError::Mismatch), "a truncated tag is refused");
        let relabelled = KNOWN.replacen("v1,", "v2,", 1);
        assert_eq!(check(&relabelled, TS), Err(SignatureError::NoV1Signature), "other versions are ignored, even when the bytes would match");
        assert_eq!(check(&format!("{relabelled} {other}"), TS), Err(SignatureError::Mismatch));
        assert_eq!(check("v1=g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", TS), Err(SignatureError::NoV1Signature), "Svix separates with a comma");

        // Secrets.
        for bad in ["whsec_", "", "whsec_not base64!", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"] {
            assert_eq!(verify_svix(bad, Some(ID), Some("1614265330"), Some(KNOWN), BODY, TS), Err(SignatureError::BadSecret), "{bad:?}");
            assert_eq!(sign_svix(bad, ID, TS, BODY), Err(SignatureError::BadSecret), "{bad:?}");
        }
        assert_eq!(verify_svix("whsec_", None, None, None, BODY, TS), Err(SignatureError::BadSecret), "a bad secret shows before a bad request");
        assert_eq!(SignatureError::BadSecret.code(), "webhook_secret_invalid");
    }

    proptest! {
        #[test]
        fn a_signature_verifies_only_its_own_message(
            key in proptest::collection::vec(any::<u8>(), 1..64),
            id in "[A-Za-z0-9_]{1,40}",
            body in proptest::collection::vec(any::<u8>(), 0..200),
            other in proptest::collection::vec(any::<u8>(), 0..200),
            ts in 0i64..2_000_000_000,
        ) {
            let secret = format!("whsec_{}", STANDARD.encode(&key));
            let sig = sign_svix(&secret, &id, ts, &body).unwrap();
            prop_assert_eq!(verify_svix(&secret, Some(&id), Some(&ts.to_string()), Some(&sig), &body, ts), Ok(()));
            if other != body {
                prop_assert_eq!(verify_svix(&secret, Some(&id), Some(&ts.to_string()), Some(&sig), &other, ts), Err(SignatureError::Mismatch));
            }
        }
    }
}
