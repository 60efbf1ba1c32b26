//! Identifiers: who owns a chat, how a chat is named, and how a Durable Object name is derived.
//!
//! A chat's Durable Object name is always built here from the authenticated org and the chat
//! id, never taken from a client, so one org can never address another org's object.

use serde::{Deserialize, Serialize};
use std::fmt;

const RANDOM_SUFFIX_LEN: usize = 26;
const BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// An organisation: the tenant boundary.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(String);

impl OrgId {
    /// Accepts ids of 1-64 ASCII letters, digits, `_` and `-` (Clerk's `org_...` ids fit).
    pub fn parse(raw: &str) -> Option<Self> {
        is_token(raw, 64).then(|| OrgId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares an id type: a prefix followed by 26 lowercase base32 characters (128 random bits).
macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Builds an id from 16 random bytes supplied by the shell.
            pub fn from_random(bytes: [u8; 16]) -> Self {
                $name(format!("{}{}", Self::PREFIX, base32(&bytes)))
            }

            /// Parses an id from a path segment. Anything malformed is simply not an id.
            pub fn parse(raw: &str) -> Option<Self> {
                let suffix = raw.strip_prefix(Self::PREFIX)?;
                let ok = suffix.len() == RANDOM_SUFFIX_LEN && suffix.bytes().all(|b| BASE32.contains(&b));
                ok.then(|| $name(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

random_id!(
    /// A chat: `chat_` and 26 base32 characters.
    ChatId,
    "chat_"
);
random_id!(
    /// A lead (a contact being prospected): `lead_` and 26 base32 characters.
    LeadId,
    "lead_"
);

/// The workspace Durable Object name of an org: one workspace per org.
pub fn workspace_object_name(org: &OrgId) -> String {
    format!("workspace/{}", org.as_str())
}

/// The Chat Controller Durable Object name for a chat of an org.
///
/// Org ids cannot contain `/`, so the name is unambiguous.
pub fn chat_object_name(org: &OrgId, chat: &ChatId) -> String {
    format!("{}/{}", org.as_str(), chat.as_str())
}

/// A client-chosen message id that makes retries of a post idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 64;

    /// Accepts 1-64 ASCII letters, digits, `_` and `-` (UUIDs fit).
    pub fn parse(raw: &str) -> Option<Self> {
        is_token(raw, Self::MAX_LEN).then(|| ClientId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of an org secret: 1-64 ASCII letters, digits and `_`, starting with a letter
/// (`CRM_API_KEY`), so it can be referenced from header templates as `{{secret.NAME}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretName(String);

impl SecretName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() <= Self::MAX_LEN
            && raw.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| SecretName(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_token(raw: &str, max: usize) -> bool {
    !raw.is_empty()
        && raw.len() <= max
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Lowercase base32 without padding (Crockford's alphabet, so no i, l, o, u).
fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn generated_chat_ids_parse(bytes in any::<[u8; 16]>()) {
            let id = ChatId::from_random(bytes);
            prop_assert_eq!(ChatId::parse(id.as_str()), Some(id.clone()));
        }

        #[test]
        fn distinct_randomness_gives_distinct_ids(a in any::<[u8; 16]>(), b in any::<[u8; 16]>()) {
            prop_assume!(a != b);
            prop_assert_ne!(ChatId::from_random(a), ChatId::from_random(b));
        }
    }

    #[test]
    fn malformed_chat_ids_are_refused() {
        for raw in ["", "chat_", "chat_short", "org_x/chat_0123456789abcdefghjkmnpqrs",
            "chat_0123456789ABCDEFGHJKMNPQRS", "chat_0123456789abcdefghjkmnpqrs/x",
            "chat_0123456789abcdefghjkmnpqri"] {
            assert_eq!(ChatId::parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn lead_and_chat_ids_do_not_mix() {
        let lead = LeadId::from_random([1; 16]);
        assert!(LeadId::parse(lead.as_str()).is_some());
        assert!(ChatId::parse(lead.as_str()).is_none());
        assert!(LeadId::parse(ChatId::from_random([1; 16]).as_str()).is_none());
    }

    #[test]
    fn object_names_separate_orgs() {
        let chat = ChatId::from_random([7; 16]);
        let a = chat_object_name(&OrgId::parse("org_a").unwrap(), &chat);
        let b = chat_object_name(&OrgId::parse("org_b").unwrap(), &chat);
        assert_ne!(a, b);
        assert!(OrgId::parse("org/a").is_none(), "a slash would make names ambiguous");
    }

    #[test]
    fn client_ids_are_bounded_tokens() {
        assert!(ClientId::parse("3f2b8c1e-9d7a-4b6f-8e21-0c5d4a3b2f10").is_some());
        assert!(ClientId::parse("").is_none());
        assert!(ClientId::parse(&"a".repeat(65)).is_none());
        assert!(ClientId::parse("has space").is_none());
    }
}
