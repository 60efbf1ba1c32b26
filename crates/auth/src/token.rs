//! Splitting a compact JWS into its header, claims and signature, without checking anything
//! that needs a key or the clock.
//!
//! Segments are base64url without padding (RFC 7515 §2). Padded or otherwise non-canonical
//! encodings are refused, so one token has exactly one spelling.

use crate::error::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// The longest token accepted, in bytes. Clerk session tokens are well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The only signature algorithm accepted.
pub const ALGORITHM: &str = "RS256";

/// The JOSE header of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoseHeader {
    /// The signature algorithm; [`parse_token`] only returns headers where this is `RS256`.
    pub alg: String,
    /// The id of the signing key in the issuer's JWKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The token type, `JWT` for Clerk; not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
}

/// An active organisation in Clerk's v2 compact form (the `o` claim).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClaim {
    /// The organisation id, `org_...`.
    pub id: String,
    /// The member's role, without the `org:` prefix (e.g. `admin`).
    pub rol: String,
    /// The organisation slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slg: Option<String>,
}

/// The claims of a Clerk session token that Parley reads. Unknown claims are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user id, `user_...`.
    pub sub: String,
    /// The issuer: the Clerk frontend API URL of the instance.
    pub iss: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Not before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The authorized party: the origin of the app the session was created for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// The Clerk session id, `sess_...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Clerk v1: the active organisation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Clerk v1: the member's role in the active organisation, e.g. `org:admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_role: Option<String>,
    /// Clerk v1: the active organisation's slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_slug: Option<String>,
    /// Clerk v2: the active organisation in compact form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<OrgClaim>,
}

/// A parsed token, ready for key selection, the shell's signature check and the claim checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenParts {
    /// The decoded header; `alg` is always `RS256`.
    pub header: JoseHeader,
    /// The decoded claims; not yet checked.
    pub claims: SessionClaims,
    /// `<b64 header>.<b64 payload>` exactly as received: the bytes the signature covers.
    pub signing_input: String,
    /// The decoded signature bytes, never empty.
    pub signature: Vec<u8>,
}

/// The header as sent, before the checks that make it a [`JoseHeader`].
#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<IgnoredAny>,
}

/// Splits and decodes a compact JWS. Checks its size, its shape, that `alg` is `RS256` and that
/// the required claims `sub`, `iss` and `exp` are present; verifies nothing else.
pub fn parse_token(token: &str) -> Result<TokenParts, AuthError> {
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::malformed("the token is longer than 8192 bytes"));
    }
    let mut segments = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(AuthError::malformed("the token is not three dot-separated segments"));
    };

    let header = parse_header(&decode(header_b64, "header")?)?;
    let claims = parse_claims(&decode(payload_b64, "payload")?)?;
    let signature = decode(signature_b64, "signature")?;
    if signature.is_empty() {
        return Err(AuthError::malformed("the signature is empty"));
    }
    let signing_input = token[..header_b64.len() + 1 + payload_b64.len()].to_owned();
    Ok(TokenParts { header, claims, signing_input, signature })
}

fn decode(segment: &str, what: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthError::Malformed(format!("the {what} is not unpadded base64url")))
}

fn parse_header(bytes: &[u8]) -> Result<JoseHeader, AuthError> {
    let raw: RawHeader = serde_json::from_slice(bytes)
        .map_err(|_| AuthError::malformed("the header is not a JSON object of the expected shape"))?;
    let alg = raw.alg.ok_or_else(|| AuthError::malformed("the header has no `alg`"))?;
    if alg != ALGORITHM {
        return Err(AuthError::UnsupportedAlgorithm(printable_alg(&alg)));
    }
    if raw.crit.is_some() {
        // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; none are.
        return Err(AuthError::malformed("the header lists critical extensions"));
    }
    Ok(JoseHeader { alg, kid: raw.kid, typ: raw.typ })
}

/// The `alg` as it may appear in an error message: short and plain, or a placeholder.
fn printable_alg(alg: &str) -> String {
    let plain = !alg.is_empty() && alg.len() <= 16 && alg.bytes().all(|b| b.is_ascii_alphanumeric());
    if plain { alg.to_owned() } else { "(unrecognised)".to_owned() }
}

