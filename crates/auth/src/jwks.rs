//! The issuer's JSON Web Key Set and choosing the key that signed a token.
//!
//! Keys are kept in their JWK form so the shell can hand one straight to
//! `crypto.subtle.importKey("jwk", ...)`: absent members are omitted when serialising (a JSON
//! `null` would be read by WebCrypto as the string `"null"`).
//!
//! When a token names a `kid` that is not in the set, the issuer may have rotated its keys
//! since the set was cached: the shell may refetch the set (rate-limited) and select again.

use crate::error::AuthError;
use crate::token::ALGORITHM;
use serde::{Deserialize, Serialize};

/// A JSON Web Key Set, as served at the issuer's `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, in the order served. Members that could not be read as a [`Jwk`] are dropped.
    pub keys: Vec<Jwk>,
}

/// One JSON Web Key. Only the members needed to pick and import an RSA verification key are
/// kept; others (`x5c`, `key_ops`, ...) are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// The key id, matched against the token header's `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The key type; only `RSA` keys are ever selected.
    pub kty: String,
    /// The algorithm the key is meant for; when present it must be `RS256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// The RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// The RSA public exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The intended use; when present it must be `sig`.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// Whether this key can verify an RS256 signature: an RSA key with a modulus and exponent,
    /// not restricted to another use or algorithm.
    pub fn is_rs256_signing_key(&self) -> bool {
        self.kty == "RSA"
            && self.n.as_deref().is_some_and(|n| !n.is_empty())
            && self.e.as_deref().is_some_and(|e| !e.is_empty())
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self.alg.as_deref().is_none_or(|a| a == ALGORITHM)
    }
}

/// Reads a JWKS document. Keys that are not valid JWK objects are skipped (RFC 7517 §5); the
/// set is refused if it is not `{"keys": [...]}` or holds no usable RS256 signing key.
pub fn parse_jwks(json: &str) -> Result<Jwks, AuthError> {
    #[derive(Deserialize)]
    struct RawJwks {
        keys: Vec<serde_json::Value>,
    }
    let raw: RawJwks = serde_json::from_str(json)
        .map_err(|_| AuthError::JwksInvalid("not a JSON object with a `keys` array".to_owned()))?;
    let keys: Vec<Jwk> = raw.keys.into_iter().filter_map(|k| serde_json::from_value(k).ok()).collect();
    if !keys.iter().any(Jwk::is_rs256_signing_key) {
        return Err(AuthError::JwksInvalid("no RS256 signing key".to_owned()));
    }
    Ok(Jwks { keys })
}

