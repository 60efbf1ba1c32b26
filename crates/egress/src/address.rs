//! Which addresses and names are not public, and why.
//!
//! The agent may only reach the public internet. Everything here is a destination that would let
//! a request reach our own infrastructure, a cloud provider's metadata service or someone's
//! private network instead: loopback, private and shared (CGNAT) space, link-local, unique-local,
//! multicast, reserved and special-purpose ranges, and the names that only resolve internally.
//!
//! IPv6 forms that carry an IPv4 address inside them (IPv4-mapped, NAT64, 6to4) are judged by the
//! address they carry, so `[::ffff:127.0.0.1]` is not a way around the IPv4 rules. Forms that are
//! deprecated or tunnel somewhere we cannot see (IPv4-compatible, Teredo) are refused outright.
//! IPv6 outside global unicast (2000::/3) is refused as reserved unless a more specific rule
//! names it: nothing legitimate lives there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{Host, Refusal};

/// Why an address is not public, before it is attached to a host string.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Metadata,
    Unspecified,
    Loopback,
    Private,
    LinkLocal,
    Cgnat,
    UniqueLocal,
    Multicast,
    Reserved,
    Benchmarking,
    Documentation,
}

impl Kind {
    fn refusal(self, host: String) -> Refusal {
        match self {
            Kind::Metadata => Refusal::Metadata { host },
            Kind::Unspecified => Refusal::Unspecified { host },
            Kind::Loopback => Refusal::LoopbackAddress { host },
            Kind::Private => Refusal::PrivateAddress { host },
            Kind::LinkLocal => Refusal::LinkLocal { host },
            Kind::Cgnat => Refusal::Cgnat { host },
            Kind::UniqueLocal => Refusal::UniqueLocal { host },
            Kind::Multicast => Refusal::Multicast { host },
            Kind::Reserved => Refusal::Reserved { host },
            Kind::Benchmarking => Refusal::Benchmarking { host },
            Kind::Documentation => Refusal::Documentation { host },
        }
    }
}

/// IPv4 ranges, most specific first: the metadata endpoints sit inside wider ranges (or, for
/// Azure's 168.63.129.16, inside public space) and must be named as metadata.
const V4_RULES: &[([u8; 4], u32, Kind)] = &[
    ([169, 254, 169, 254], 32, Kind::Metadata), // AWS, GCP, Azure, OCI, DigitalOcean, ...
    ([100, 100, 100, 200], 32, Kind::Metadata), // Alibaba Cloud
    ([168, 63, 129, 16], 32, Kind::Metadata),   // Azure WireServer (public space, host-only)
    ([0, 0, 0, 0], 8, Kind::Unspecified),
    ([127, 0, 0, 0], 8, Kind::Loopback),
    ([10, 0, 0, 0], 8, Kind::Private),
    ([172, 16, 0, 0], 12, Kind::Private),
    ([192, 168, 0, 0], 16, Kind::Private),
    ([169, 254, 0, 0], 16, Kind::LinkLocal),
    ([100, 64, 0, 0], 10, Kind::Cgnat),
    ([192, 0, 0, 0], 24, Kind::Reserved), // IETF protocol assignments
    ([192, 0, 2, 0], 24, Kind::Documentation),
    ([198, 51, 100, 0], 24, Kind::Documentation),
    ([203, 0, 113, 0], 24, Kind::Documentation),
    ([198, 18, 0, 0], 15, Kind::Benchmarking),
    ([192, 88, 99, 0], 24, Kind::Reserved), // deprecated 6to4 relay anycast
    ([224, 0, 0, 0], 4, Kind::Multicast),
    ([240, 0, 0, 0], 4, Kind::Reserved), // includes 255.255.255.255 broadcast
];

fn v4_kind(addr: Ipv4Addr) -> Option<Kind> {
    let x = u32::from(addr);
    V4_RULES.iter().find_map(|&(net, len, kind)| {
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        (x & mask == u32::from_be_bytes(net) & mask).then_some(kind)
    })
}

