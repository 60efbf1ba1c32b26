//! Trace ids: 32 lowercase hex digits, not all zero (the W3C trace-id format), so an incoming
//! id from `traceparent` and one of Parley's own look the same in every log line.

/// The header that carries the trace id between Parley's workers and back to the client.
pub const TRACE_HEADER: &str = "x-parley-trace";

/// A validated trace id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceId(String);

impl TraceId {
    /// Exactly 32 lowercase hex digits, not all zero; anything else is refused (never
    /// repaired), so a client cannot put arbitrary text into the logs through it.
    pub fn parse(raw: &str) -> Option<TraceId> {
        (is_lower_hex(raw, 32) && !all_zero(raw)).then(|| TraceId(raw.to_owned()))
    }

    /// The trace id of a W3C `traceparent` header, `00-<trace id>-<parent id>-<flags>`: only
    /// version `00`, with every part well formed and neither id all zero.
    pub fn from_traceparent(raw: &str) -> Option<TraceId> {
        // Fixed layout: "00-" (3), trace id (32), "-", parent id (16), "-", flags (2).
        let b = raw.as_bytes();
        if b.len() != 55 || !raw.is_ascii() || !raw.starts_with("00-") || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let (parent, flags) = (&raw[36..52], &raw[53..]);
        if is_lower_hex(parent, 16) && !all_zero(parent) && is_lower_hex(flags, 2) {
            TraceId::parse(&raw[3..35])
        } else {
            None
        }
    }

    /// The id for a request: a valid `x-parley-trace` first, then a valid `traceparent`,
    /// otherwise a fresh one from `random` (16 random bytes the shell supplies).
    pub fn for_request(parley: Option<&str>, traceparent: Option<&str>, random: [u8; 16]) -> TraceId {
        parley
            .and_then(TraceId::parse)
            .or_else(|| traceparent.and_then(TraceId::from_traceparent))
            .unwrap_or_else(|| TraceId::from_random(random))
    }

    /// A fresh id from 16 random bytes; all-zero bytes (invalid as a trace id) become ...01.
    pub fn from_random(mut bytes: [u8; 16]) -> TraceId {
        if bytes.iter().all(|b| *b == 0) {
            bytes[15] = 1;
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(32);
        for b in bytes {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        TraceId(s)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn all_zero(s: &str) -> bool {
    s.bytes().all(|b| b == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn parses_exactly_32_lowercase_hex_digits() {
        assert_eq!(TraceId::parse(ID).unwrap().as_str(), ID);
        for bad in ["", "4bf92f3577b34da6a3ce929d0e0e473", "4bf92f3577b34da6a3ce929d0e0e47361", "4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f3577b34da6a3ce929d0e0e473g", "00000000000000000000000000000000", " 4bf92f3577b34da6a3ce929d0e0e473", "4bf92f35-7b34da6a3ce929d0e0e4736"] {
            assert_eq!(TraceId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_only_well_formed_version_00_traceparents() {
        let ok = format!("00-{ID}-00f067aa0ba902b7-01");
        assert_eq!(TraceId::from_traceparent(&ok).unwrap().as_str(), ID);
        for bad in [
            format!("01-{ID}-00f067aa0ba902b7-01"),
            format!("00-{ID}-0000000000000000-01"),
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_owned(),
            format!("00-{ID}-00f067aa0ba902b7-01-extra"),
            format!("00-{ID}-00f067aa0ba902b7"),
            format!("00-{ID}-00F067AA0BA902B7-01"),
            format!("00-{ID}-00f067aa0ba902b7-1"),
            "garbage".to_owned(),
        ] {
            assert_eq!(TraceId::from_traceparent(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_request_prefers_the_parley_header_then_traceparent_then_a_fresh_id() {
        let other = "a".repeat(32);
        let tp = format!("00-{other}-00f067aa0ba902b7-01");
        let random = [0xab; 16];
        assert_eq!(TraceId::for_request(Some(ID), Some(&tp), random).as_str(), ID);
        assert_eq!(TraceId::for_request(Some("bad"), Some(&tp), random).as_str(), other);
        assert_eq!(TraceId::for_request(Some("bad"), Some("bad"), random).as_str(), "ab".repeat(16));
        assert_eq!(TraceId::for_request(None, None, [0; 16]).as_str(), format!("{}1", "0".repeat(31)));
    }

    proptest! {
        #[test]
        fn fresh_ids_always_parse_back(bytes in any::<[u8; 16]>()) {
            let id = TraceId::from_random(bytes);
            prop_assert_eq!(TraceId::parse(id.as_str()), Some(id.clone()));
        }

        #[test]
        fn whatever_is_accepted_is_32_lowercase_hex(raw in "\\PC{0,80}") {
            if let Some(id) = TraceId::parse(&raw).or_else(|| TraceId::from_traceparent(&raw)) {
                prop_assert!(is_lower_hex(id.as_str(), 32));
            }
        }
    }
}