/// Chooses the key to verify a token with. With a `kid`, the one usable RS256 signing key with
/// that id (several keys are present during a rotation); without one, the set's only usable
/// key. Anything else (no match, an unusable match, an ambiguous choice) is
/// [`AuthError::UnknownKey`].
pub fn select_key<'a>(jwks: &'a Jwks, kid: Option<&str>) -> Result<&'a Jwk, AuthError> {
    let mut usable = jwks
        .keys
        .iter()
        .filter(|k| k.is_rs256_signing_key())
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid);
    match (usable.next(), usable.next()) {
        (Some(key), None) => Ok(key),
        _ => Err(AuthError::UnknownKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa(kid: &str) -> serde_json::Value {
        json!({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": format!("n-{kid}"), "e": "AQAB"})
    }

    fn jwks(keys: Vec<serde_json::Value>) -> Jwks {
        parse_jwks(&json!({ "keys": keys }).to_string()).unwrap()
    }

    #[test]
    fn parses_a_clerk_style_set() {
        let doc = r#"{"keys":[{"use":"sig","kty":"RSA","kid":"ins_2abc","alg":"RS256","n":"sXch","e":"AQAB","x5c":["MII"]}]}"#;
        let set = parse_jwks(doc).unwrap();
        assert_eq!(set.keys, vec![Jwk {
            kid: Some("ins_2abc".into()),
            kty: "RSA".into(),
            alg: Some("RS256".into()),
            n: Some("sXch".into()),
            e: Some("AQAB".into()),
            use_: Some("sig".into()),
        }]);
    }

    #[test]
    fn jwk_round_trips_for_import() {
        let key = &jwks(vec![rsa("k1")]).keys[0];
        let json = serde_json::to_value(key).unwrap();
        assert_eq!(json, rsa("k1"));
        assert_eq!(serde_json::from_value::<Jwk>(json).unwrap(), *key);

        let bare = Jwk { kid: None, kty: "RSA".into(), alg: None, n: Some("n".into()), e: Some("AQAB".into()), use_: None };
        let json = serde_json::to_string(&bare).unwrap();
        assert_eq!(json, r#"{"kty":"RSA","n":"n","e":"AQAB"}"#, "absent members are omitted, never null");
        assert_eq!(serde_json::from_str::<Jwk>(&json).unwrap(), bare);

        let set = jwks(vec![rsa("a"), rsa("b")]);
        assert_eq!(parse_jwks(&serde_json::to_string(&set).unwrap()).unwrap(), set);
    }

    #[test]
    fn invalid_sets() {
        for doc in ["", "[]", "{}", r#"{"keys":{}}"#, r#"{"keys":null}"#, "not json"] {
            assert_eq!(parse_jwks(doc), Err(AuthError::JwksInvalid("not a JSON object with a `keys` array".into())), "{doc}");
        }
        let none_usable = [
            json!({"keys": []}),
            json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "ec"}]}),
            json!({"keys": [{"kty": "RSA", "kid": "enc", "use": "enc", "n": "n", "e": "AQAB"}]}),
            json!({"keys": [{"kty": "RSA", "kid": "no-n", "e": "AQAB"}]}),
            json!({"keys": [{"kid": "no-kty", "n": "n", "e": "AQAB"}, "junk", 7]}),
        ];
        for doc in none_usable {
            assert_eq!(parse_jwks(&doc.to_string()), Err(AuthError::JwksInvalid("no RS256 signing key".into())), "{doc}");
        }
    }

    #[test]
    fn unreadable_members_are_skipped() {
        let doc = json!({"keys": ["junk", {"kty": 5}, {"kid": "no-kty"}, rsa("good")]});
        let set = parse_jwks(&doc.to_string()).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(select_key(&set, Some("good")).unwrap().kid.as_deref(), Some("good"));
    }

    #[test]
    fn rotation_selects_by_kid() {
        let set = jwks(vec![rsa("old"), rsa("new")]);
        assert_eq!(select_key(&set, Some("old")).unwrap().n.as_deref(), Some("n-old"));
        assert_eq!(select_key(&set, Some("new")).unwrap().n.as_deref(), Some("n-new"));
        assert_eq!(select_key(&set, Some("other")), Err(AuthError::UnknownKey));
        assert_eq!(select_key(&set, Some("")), Err(AuthError::UnknownKey));
        assert_eq!(select_key(&set, None), Err(AuthError::UnknownKey), "two keys and no kid is ambiguous");
    }

    #[test]
    fn without_kid_only_a_single_usable_key() {
        let set = jwks(vec![rsa("only")]);
        assert_eq!(select_key(&set, None).unwrap().kid.as_deref(), Some("only"));

        let mut enc = rsa("enc");
        enc["use"] = json!("enc");
        let set = jwks(vec![enc, rsa("sig"), json!({"kty": "EC", "kid": "ec", "x": "x", "y": "y"})]);
        assert_eq!(select_key(&set, None).unwrap().kid.as_deref(), Some("sig"), "unusable keys do not count");
    }

    #[test]
    fn unusable_keys_are_never_selected() {
        let mut enc = rsa("enc");
        enc["use"] = json!("enc");
        let mut hs = rsa("hs");
        hs["alg"] = json!("HS256");
        let mut ps = rsa("ps");
        ps["alg"] = json!("PS256");
        let ec = json!({"kty": "EC", "kid": "ec", "alg": "RS256", "n": "n", "e": "AQAB"});
        let oct = json!({"kty": "oct", "kid": "oct", "k": "c2VjcmV0"});
        let mut no_e = rsa("no-e");
        no_e.as_object_mut().unwrap().remove("e");
        let mut empty_n = rsa("empty-n");
        empty_n["n"] = json!("");
        let set = jwks(vec![enc, hs, ps, ec, oct, no_e, empty_n, rsa("good")]);
        for kid in ["enc", "hs", "ps", "ec", "oct", "no-e", "empty-n"] {
            assert_eq!(select_key(&set, Some(kid)), Err(AuthError::UnknownKey), "{kid}");
        }
        assert!(select_key(&set, Some("good")).is_ok());
    }

    #[test]
    fn use_and_alg_may_be_absent() {
        let set = jwks(vec![json!({"kty": "RSA", "kid": "plain", "n": "n", "e": "AQAB"})]);
        assert!(select_key(&set, Some("plain")).is_ok());
        assert!(select_key(&set, None).is_ok());
    }

    #[test]
    fn duplicate_kids_are_ambiguous() {
        let set = jwks(vec![rsa("dup"), rsa("dup")]);
        assert_eq!(select_key(&set, Some("dup")), Err(AuthError::UnknownKey));
    }

    #[test]
    fn a_key_without_kid_is_not_matched_by_a_kid() {
        let set = jwks(vec![json!({"kty": "RSA", "n": "n", "e": "AQAB"})]);
        assert_eq!(select_key(&set, Some("k")), Err(AuthError::UnknownKey));
        assert!(select_key(&set, None).is_ok());
    }
}
