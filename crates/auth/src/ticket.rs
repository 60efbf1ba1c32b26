//! Single-use WebSocket tickets.
//!
//! Browsers cannot set an `Authorization` header on a WebSocket upgrade, so an authenticated
//! request first obtains a short-lived ticket and the upgrade presents it once. A ticket is
//! 32 random bytes supplied by the shell, written as `wst_` and 43 base64url characters. Only
//! its SHA-256 ([`ticket_hash`]) is stored, so a leaked store does not leak usable tickets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// How long a ticket may be redeemed after it is issued, in milliseconds.
pub const TICKET_TTL_MS: i64 = 60_000;

/// The prefix every ticket starts with.
pub const TICKET_PREFIX: &str = "wst_";

/// The length of a ticket: the prefix and 32 bytes in unpadded base64url.
const TICKET_LEN: usize = TICKET_PREFIX.len() + 43;

/// Writes 32 random bytes (from the shell's CSPRNG) as a ticket.
pub fn ticket_from_bytes(bytes: &[u8; 32]) -> String {
    format!("{TICKET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The lowercase hex SHA-256 of a ticket: the only form in which tickets are stored.
pub fn ticket_hash(ticket: &str) -> String {
    Sha256::digest(ticket.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a string has a ticket's shape (prefix, length, alphabet): a cheap check before any
/// lookup. It says nothing about whether the ticket was issued.
pub fn looks_like_ticket(s: &str) -> bool {
    s.len() == TICKET_LEN
        && s.strip_prefix(TICKET_PREFIX)
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        assert_eq!(ticket_from_bytes(&[0; 32]), format!("wst_{}", "A".repeat(43)));
        // 0xff * 32 is 256 one-bits: 42 '_' (6 bits each), then "1111" + "00" = 60 = '8'.
        assert_eq!(ticket_from_bytes(&[0xff; 32]), format!("wst_{}8", "_".repeat(42)));
        // 0xfb 0xef 0xbe is "++++" in standard base64, "----" in base64url.
        let mut bytes = [0u8; 32];
        bytes[..3].copy_from_slice(&[0xfb, 0xef, 0xbe]);
        assert!(ticket_from_bytes(&bytes).starts_with("wst_----"));
    }

    #[test]
    fn hash_is_sha256_hex() {
        // FIPS 180-2 test vectors (also `printf abc | sha256sum`).
        assert_eq!(ticket_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(ticket_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn hash_of_a_ticket() {
        // Computed independently: printf 'wst_' followed by 43 'A's | sha256sum
        let ticket = ticket_from_bytes(&[0; 32]);
        assert_eq!(ticket_hash(&ticket), "04ac12da2a8ea425bf62fe0c280470667cb6291160a8b5ac54782e655166ef10");
    }

    #[test]
    fn shapes() {
        assert!(looks_like_ticket(&ticket_from_bytes(&[0; 32])));
        assert!(looks_like_ticket(&ticket_from_bytes(&[0xff; 32])));
        let good = ticket_from_bytes(&[7; 32]);
        for bad in [
            String::new(),
            "wst_".into(),
            good[..good.len() - 1].to_owned(),
            format!("{good}A"),
            good.replacen("wst_", "wsx_", 1),
            good.replacen("wst_", "WST_", 1),
            format!("{}+", &good[..good.len() - 1]),
            format!("{}=", &good[..good.len() - 1]),
            format!("{}é", &good[..good.len() - 2]),
            format!("wst_{}", "A".repeat(42)) + " ",
            ticket_hash(&good),
        ] {
            assert!(!looks_like_ticket(&bad), "{bad:?}");
        }
    }

    #[test]
    fn ttl_is_a_minute() {
        assert_eq!(TICKET_TTL_MS, 60 * 1000);
    }

    proptest! {
        #[test]
        fn every_ticket_looks_like_one(bytes in any::<[u8; 32]>()) {
            let ticket = ticket_from_bytes(&bytes);
            prop_assert!(looks_like_ticket(&ticket));
            let hash = ticket_hash(&ticket);
            prop_assert_eq!(hash.len(), 64);
            prop_assert!(hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            prop_assert!(!looks_like_ticket(&hash));
        }

        #[test]
        fn distinct_bytes_distinct_tickets(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            prop_assume!(a != b);
            prop_assert_ne!(ticket_from_bytes(&a), ticket_from_bytes(&b));
            prop_assert_ne!(ticket_hash(&ticket_from_bytes(&a)), ticket_hash(&ticket_from_bytes(&b)));
        }

        #[test]
        fn shape_check_never_panics(s in "\\PC*") {
            let _ = looks_like_ticket(&s);
        }
    }
}
