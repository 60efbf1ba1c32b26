//! Parsing IP literals the way browsers and curl do, so that no spelling of an address can pass as
//! a host name.
//!
//! IPv4 follows the WHATWG URL "IPv4 parser" (which is `inet_aton` in spirit): one to four
//! dot-separated parts, each decimal, octal (leading `0`) or hex (`0x`), the last part filling the
//! remaining bytes. So `2130706433`, `0x7f000001`, `0x7f.0.0.1`, `0177.0.0.1` and `127.1` are all
//! 127.0.0.1. A host whose last label looks like a number but does not parse is not a name either:
//! it is refused (WHATWG does the same), so `1.2.3.4.5` or `example.0x10` never reach DNS.
//!
//! IPv6 is RFC 4291 text form with at most one `::` and an optional trailing dotted IPv4.

/// Whether the host's last label looks numeric (all digits, or `0x` followed by hex digits). Such a
/// host must be an IPv4 literal or nothing.
pub(crate) fn ends_in_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match strip_hex_prefix(last) {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

fn strip_hex_prefix(s: &str) -> Option<&str> {
    s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))
}

/// Parses one IPv4 part: `0x..` hex (empty means 0, as browsers treat it), `0..` octal, else
/// decimal. `None` if it is not a number or does not fit in 32 bits.
fn parse_part(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = strip_hex_prefix(part) {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)? as u64;
        value = value.checked_mul(radix as u64)?.checked_add(d)?;
        // Anything past 32 bits is invalid whatever the position; stopping early also keeps a
        // long run of digits from overflowing.
        if value > u32::MAX as u64 {
            return None;
        }
    }
    Some(value)
}

/// Parses an IPv4 literal in any of the forms browsers accept. The input has no trailing dot.
pub(crate) fn parse_ipv4(host: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for part in &parts {
        numbers.push(parse_part(part)?);
    }
    let (last, leading) = numbers.split_last()?;
    if leading.iter().any(|&n| n > 255) {
        return None;
    }
    // The last part fills every byte the leading parts did not: 4 bytes for `a`, 3 for `a.b`, ...
    let last_bytes = 5 - numbers.len() as u32;
    if last_bytes < 4 && *last >= 1u64 << (8 * last_bytes) {
        return None;
    }
    let mut value = *last;
    for (i, &n) in leading.iter().enumerate() {
        value += n << (8 * (3 - i as u32));
    }
    Some((value as u32).to_be_bytes())
}

/// Parses strict dotted-decimal IPv4 as it may appear at the end of an IPv6 literal: exactly four
/// decimal parts, no leading zeros.
fn parse_dotted_decimal(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut count = 0;
    for part in s.split('.') {
        if count == 4
            || part.is_empty()
            || part.len() > 3
            || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        out[count] = part.parse::<u8>().ok()?;
        count += 1;
    }
    (count == 4).then_some(out)
}

fn parse_groups(s: &str) -> Option<Vec<u16>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    let pieces: Vec<&str> = s.split(':').collect();
    let mut out = Vec::with_capacity(pieces.len() + 1);
    for (i, piece) in pieces.iter().enumerate() {
        if i + 1 == pieces.len() && piece.contains('.') {
            let v4 = parse_dotted_decimal(piece)?;
            out.push(u16::from_be_bytes([v4[0], v4[1]]));
            out.push(u16::from_be_bytes([v4[2], v4[3]]));
        } else {
            if piece.is_empty() || piece.len() > 4 || !piece.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            out.push(u16::from_str_radix(piece, 16).ok()?);
        }
    }
    Some(out)
}

/// Parses the text between the brackets of an IPv6 literal (no zone id: the caller refuses `%`).
pub(crate) fn parse_ipv6(s: &str) -> Option<[u16; 8]> {
    let (head, tail, compressed) = match s.find("::") {
        Some(at) => {
            let tail = &s[at + 2..];
            if tail.contains("::") {
                return None;
            }
            (&s[..at], tail, true)
        }
        None => (s, "", false),
    };
    // A dotted IPv4 may only end the address, never sit before a `::`.
    if compressed && head.contains('.') {
        return None;
    }
    let head = parse_groups(head)?;
    let tail = parse_groups(tail)?;
    let explicit = head.len() + tail.len();
    let mut out = [0u16; 8];
    if compressed {
        // `::` stands for at least one zero group.
        if explicit > 7 {
            return None;
        }
        out[..head.len()].copy_from_slice(&head);
        out[8 - tail.len()..].copy_from_slice(&tail);
    } else {
        if explicit != 8 {
            return None;
        }
        out.copy_from_slice(&head);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_spellings_of_loopback() {
        for s in [
            "127.0.0.1",
            "2130706433",
            "0x7f000001",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "127.1",
            "127.0.1",
            "0x7F.1",
            "017700000001",
        ] {
            assert_eq!(parse_ipv4(s), Some([127, 0, 0, 1]), "{s}");
        }
    }

    #[test]
    fn ipv4_rejects() {
        for s in [
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "1.2.65536",
            "4294967296",
            "08",
            "0x1g",
            "",
            "1..1",
            "1.2.3.",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_ipv4(s), None, "{s}");
        }
        assert_eq!(parse_ipv4("4294967295"), Some([255, 255, 255, 255]));
        assert_eq!(parse_ipv4("0x"), Some([0, 0, 0, 0]));
    }

    #[test]
    fn numeric_endings() {
        assert!(ends_in_number("1.2.3.4.5"));
        assert!(ends_in_number("example.0x10"));
        assert!(ends_in_number("example.0x"));
        assert!(ends_in_number("2130706433"));
        assert!(!ends_in_number("example.com"));
        assert!(!ends_in_number("1.2.3.x4"));
        assert!(!ends_in_number("example.0xg"));
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(parse_ipv6("::1"), Some([0, 0, 0, 0, 0, 0, 0, 1]));
        assert_eq!(parse_ipv6("::"), Some([0; 8]));
        assert_eq!(
            parse_ipv6("::ffff:127.0.0.1"),
            Some([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1])
        );
        assert_eq!(
            parse_ipv6("1:2:3:4:5:6:7:8"),
            Some([1, 2, 3, 4, 5, 6, 7, 8])
        );
        assert_eq!(
            parse_ipv6("1:2:3:4:5:6:7::"),
            Some([1, 2, 3, 4, 5, 6, 7, 0])
        );
        assert_eq!(parse_ipv6("FE80::1"), Some([0xfe80, 0, 0, 0, 0, 0, 0, 1]));
        for bad in [
            "",
            ":",
            ":::",
            "1::2::3",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "12345::",
            "::g",
            "1.2.3.4::",
            "::1.2.3",
            "::01.2.3.4",
            "1:2:3:4:5:6:7",
            ":1::",
        ] {
            assert_eq!(parse_ipv6(bad), None, "{bad}");
        }
    }
}
