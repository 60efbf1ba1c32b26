//! Why an outbound request is refused. Every check in this crate answers with one of these, so the
//! agent (and the operator reading the log) always learns the exact reason, and the shell can
//! branch on the stable [`Refusal::code`] rather than on the message text.

use thiserror::Error;

/// A refused outbound request. The `Display` text is meant for humans and names the host where
/// there is one; [`Refusal::code`] is the stable machine form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// The URL could not be parsed; the string says what was wrong with it.
    #[error("bad URL: {0}")]
    BadUrl(String),
    /// The scheme is not `https` (plain `http` outside the loopback-dev exception, or anything
    /// else such as `ftp` or `file`).
    #[error("only https is allowed, not {scheme} (host {host})")]
    NotHttps { scheme: String, host: String },
    /// Plain `http` to a loopback host, but the policy does not enable the loopback-dev exception.
    #[error("plain http to loopback host {host} is only allowed in local development")]
    LoopbackHttpNotAllowed { host: String },
    /// The URL carries `user:password@`; credentials belong in headers the shell controls, and
    /// userinfo is a classic way to make a URL look like it points somewhere else.
    #[error("URLs with a user name or password before the host are not allowed")]
    UserInfo,
    /// The host has non-ASCII characters. IDNA is not supported, so it cannot be checked safely.
    #[error(
        "host {host} is not ASCII (internationalised names are not supported; use the xn-- form)"
    )]
    NonAsciiHost { host: String },
    /// The host is not on the policy's allowlist.
    #[error("host {host} is not on the allowlist")]
    HostNotAllowed { host: String },
    /// The host is allowed, but not on this port.
    #[error("port {port} is not allowed for host {host}")]
    PortNotAllowed { host: String, port: u16 },
    /// RFC 1918 private IPv4 space.
    #[error("{host} is a private address")]
    PrivateAddress { host: String },
    /// 127.0.0.0/8 or ::1 (outside the loopback-dev exception).
    #[error("{host} is a loopback address")]
    LoopbackAddress { host: String },
    /// 169.254.0.0/16 or fe80::/10.
    #[error("{host} is a link-local address")]
    LinkLocal { host: String },
    /// 100.64.0.0/10, carrier-grade NAT shared space.
    #[error("{host} is a carrier-grade NAT (shared) address")]
    Cgnat { host: String },
    /// fc00::/7.
    #[error("{host} is an IPv6 unique-local address")]
    UniqueLocal { host: String },
    /// A cloud instance-metadata endpoint (169.254.169.254, fd00:ec2::254, 100.100.100.200,
    /// 168.63.129.16, metadata.google.internal).
    #[error("{host} is a cloud metadata endpoint")]
    Metadata { host: String },
    /// ::ffff:a.b.c.d where the embedded IPv4 address is not public.
    #[error("{host} is an IPv4-mapped address of non-public {embedded}")]
    Ipv4Mapped { host: String, embedded: String },
    /// ::a.b.c.d, the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1).
    #[error("{host} is a deprecated IPv4-compatible address")]
    Ipv4Compatible { host: String },
    /// 64:ff9b::/96 where the embedded IPv4 address is not public.
    #[error("{host} is a NAT64 address of non-public {embedded}")]
    Nat64 { host: String, embedded: String },
    /// 2002::/16 where the embedded IPv4 address is not public.
    #[error("{host} is a 6to4 address of non-public {embedded}")]
    SixToFour { host: String, embedded: String },
    /// 2001::/32. Teredo tunnels to an obfuscated IPv4 client, so it is refused outright.
    #[error("{host} is a Teredo address")]
    Teredo { host: String },
    /// A name that only resolves inside a network: `localhost`, `*.local`, `*.internal`, a
    /// single-label name, ...
    #[error("{host} is an internal name")]
    InternalName { host: String },
    /// 224.0.0.0/4 or ff00::/8.
    #[error("{host} is a multicast address")]
    Multicast { host: String },
    /// Reserved or special-purpose space: 240.0.0.0/4 (and broadcast), 192.0.0.0/24, IPv6
    /// outside global unicast, ...
    #[error("{host} is a reserved address")]
    Reserved { host: String },
    /// 198.18.0.0/15 or 2001:2::/48.
    #[error("{host} is a benchmarking address")]
    Benchmarking { host: String },
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20.
    #[error("{host} is a documentation address")]
    Documentation { host: String },
    /// 0.0.0.0/8 or ::.
    #[error("{host} is an unspecified address")]
    Unspecified { host: String },
    /// The redirect chain is longer than the policy allows.
    #[error("more than {max} redirects")]
    TooManyRedirects { max: u8 },
    /// The request body is over the policy's cap.
    #[error("request body of {len} bytes is over the {max}-byte limit")]
    RequestTooLarge { len: usize, max: usize },
    /// The response body grew past the policy's cap.
    #[error("response of {len} bytes is over the {max}-byte limit")]
    ResponseTooLarge { len: usize, max: usize },
    /// The org's request budget is spent for now.
    #[error("rate limited: retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    /// An allowlist entry in the policy is malformed (reported by
    /// [`EgressPolicy::validate`](crate::EgressPolicy::validate)).
    #[error("allowlist entry {entry:?} is not valid: {why}")]
    BadAllowEntry { entry: String, why: String },
}

impl Refusal {
    /// The stable snake_case code for this reason. Codes never change once released: they are
    /// logged, shown to operators and matched on by the shell.
    pub fn code(&self) -> &'static str {
        use Refusal::*;
        match self {
            BadUrl(_) => "bad_url",
            NotHttps { .. } => "not_https",
            LoopbackHttpNotAllowed { .. } => "loopback_http_not_allowed",
            UserInfo => "user_info",
            NonAsciiHost { .. } => "non_ascii_host",
            HostNotAllowed { .. } => "host_not_allowed",
            PortNotAllowed { .. } => "port_not_allowed",
            PrivateAddress { .. } => "private_address",
            LoopbackAddress { .. } => "loopback_address",
            LinkLocal { .. } => "link_local",
            Cgnat { .. } => "cgnat",
            UniqueLocal { .. } => "unique_local",
            Metadata { .. } => "metadata",
            Ipv4Mapped { .. } => "ipv4_mapped",
            Ipv4Compatible { .. } => "ipv4_compatible",
            Nat64 { .. } => "nat64",
            SixToFour { .. } => "six_to_four",
            Teredo { .. } => "teredo",
            InternalName { .. } => "internal_name",
            Multicast { .. } => "multicast",
            Reserved { .. } => "reserved",
            Benchmarking { .. } => "benchmarking",
            Documentation { .. } => "documentation",
            Unspecified { .. } => "unspecified",
            TooManyRedirects { .. } => "too_many_redirects",
            RequestTooLarge { .. } => "request_too_large",
            ResponseTooLarge { .. } => "response_too_large",
            RateLimited { .. } => "rate_limited",
            BadAllowEntry { .. } => "bad_allow_entry",
        }
    }

    /// Shorthand for a [`Refusal::BadUrl`] with a fixed explanation.
    pub(crate) fn bad(why: &str) -> Self {
        Refusal::BadUrl(why.to_owned())
    }
}
