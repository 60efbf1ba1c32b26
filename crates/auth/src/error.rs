//! Why a request is not authenticated. Each reason has a stable code and an HTTP status.
//!
//! No message ever contains the token or any claim value taken from it: the strings carried by
//! [`AuthError::Malformed`] and [`AuthError::JwksInvalid`] are fixed descriptions written here,
//! and [`AuthError::UnsupportedAlgorithm`] carries only a short, sanitised `alg` name.

use thiserror::Error;

/// Why a session token (or the key set used to check it) is refused.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No credential was sent: no bearer token and no `__session` cookie.
    #[error("no session token was sent")]
    Missing,
    /// The token is not a well-formed JWT of the expected shape; the string says what is wrong.
    #[error("the session token is malformed: {0}")]
    Malformed(String),
    /// The header names an algorithm other than RS256 (`none`, `HS256`, ...).
    #[error("the session token algorithm {0:?} is not supported")]
    UnsupportedAlgorithm(String),
    /// No single usable RS256 signing key matches the token's `kid`.
    #[error("no signing key matches the session token")]
    UnknownKey,
    /// The shell's signature check failed.
    #[error("the session token signature is invalid")]
    BadSignature,
    /// The token's `exp` has passed (allowing for clock skew).
    #[error("the session token has expired")]
    Expired,
    /// The token's `nbf` (or `iat`) is still in the future (allowing for clock skew).
    #[error("the session token is not valid yet")]
    NotYetValid,
    /// The token's `iss` is not the configured issuer.
    #[error("the session token was issued by an unexpected issuer")]
    WrongIssuer,
    /// The token's `azp` is missing or not one of the authorized parties.
    #[error("the session token was issued for an unexpected party")]
    WrongAuthorizedParty,
    /// The session has no active organisation, so there is no tenant to act for.
    #[error("the session has no active organisation")]
    NoActiveOrg,
    /// The JWKS document fetched from the identity provider is unusable (a server-side fault).
    #[error("the signing key set is invalid: {0}")]
    JwksInvalid(String),
}

impl AuthError {
    /// A stable snake_case code for API responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "token_missing",
            AuthError::Malformed(_) => "token_malformed",
            AuthError::UnsupportedAlgorithm(_) => "token_algorithm_unsupported",
            AuthError::UnknownKey => "token_key_unknown",
            AuthError::BadSignature => "token_signature_invalid",
            AuthError::Expired => "token_expired",
            AuthError::NotYetValid => "token_not_yet_valid",
            AuthError::WrongIssuer => "token_issuer_invalid",
            AuthError::WrongAuthorizedParty => "token_party_invalid",
            AuthError::NoActiveOrg => "no_active_org",
            AuthError::JwksInvalid(_) => "jwks_invalid",
        }
    }

    /// The HTTP status to answer with: 401 for a missing or bad credential, 403 for a valid
    /// session without an active organisation, 503 when the key set itself is unusable (the
    /// client's token may be fine; retrying later can succeed).
    pub fn status(&self) -> u16 {
        match self {
            AuthError::NoActiveOrg => 403,
            AuthError::JwksInvalid(_) => 503,
            _ => 401,
        }
    }

    pub(crate) fn malformed(what: &str) -> Self {
        AuthError::Malformed(what.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn all() -> Vec<AuthError> {
        vec![
            AuthError::Missing,
            AuthError::Malformed("x".into()),
            AuthError::UnsupportedAlgorithm("none".into()),
            AuthError::UnknownKey,
            AuthError::BadSignature,
            AuthError::Expired,
            AuthError::NotYetValid,
            AuthError::WrongIssuer,
            AuthError::WrongAuthorizedParty,
            AuthError::NoActiveOrg,
            AuthError::JwksInvalid("x".into()),
        ]
    }

    #[test]
    fn codes_are_stable_and_distinct() {
        let codes: Vec<&str> = all().iter().map(AuthError::code).collect();
        assert_eq!(
            codes,
            [
                "token_missing",
                "token_malformed",
                "token_algorithm_unsupported",
                "token_key_unknown",
                "token_signature_invalid",
                "token_expired",
                "token_not_yet_valid",
                "token_issuer_invalid",
                "token_party_invalid",
                "no_active_org",
                "jwks_invalid",
            ]
        );
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len());
        assert!(codes.iter().all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    }

    #[test]
    fn statuses() {
        for e in all() {
            let expected = match e {
                AuthError::NoActiveOrg => 403,
                AuthError::JwksInvalid(_) => 503,
                _ => 401,
            };
            assert_eq!(e.status(), expected, "{e:?}");
        }
    }

    #[test]
    fn messages_are_human_readable() {
        assert_eq!(AuthError::Expired.to_string(), "the session token has expired");
        assert_eq!(
            AuthError::Malformed("missing claim `sub`".into()).to_string(),
            "the session token is malformed: missing claim `sub`"
        );
    }
}