fn parse_claims(bytes: &[u8]) -> Result<SessionClaims, AuthError> {
    let shape = || AuthError::malformed("the claims are not a JSON object of the expected shape");
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|_| shape())?;
    for claim in ["sub", "iss", "exp"] {
        match map.get(claim) {
            None | Some(serde_json::Value::Null) => {
                return Err(AuthError::Malformed(format!("missing claim `{claim}`")))
            }
            Some(serde_json::Value::String(s)) if s.is_empty() => {
                return Err(AuthError::Malformed(format!("empty claim `{claim}`")))
            }
            Some(_) => {}
        }
    }
    SessionClaims::deserialize(serde_json::Value::Object(map)).map_err(|_| shape())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn token(header: &serde_json::Value, claims: &serde_json::Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(signature)
        )
    }

    fn header() -> serde_json::Value {
        json!({"alg": "RS256", "kid": "ins_key1", "typ": "JWT"})
    }

    fn claims() -> serde_json::Value {
        json!({
            "sub": "user_2abc", "iss": "https://clerk.example.com", "exp": 1_700_000_600,
            "nbf": 1_699_999_990, "iat": 1_700_000_000, "azp": "https://app.example.com",
            "sid": "sess_2xyz", "o": {"id": "org_2abcXYZ", "rol": "admin", "slg": "acme"},
            "v": 2, "fva": [0, -1], "custom": {"nested": true}
        })
    }

    fn malformed(result: Result<TokenParts, AuthError>) -> String {
        match result {
            Err(AuthError::Malformed(why)) => why,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_clerk_v2_token() {
        let raw = token(&header(), &claims(), &[1, 2, 3, 255]);
        let parts = parse_token(&raw).unwrap();
        assert_eq!(parts.header, JoseHeader {
            alg: "RS256".into(),
            kid: Some("ins_key1".into()),
            typ: Some("JWT".into()),
        });
        assert_eq!(parts.signature, vec![1, 2, 3, 255]);
        assert_eq!(parts.signing_input, raw[..raw.rfind('.').unwrap()]);
        let c = parts.claims;
        assert_eq!((c.sub.as_str(), c.iss.as_str(), c.exp), ("user_2abc", "https://clerk.example.com", 1_700_000_600));
        assert_eq!((c.nbf, c.iat), (Some(1_699_999_990), Some(1_700_000_000)));
        assert_eq!(c.azp.as_deref(), Some("https://app.example.com"));
        assert_eq!(c.sid.as_deref(), Some("sess_2xyz"));
        assert_eq!(c.o, Some(OrgClaim { id: "org_2abcXYZ".into(), rol: "admin".into(), slg: Some("acme".into()) }));
        assert_eq!((c.org_id, c.org_role, c.org_slug), (None, None, None));
    }

    #[test]
    fn parses_a_clerk_v1_token_with_minimal_header() {
        let claims = json!({"sub": "user_1", "iss": "https://i", "exp": 5,
            "org_id": "org_1", "org_role": "org:member", "org_slug": "one"});
        let parts = parse_token(&token(&json!({"alg": "RS256"}), &claims, &[9])).unwrap();
        assert_eq!(parts.header.kid, None);
        assert_eq!(parts.header.typ, None);
        assert_eq!(parts.claims.org_id.as_deref(), Some("org_1"));
        assert_eq!(parts.claims.org_role.as_deref(), Some("org:member"));
        assert_eq!(parts.claims.org_slug.as_deref(), Some("one"));
        assert_eq!((parts.claims.nbf, parts.claims.iat, parts.claims.azp, parts.claims.sid, parts.claims.o),
            (None, None, None, None, None));
    }

    #[test]
    fn signing_input_is_the_received_text() {
        // A header whose JSON is spaced oddly: the signing input must keep it byte for byte.
        let h = b64(br#"{ "alg" : "RS256" }"#);
        let p = b64(claims().to_string().as_bytes());
        let raw = format!("{h}.{p}.{}", b64(b"sig"));
        assert_eq!(parse_token(&raw).unwrap().signing_input, format!("{h}.{p}"));
    }

    #[test]
    fn alg_confusion_is_refused() {
        for alg in ["none", "None", "HS256", "RS384", "RS512", "PS256", "ES256", "rs256", "RS256 ", ""] {
            let raw = token(&json!({"alg": alg, "kid": "ins_key1"}), &claims(), &[1]);
            assert!(matches!(parse_token(&raw), Err(AuthError::UnsupportedAlgorithm(_))), "{alg:?}");
        }
        let raw = token(&json!({"alg": "none"}), &claims(), &[1]);
        assert_eq!(parse_token(&raw), Err(AuthError::UnsupportedAlgorithm("none".into())));
        let raw = token(&json!({"alg": "HS256"}), &claims(), &[1]);
        assert_eq!(parse_token(&raw), Err(AuthError::UnsupportedAlgorithm("HS256".into())));
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        // The classic `alg: none` shape: an empty signature segment.
        let raw = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(claims().to_string().as_bytes()));
        assert_eq!(parse_token(&raw), Err(AuthError::UnsupportedAlgorithm("none".into())));
        // Even with RS256 claimed, an empty signature is malformed.
        let raw = token(&header(), &claims(), &[]);
        assert_eq!(malformed(parse_token(&raw)), "the signature is empty");
    }

    #[test]
    fn odd_alg_values_are_not_echoed() {
        let long = "A".repeat(100);
        let raw = token(&json!({"alg": long}), &claims(), &[1]);
        assert_eq!(parse_token(&raw), Err(AuthError::UnsupportedAlgorithm("(unrecognised)".into())));
        let raw = token(&json!({"alg": "x\ny"}), &claims(), &[1]);
        assert_eq!(parse_token(&raw), Err(AuthError::UnsupportedAlgorithm("(unrecognised)".into())));
    }

    #[test]
    fn header_problems() {
        let raw = token(&json!({"kid": "k"}), &claims(), &[1]);
        assert_eq!(malformed(parse_token(&raw)), "the header has no `alg`");
        let raw = token(&json!({"alg": null}), &claims(), &[1]);
        assert_eq!(malformed(parse_token(&raw)), "the header has no `alg`");
        for bad in [json!({"alg": 256}), json!(["RS256"]), json!("RS256"), json!({"alg": "RS256", "kid": 7})] {
            let raw = token(&bad, &claims(), &[1]);
            assert_eq!(malformed(parse_token(&raw)), "the header is not a JSON object of the expected shape", "{bad}");
        }
        let raw = token(&json!({"alg": "RS256", "crit": ["b64"], "b64": false}), &claims(), &[1]);
        assert_eq!(malformed(parse_token(&raw)), "the header lists critical extensions");
        let raw = format!("{}.{}.{}", b64(b"not json"), b64(claims().to_string().as_bytes()), b64(b"s"));
        assert_eq!(malformed(parse_token(&raw)), "the header is not a JSON object of the expected shape");
    }

    #[test]
    fn missing_required_claims_are_named() {
        for claim in ["sub", "iss", "exp"] {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(claim);
            let raw = token(&header(), &c, &[1]);
            assert_eq!(malformed(parse_token(&raw)), format!("missing claim `{claim}`"));

            let mut c = claims();
            c[claim] = serde_json::Value::Null;
            let raw = token(&header(), &c, &[1]);
            assert_eq!(malformed(parse_token(&raw)), format!("missing claim `{claim}`"));
        }
        for claim in ["sub", "iss"] {
            let mut c = claims();
            c[claim] = json!("");
            let raw = token(&header(), &c, &[1]);
            assert_eq!(malformed(parse_token(&raw)), format!("empty claim `{claim}`"));
        }
    }

    #[test]
    fn wrongly_typed_claims_are_malformed_without_echoing_them() {
        let shape = "the claims are not a JSON object of the expected shape";
        for (claim, value) in [("exp", json!("1700000600")), ("exp", json!(1.5)), ("exp", json!(1e30)),
            ("sub", json!(42)), ("nbf", json!("soon")), ("o", json!("org_1")), ("o", json!({"id": "org_1"})),
            ("org_id", json!(["org_1"]))] {
            let mut c = claims();
            c[claim] = value.clone();
            let raw = token(&header(), &c, &[1]);
            assert_eq!(malformed(parse_token(&raw)), shape, "{claim}: {value}");
        }
        for payload in [json!([]), json!("claims"), json!(null), json!(3)] {
            let raw = token(&header(), &payload, &[1]);
            assert_eq!(malformed(parse_token(&raw)), shape);
        }
    }

    #[test]
    fn segment_count_and_encoding() {
        let good = token(&header(), &claims(), &[1, 2]);
        let segs: Vec<&str> = good.split('.').collect();
        let three = "the token is not three dot-separated segments";
        assert_eq!(malformed(parse_token(&format!("{}.{}", segs[0], segs[1]))), three);
        assert_eq!(malformed(parse_token(&format!("{good}.extra"))), three);
        assert_eq!(malformed(parse_token(&format!("{good}."))), three);
        assert_eq!(malformed(parse_token("abc")), three);
        assert_eq!(malformed(parse_token("..")), "the header is not a JSON object of the expected shape");

        // Standard (non-URL) alphabet, padding, whitespace and stray characters are refused.
        let std_alphabet = format!("{}.{}.{}", segs[0], segs[1], "+/8");
        assert_eq!(malformed(parse_token(&std_alphabet)), "the signature is not unpadded base64url");
        let padded_sig = format!("{}.{}.{}", segs[0], segs[1], "AQI=");
        assert_eq!(malformed(parse_token(&padded_sig)), "the signature is not unpadded base64url");
        let padded_payload = format!("{}.{}=.{}", segs[0], segs[1], segs[2]);
        assert!(malformed(parse_token(&padded_payload)).starts_with("the payload"));
        assert_eq!(malformed(parse_token(&format!(" {good}"))), "the header is not unpadded base64url");
        assert_eq!(malformed(parse_token(&format!("{good}\n"))), "the signature is not unpadded base64url");
        // Non-canonical trailing bits: "AQJ" decodes like "AQI" in lax decoders.
        let sloppy = format!("{}.{}.{}", segs[0], segs[1], "AQJ");
        assert_eq!(malformed(parse_token(&sloppy)), "the signature is not unpadded base64url");
    }

    #[test]
    fn empty_token_is_missing() {
        assert_eq!(parse_token(""), Err(AuthError::Missing));
    }

    #[test]
    fn size_limit() {
        let sig_for = |total: usize| {
            let base = token(&header(), &claims(), &[]);
            // base ends with '.', each 3 signature bytes add 4 characters.
            let room = total - base.len();
            assert_eq!(room % 4, 0);
            token(&header(), &claims(), &vec![7u8; room / 4 * 3])
        };
        let base_len = token(&header(), &claims(), &[]).len();
        let fit = MAX_TOKEN_LEN - (MAX_TOKEN_LEN - base_len) % 4;
        let at_limit = sig_for(fit);
        assert!(at_limit.len() <= MAX_TOKEN_LEN);
        assert!(parse_token(&at_limit).is_ok());
        let over = format!("{at_limit}{}", "A".repeat(MAX_TOKEN_LEN + 1 - at_limit.len()));
        assert_eq!(over.len(), MAX_TOKEN_LEN + 1);
        assert_eq!(malformed(parse_token(&over)), "the token is longer than 8192 bytes");
    }

    #[test]
    fn errors_never_contain_the_token() {
        let secretish = "SECRET_CLAIM_VALUE";
        let mut c = claims();
        c["exp"] = json!(secretish);
        let cases = [
            token(&header(), &c, &[1]),
            token(&json!({"alg": secretish}), &claims(), &[1]),
            format!("{secretish}.{secretish}.{secretish}"),
            format!("{}.{}.{secretish}!", b64(header().to_string().as_bytes()), b64(claims().to_string().as_bytes())),
        ];
        for raw in cases {
            let err = parse_token(&raw).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(secretish) && !shown.contains(&raw), "{shown}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_strings(s in "\\PC*") {
            let _ = parse_token(&s);
        }

        #[test]
        fn never_panics_on_three_segments(a in "[A-Za-z0-9_=+/-]{0,64}", b in "[A-Za-z0-9_=+/-]{0,64}", c in "[A-Za-z0-9_=+/-]{0,64}") {
            let _ = parse_token(&format!("{a}.{b}.{c}"));
        }

        #[test]
        fn never_panics_on_arbitrary_json(h in any::<Vec<u8>>(), p in any::<Vec<u8>>(), s in any::<Vec<u8>>()) {
            let _ = parse_token(&format!("{}.{}.{}", b64(&h), b64(&p), b64(&s)));
        }

        #[test]
        fn well_formed_tokens_round_trip(sub in "[a-z_0-9]{1,20}", exp in any::<i64>(), sig in proptest::collection::vec(any::<u8>(), 1..300)) {
            let raw = token(&header(), &json!({"sub": sub, "iss": "https://i", "exp": exp}), &sig);
            let parts = parse_token(&raw).unwrap();
            prop_assert_eq!(parts.claims.sub, sub);
            prop_assert_eq!(parts.claims.exp, exp);
            prop_assert_eq!(parts.signature, sig);
        }
    }
}
