//! Remembering tokens whose signature has already been verified, so a client that sends the
//! same session token on every request pays for the RSA check once per token rather than once
//! per request.
//!
//! Only the signature result is remembered. The claims are checked again on every use
//! ([`crate::check_claims`] at the caller's time), so an expired token is refused exactly as if
//! it had never been seen. The cache lives in one isolate's memory; a deploy (which is the only
//! way the JWKS or the issuer changes) starts with an empty one.

use std::collections::HashMap;

use crate::token::SessionClaims;

/// How long a verified signature is trusted, whatever the token's own `exp` says: a bound on
/// how long a key removed from the JWKS could keep being honoured by a long-lived isolate.
pub const VERIFIED_TTL_SECS: i64 = 300;

/// Entries kept at most; when full, expired entries go first, then the oldest.
pub const VERIFIED_CAPACITY: usize = 1024;

#[derive(Debug, Clone)]
struct Entry {
    claims: SessionClaims,
    /// When the entry stops being trusted: the earlier of `exp` and verification + TTL.
    until_secs: i64,
    verified_at_secs: i64,
}

/// Tokens whose RS256 signature was verified, keyed by the exact token text.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: HashMap<String, Entry>,
}

impl VerifiedTokens {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The claims of `token` if its signature was verified and the entry is still trusted at
    /// `now_secs`. The caller must still check the claims.
    pub fn get(&self, token: &str, now_secs: i64) -> Option<&SessionClaims> {
        self.entries.get(token).filter(|e| now_secs < e.until_secs).map(|e| &e.claims)
    }

    /// Records that `token`'s signature verified at `now_secs`. Never stores more than
    /// [`VERIFIED_CAPACITY`] entries.
    pub fn insert(&mut self, token: &str, claims: SessionClaims, now_secs: i64) {
        if self.entries.len() >= VERIFIED_CAPACITY && !self.entries.contains_key(token) {
            self.entries.retain(|_, e| now_secs < e.until_secs);
            if self.entries.len() >= VERIFIED_CAPACITY {
                if let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.verified_at_secs).map(|(k, _)| k.clone()) {
                    self.entries.remove(&oldest);
                }
            }
        }
        let until_secs = claims.exp.min(now_secs.saturating_add(VERIFIED_TTL_SECS));
        self.entries.insert(token.to_owned(), Entry { claims, until_secs, verified_at_secs: now_secs });
    }

    /// How many entries are held (expired ones included until they are pruned).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claims(exp: i64) -> SessionClaims {
        SessionClaims {
            sub: "user_1".into(),
            iss: "https://clerk.example".into(),
            exp,
            nbf: None,
            iat: None,
            azp: None,
            sid: None,
            org_id: Some("org_1".into()),
            org_role: Some("org:admin".into()),
            org_slug: None,
            o: None,
        }
    }

    #[test]
    fn an_unknown_token_is_not_trusted() {
        assert!(VerifiedTokens::new().get("a.b.c", 0).is_none());
    }

    #[test]
    fn a_verified_token_is_trusted_until_its_expiry() {
        let mut cache = VerifiedTokens::new();
        cache.insert("a.b.c", claims(1_060), 1_000);
        assert_eq!(cache.get("a.b.c", 1_059).map(|c| c.exp), Some(1_060));
        assert!(cache.get("a.b.c", 1_060).is_none());
    }

    #[test]
    fn a_long_lived_token_is_trusted_for_the_ttl_only() {
        let mut cache = VerifiedTokens::new();
        cache.insert("long", claims(1_000_000), 1_000);
        assert!(cache.get("long", 1_000 + VERIFIED_TTL_SECS - 1).is_some());
        assert!(cache.get("long", 1_000 + VERIFIED_TTL_SECS).is_none());
    }

    #[test]
    fn a_different_token_is_a_different_entry() {
        let mut cache = VerifiedTokens::new();
        cache.insert("a.b.c", claims(2_000), 1_000);
        assert!(cache.get("a.b.d", 1_001).is_none(), "one changed character is another token");
    }

    #[test]
    fn when_full_expired_entries_go_first_then_the_oldest() {
        let mut cache = VerifiedTokens::new();
        for i in 0..VERIFIED_CAPACITY {
            // Half of them expire at 1_100.
            let exp = if i % 2 == 0 { 1_100 } else { 9_000 };
            cache.insert(&format!("t{i}"), claims(exp), 1_000);
        }
        cache.insert("new", claims(9_000), 1_200);
        assert_eq!(cache.len(), VERIFIED_CAPACITY / 2 + 1, "the expired half was pruned");
        assert!(cache.get("t1", 1_200).is_some());

        let mut full = VerifiedTokens::new();
        for i in 0..VERIFIED_CAPACITY {
            full.insert(&format!("t{i}"), claims(1_000_000), 1_000 + i as i64);
        }
        full.insert("newest", claims(1_000_000), 1_000);
        assert_eq!(full.len(), VERIFIED_CAPACITY);
        assert!(full.get("t0", 1_001).is_none(), "the oldest was evicted");
        assert!(full.get("newest", 1_001).is_some());
    }

    proptest! {
        /// Whatever is inserted, the cache never exceeds its capacity and never trusts an entry
        /// past its expiry or the TTL.
        #[test]
        fn bounded_and_never_trusted_past_expiry(ops in proptest::collection::vec((0u16..2000, 0i64..4000, 0i64..600), 0..3000), probe in 0i64..5000) {
            let mut cache = VerifiedTokens::new();
            let mut now = 0;
            for (token, exp, step) in ops {
                now += step;
                cache.insert(&format!("t{token}"), claims(exp), now);
                prop_assert!(cache.len() <= VERIFIED_CAPACITY);
            }
            for (key, e) in cache.entries.iter() {
                if cache.get(key, probe).is_some() {
                    prop_assert!(probe < e.claims.exp && probe < e.verified_at_secs + VERIFIED_TTL_SECS);
                }
            }
        }
    }
}
