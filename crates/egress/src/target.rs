//! Parsing an absolute URL into the [`Target`] the rest of the guard reasons about.
//!
//! This is deliberately stricter than a browser: anything that browsers, curl and the Workers
//! `fetch` might read differently from us is refused rather than guessed at, because a parser
//! disagreement is exactly how a request slips past a guard. In particular:
//!
//! - whitespace, control characters and backslashes anywhere are refused (browsers turn `\` into
//!   `/`, which would move the host boundary);
//! - the scheme must be followed by `//` (no `https:example.com`);
//! - userinfo (`user@host`) is refused;
//! - `%` in a host is refused (browsers percent-decode hosts, so `%31%32%37.0.0.1` is loopback);
//! - IPv4 literals are recognised in every spelling browsers accept (see [`crate::ip_literal`]);
//! - IPv6 zone ids (`[fe80::1%25eth0]`) are refused;
//! - non-ASCII hosts are refused (IDNA is not supported: `127。0。0。1` never becomes an address);
//! - the fragment is dropped, since it is never sent.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ip_literal::{ends_in_number, parse_ipv4, parse_ipv6};
use crate::Refusal;

/// URLs longer than this are refused outright; no legitimate API call needs more, and it bounds
/// the work done on hostile input.
pub const MAX_URL_LEN: usize = 8 * 1024;

/// The two schemes the guard understands. Anything else is refused at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Https,
    Http,
}

impl Scheme {
    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }

    /// The scheme as written in a URL, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// The host of a [`Target`], already normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name: ASCII, lowercased, without a trailing dot.
    Name(String),
    /// An IPv4 literal, in any spelling (decimal, hex, octal, shortened).
    Ipv4([u8; 4]),
    /// A bracketed IPv6 literal.
    Ipv6([u16; 8]),
}

impl Host {
    /// The address, if the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Name(_) => None,
            Host::Ipv4(b) => Some(IpAddr::V4(Ipv4Addr::from(*b))),
            Host::Ipv6(g) => Some(IpAddr::V6(Ipv6Addr::from(*g))),
        }
    }

    /// The name, if the host is not an IP literal.
    pub fn name(&self) -> Option<&str> {
        match self {
            Host::Name(n) => Some(n),
            _ => None,
        }
    }
}

/// The host as it appears in a URL (IPv6 in brackets).
impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ipv4(b) => write!(f, "{}", Ipv4Addr::from(*b)),
            Host::Ipv6(g) => write!(f, "[{}]", Ipv6Addr::from(*g)),
        }
    }
}

/// A parsed absolute URL: what the shell will actually connect to and ask for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub scheme: Scheme,
    pub host: Host,
    /// The effective port: explicit, or the scheme's default.
    pub port: u16,
    /// Always starts with `/`; the fragment is removed and non-ASCII bytes percent-encoded.
    pub path_and_query: String,
}

impl Target {
    /// Parses an absolute `http`/`https` URL. This only parses; [`crate::check`] decides whether
    /// the target may be contacted.
    pub fn parse(url: &str) -> Result<Target, Refusal> {
        if url.len() > MAX_URL_LEN {
            return Err(Refusal::BadUrl(format!(
                "URL is longer than {MAX_URL_LEN} bytes"
            )));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Refusal::bad(
                "URL contains whitespace or control characters",
            ));
        }
        if url.contains('\\') {
            return Err(Refusal::bad("URL contains a backslash"));
        }
        let (scheme_text, rest) =
            split_scheme(url).ok_or_else(|| Refusal::bad("not an absolute URL (no scheme)"))?;
        let rest = rest
            .strip_prefix("//")
            .ok_or_else(|| Refusal::bad("the scheme must be followed by //"))?;
        // The fragment is never sent; cutting it first also means `#@` cannot fake userinfo.
        let rest = rest.split('#').next().unwrap_or("");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(Refusal::UserInfo);
        }
        let (host, port) = parse_host_port(authority)?;
        let scheme = match scheme_text.to_ascii_lowercase().as_str() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => {
                return Err(Refusal::NotHttps {
                    scheme: other.to_owned(),
                    host: host.to_string(),
                });
            }
        };
        Ok(Target {
            scheme,
            port: port.unwrap_or(scheme.default_port()),
            host,
            path_and_query: normalise_path(path_and_query),
        })
    }

    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    pub fn origin(&self) -> String {
        if self.port == self.scheme.default_port() {
            format!("{}://{}", self.scheme.as_str(), self.host)
        } else {
            format!("{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }

    /// The full URL to request.
    pub fn url(&self) -> String {
        format!("{}{}", self.origin(), self.path_and_query)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

/// Splits `scheme:rest` if the text before the first `:` is a valid RFC 3986 scheme.
pub(crate) fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    (first_ok && rest_ok).then(|| (scheme, &url[colon + 1..]))
}

/// Parses `host[:port]` or `[v6][:port]`. Shared with the allowlist so entries and URLs are read
/// by exactly the same rules.
pub(crate) fn parse_host_port(authority: &str) -> Result<(Host, Option<u16>), Refusal> {
    if authority.is_empty() {
        return Err(Refusal::bad("empty host"));
    }
    if let Some(bracketed) = authority.strip_prefix('[') {
        let close = bracketed
            .find(']')
            .ok_or_else(|| Refusal::bad("unclosed [ in host"))?;
        let inner = &bracketed[..close];
        let after = &bracketed[close + 1..];
        if inner.contains('%') {
            return Err(Refusal::bad("IPv6 zone ids are not allowed"));
        }
        let groups = parse_ipv6(inner)
            .ok_or_else(|| Refusal::BadUrl(format!("[{inner}] is not a valid IPv6 address")))?;
        let port = if after.is_empty() {
            None
        } else {
            let p = after
                .strip_prefix(':')
                .ok_or_else(|| Refusal::bad("unexpected text after ]"))?;
            Some(parse_port(p)?)
        };
        return Ok((Host::Ipv6(groups), port));
    }
    let (host, port) = match authority.rfind(':') {
        Some(at) => (&authority[..at], Some(parse_port(&authority[at + 1..])?)),
        None => (authority, None),
    };
    if host.contains([':', '[', ']']) {
        return Err(Refusal::bad("IPv6 addresses must be in brackets"));
    }
    Ok((parse_host(host)?, port))
}

fn parse_port(text: &str) -> Result<u16, Refusal> {
    let bad = || Refusal::BadUrl(format!("port {text:?} is not valid"));
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // Leading zeros are harmless (`0443` is 443), but the value must fit and 0 is not a port.
    let digits = text.trim_start_matches('0');
    if digits.is_empty() || digits.len() > 5 {
        return Err(bad());
    }
    match digits.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(bad()),
    }
}

/// Parses an unbracketed host: an IPv4 literal in any spelling, or a DNS name.
fn parse_host(raw: &str) -> Result<Host, Refusal> {
    if raw.is_empty() {
        return Err(Refusal::bad("empty host"));
    }
    if !raw.is_ascii() {
        return Err(Refusal::NonAsciiHost {
            host: raw.to_owned(),
        });
    }
    if raw.contains('%') {
        return Err(Refusal::bad(
            "percent-encoded characters in the host are not allowed",
        ));
    }
    let lower = raw.to_ascii_lowercase();
    // `example.com.` is the same host as `example.com`; normalising lets the allowlist match and
    // stops a trailing dot being used to dodge a name rule.
    let host = lower.strip_suffix('.').unwrap_or(&lower);
    if host.is_empty() {
        return Err(Refusal::bad("empty host"));
    }
    if ends_in_number(host) {
        return parse_ipv4(host).map(Host::Ipv4).ok_or_else(|| {
            Refusal::BadUrl(format!(
                "{raw} looks like an IPv4 address but is not a valid one"
            ))
        });
    }
    if host.len() > 253 {
        return Err(Refusal::bad("host name is longer than 253 characters"));
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(Refusal::BadUrl(format!(
                "host {raw} has an empty or over-long label"
            )));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Refusal::BadUrl(format!(
                "host {raw} has characters not allowed in a host name"
            )));
        }
    }
    Ok(Host::Name(host.to_owned()))
}