fn in_v6(x: u128, net: [u16; 8], len: u32) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    x & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn v6_refusal(addr: Ipv6Addr) -> Option<Refusal> {
    let x = u128::from(addr);
    let g = addr.segments();
    let host = addr.to_string();
    let kind = |k: Kind| Some(k.refusal(host.clone()));
    if x == 0 {
        return kind(Kind::Unspecified);
    }
    if x == 1 {
        return kind(Kind::Loopback);
    }
    if in_v6(x, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96) {
        let v4 = embedded_v4(g[6], g[7]);
        return v4_kind(v4).map(|_| Refusal::Ipv4Mapped {
            host,
            embedded: v4.to_string(),
        });
    }
    if in_v6(x, [0; 8], 96) {
        return Some(Refusal::Ipv4Compatible { host });
    }
    if in_v6(x, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        let v4 = embedded_v4(g[6], g[7]);
        return v4_kind(v4).map(|_| Refusal::Nat64 {
            host,
            embedded: v4.to_string(),
        });
    }
    if in_v6(x, [0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48) {
        // RFC 8215 local-use NAT64: the translator is private to some network.
        return kind(Kind::Reserved);
    }
    if in_v6(x, [0x2001, 0, 0, 0, 0, 0, 0, 0], 32) {
        return Some(Refusal::Teredo { host });
    }
    if in_v6(x, [0x2001, 2, 0, 0, 0, 0, 0, 0], 48) {
        return kind(Kind::Benchmarking);
    }
    if in_v6(x, [0x2001, 0, 0, 0, 0, 0, 0, 0], 23) {
        return kind(Kind::Reserved); // IETF protocol assignments
    }
    if in_v6(x, [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32)
        || in_v6(x, [0x3fff, 0, 0, 0, 0, 0, 0, 0], 20)
    {
        return kind(Kind::Documentation);
    }
    if in_v6(x, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let v4 = embedded_v4(g[1], g[2]);
        return v4_kind(v4).map(|_| Refusal::SixToFour {
            host,
            embedded: v4.to_string(),
        });
    }
    if in_v6(x, [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128) {
        return kind(Kind::Metadata); // AWS IMDS over IPv6
    }
    if in_v6(x, [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7) {
        return kind(Kind::UniqueLocal);
    }
    if in_v6(x, [0xfe80, 0, 0, 0, 0, 0, 0, 0], 10) {
        return kind(Kind::LinkLocal);
    }
    if in_v6(x, [0xff00, 0, 0, 0, 0, 0, 0, 0], 8) {
        return kind(Kind::Multicast);
    }
    if !in_v6(x, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return kind(Kind::Reserved);
    }
    None
}

/// Why `ip` must not be contacted, or `None` if it is a public address.
pub fn refusal_for_ip(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4).map(|k| k.refusal(v4.to_string())),
        IpAddr::V6(v6) => v6_refusal(v6),
    }
}

/// Top-level names that only ever resolve inside a network. Besides the special-use names
/// (`localhost`, `local`, `internal`, `home.arpa`), this includes the undelegated names that
/// RFC 6762 appendix G lists as common private choices; none can be a public website.
const INTERNAL_SUFFIXES: &[&str] = &[
    "localhost",
    "local",
    "internal",
    "home.arpa",
    "localdomain",
    "lan",
    "intranet",
    "corp",
    "home",
    "private",
];

/// Why the DNS name `name` must not be contacted, or `None` if it may be public. Expects a
/// normalised name (as in [`Host::Name`]); normalises again anyway, so it is safe on raw input.
pub fn refusal_for_name(name: &str) -> Option<Refusal> {
    let lower = name.to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    let host = name.to_owned();
    // GCP's metadata server answers to both; name it precisely rather than as just "internal".
    if name == "metadata.google.internal" || name == "metadata" {
        return Some(Refusal::Metadata { host });
    }
    // A single label is resolved through the local search domain, i.e. inside the network.
    if !name.contains('.') {
        return Some(Refusal::InternalName { host });
    }
    let internal = INTERNAL_SUFFIXES
        .iter()
        .any(|s| name == *s || (name.ends_with(s) && name[..name.len() - s.len()].ends_with('.')));
    internal.then_some(Refusal::InternalName { host })
}

/// Why `host` must not be contacted, or `None` if it may be public.
pub fn refusal_for_host(host: &Host) -> Option<Refusal> {
    match host {
        Host::Name(n) => refusal_for_name(n),
        _ => host.ip().and_then(refusal_for_ip),
    }
}

/// Whether `host` is a loopback host for the local-development exception: a loopback IP literal
/// (127.0.0.0/8, ::1) or exactly `localhost`. Mapped and other disguised forms deliberately do
/// not count.
pub fn is_loopback_host(host: &Host) -> bool {
    match host {
        Host::Name(n) => n == "localhost",
        Host::Ipv4(b) => b[0] == 127,
        Host::Ipv6(g) => *g == [0, 0, 0, 0, 0, 0, 0, 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(ip: &str) -> Option<&'static str> {
        refusal_for_ip(ip.parse().unwrap()).map(|r| r.code())
    }

    #[test]
    fn v4_ranges() {
        assert_eq!(code("8.8.8.8"), None);
        assert_eq!(code("172.15.255.255"), None);
        assert_eq!(code("172.32.0.0"), None);
        assert_eq!(code("172.31.255.255"), Some("private_address"));
        assert_eq!(code("100.63.255.255"), None);
        assert_eq!(code("100.127.255.255"), Some("cgnat"));
        assert_eq!(code("100.128.0.0"), None);
        assert_eq!(code("198.19.255.255"), Some("benchmarking"));
        assert_eq!(code("198.20.0.0"), None);
        assert_eq!(code("223.255.255.255"), None);
        assert_eq!(code("255.255.255.255"), Some("reserved"));
        assert_eq!(code("169.254.169.254"), Some("metadata"));
        assert_eq!(code("169.254.169.253"), Some("link_local"));
    }

    #[test]
    fn v6_ranges() {
        assert_eq!(code("2606:4700:4700::1111"), None);
        assert_eq!(code("::ffff:8.8.8.8"), None);
        assert_eq!(code("64:ff9b::8.8.8.8"), None);
        assert_eq!(code("2002:808:808::1"), None);
        assert_eq!(code("2002:a00:1::1"), Some("six_to_four"));
        assert_eq!(code("2001:200::1"), None);
        assert_eq!(code("2001:1ff::1"), Some("reserved"));
        assert_eq!(code("2001:2::1"), Some("benchmarking"));
        assert_eq!(code("100::1"), Some("reserved"));
        assert_eq!(code("fec0::1"), Some("reserved"));
        assert_eq!(code("fd00:ec2::254"), Some("metadata"));
        assert_eq!(code("fd00:ec2::253"), Some("unique_local"));
        assert_eq!(code("febf::1"), Some("link_local"));
        assert_eq!(code("fec0::1"), Some("reserved"));
        assert_eq!(code("64:ff9b:1::1"), Some("reserved"));
    }

    #[test]
    fn names() {
        let code = |n: &str| refusal_for_name(n).map(|r| r.code());
        assert_eq!(code("example.com"), None);
        assert_eq!(code("notlocal.com"), None);
        assert_eq!(code("local.example.com"), None);
        assert_eq!(code("mylocal"), Some("internal_name"));
        assert_eq!(code("printer.local"), Some("internal_name"));
        assert_eq!(code("a.b.localhost."), Some("internal_name"));
        assert_eq!(code("router.home.arpa"), Some("internal_name"));
        assert_eq!(code("xhome.arpa"), None);
        assert_eq!(code("Metadata.Google.Internal."), Some("metadata"));
    }
}