/// Ensures a leading `/` and percent-encodes non-ASCII bytes (as browsers do), so the shell sends
/// exactly the string we checked.
fn normalise_path(path_and_query: &str) -> String {
    let mut out = String::with_capacity(path_and_query.len() + 1);
    if !path_and_query.starts_with('/') {
        out.push('/');
    }
    for &b in path_and_query.as_bytes() {
        if b.is_ascii() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(url: &str) -> Host {
        Target::parse(url).unwrap().host
    }

    #[test]
    fn basic_parse() {
        let t = Target::parse("HTTPS://API.Example.COM./v1/x?q=1#frag").unwrap();
        assert_eq!(t.scheme, Scheme::Https);
        assert_eq!(t.host, Host::Name("api.example.com".into()));
        assert_eq!(t.port, 443);
        assert_eq!(t.path_and_query, "/v1/x?q=1");
        assert_eq!(t.url(), "https://api.example.com/v1/x?q=1");
    }

    #[test]
    fn path_forms() {
        assert_eq!(Target::parse("https://a.com").unwrap().path_and_query, "/");
        assert_eq!(
            Target::parse("https://a.com?x=1").unwrap().path_and_query,
            "/?x=1"
        );
        assert_eq!(
            Target::parse("https://a.com/caf\u{e9}")
                .unwrap()
                .path_and_query,
            "/caf%C3%A9"
        );
    }

    #[test]
    fn ip_hosts() {
        assert_eq!(host("http://2130706433/"), Host::Ipv4([127, 0, 0, 1]));
        assert_eq!(host("http://0x7f.0.0.1./"), Host::Ipv4([127, 0, 0, 1]));
        assert_eq!(
            host("http://[::1]:8080/"),
            Host::Ipv6([0, 0, 0, 0, 0, 0, 0, 1])
        );
        assert_eq!(
            Target::parse("http://[::1]:8080/").unwrap().url(),
            "http://[::1]:8080/"
        );
    }

    #[test]
    fn refusals() {
        let code = |u: &str| Target::parse(u).unwrap_err().code();
        assert_eq!(code("https://user@a.com/"), "user_info");
        assert_eq!(code("https://[fe80::1%25eth0]/"), "bad_url");
        assert_eq!(code("https://a.com:/"), "bad_url");
        assert_eq!(code("https://a.com:0/"), "bad_url");
        assert_eq!(code("https://a.com:65536/"), "bad_url");
        assert_eq!(code("https:///x"), "bad_url");
        assert_eq!(code("https:a.com"), "bad_url");
        assert_eq!(code("https://a.com\\@b.com/"), "bad_url");
        assert_eq!(code(" https://a.com/"), "bad_url");
        assert_eq!(code("https://b\u{fc}cher.de/"), "non_ascii_host");
        assert_eq!(code("ftp://a.com/"), "not_https");
        assert_eq!(code("https://1.2.3.4.5/"), "bad_url");
        assert_eq!(code("https://%31%32%37.0.0.1/"), "bad_url");
        assert_eq!(code("https://::1/"), "bad_url");
    }

    #[test]
    fn fragment_cannot_fake_userinfo() {
        assert_eq!(host("https://a.com#@b.com/"), Host::Name("a.com".into()));
        assert_eq!(host("https://a.com?@b.com/"), Host::Name("a.com".into()));
    }
}
