//! The host allowlist: which hosts (and ports) an org has configured its `http_request` tool to
//! reach.
//!
//! Entry syntax, one host per entry, no scheme or path:
//!
//! - `api.example.com`: exactly that name;
//! - `*.example.com`: any subdomain of `example.com` (`a.example.com`, `a.b.example.com`), but
//!   **not** `example.com` itself; list the apex separately if it is wanted. The part after `*.`
//!   must have at least two labels, so `*.com` is not a valid entry;
//! - `203.0.113.7`, `[2606:4700::1111]`: exactly that IP literal. IP literals are matched by value
//!   (so `0xcb007107` in a URL is the same host), and never by a name pattern;
//! - any of the above with `:port`, e.g. `api.example.com:8443`: that port only.
//!
//! Without a port an entry allows only the scheme's default port (443 for https; 80 for http in
//! the loopback-dev case). A non-default port must be listed explicitly, including for loopback
//! development endpoints (`localhost:8787`): ports are part of what an org deliberately allows,
//! not something the agent may pick.
//!
//! Entries are parsed with the same rules as URLs, so case and a trailing dot do not matter.

use crate::target::parse_host_port;
use crate::{Host, Refusal, Scheme};

/// What an entry matches by host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Exactly this DNS name.
    Exact(String),
    /// Any proper subdomain of this name (stored without the `*.`).
    Subdomains(String),
    /// Exactly this IP literal.
    Ip(Host),
}

/// One parsed allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub pattern: HostPattern,
    /// `None`: the scheme's default port only.
    pub port: Option<u16>,
}

impl AllowEntry {
    /// Parses one entry. Errors are [`Refusal::BadAllowEntry`] naming the entry.
    pub fn parse(entry: &str) -> Result<AllowEntry, Refusal> {
        let bad = |why: String| Refusal::BadAllowEntry {
            entry: entry.to_owned(),
            why,
        };
        let text = entry.trim();
        if text.contains("://") || text.contains(['/', '?', '#', '@']) {
            return Err(bad(
                "write the host (and optional :port) only, no scheme, path or user".into(),
            ));
        }
        let (wildcard, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if rest.contains('*') {
            return Err(bad("a wildcard is only allowed as a leading *.".into()));
        }
        let (host, port) = parse_host_port(rest).map_err(|r| bad(r.to_string()))?;
        let pattern = match host {
            Host::Name(name) if wildcard => {
                if !name.contains('.') {
                    return Err(bad("a wildcard needs at least two labels after *.".into()));
                }
                HostPattern::Subdomains(name)
            }
            Host::Name(name) => HostPattern::Exact(name),
            _ if wildcard => return Err(bad("a wildcard cannot apply to an IP address".into())),
            ip => HostPattern::Ip(ip),
        };
        Ok(AllowEntry { pattern, port })
    }

    /// Whether the entry covers `host`, whatever the port.
    pub fn matches_host(&self, host: &Host) -> bool {
        match (&self.pattern, host) {
            (HostPattern::Exact(want), Host::Name(name)) => want == name,
            (HostPattern::Subdomains(suffix), Host::Name(name)) => {
                name.len() > suffix.len() + 1
                    && name.ends_with(suffix.as_str())
                    && name[..name.len() - suffix.len()].ends_with('.')
            }
            (HostPattern::Ip(want), ip @ (Host::Ipv4(_) | Host::Ipv6(_))) => want == ip,
            _ => false,
        }
    }

    /// Whether the entry allows `port` for `scheme`.
    pub fn allows_port(&self, scheme: Scheme, port: u16) -> bool {
        self.port.unwrap_or(scheme.default_port()) == port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_entries() {
        let e = AllowEntry::parse("*.Example.COM.").unwrap();
        assert_eq!(e.pattern, HostPattern::Subdomains("example.com".into()));
        let e = AllowEntry::parse("api.example.com:8443").unwrap();
        assert_eq!(e.port, Some(8443));
        let e = AllowEntry::parse("[::1]:8787").unwrap();
        assert_eq!(
            e.pattern,
            HostPattern::Ip(Host::Ipv6([0, 0, 0, 0, 0, 0, 0, 1]))
        );
        for bad in [
            "",
            "*",
            "*.com",
            "https://a.com",
            "a.com/x",
            "*.1.2.3.4",
            "a.*.com",
            "u@a.com",
            "a.com:0",
            "1.2.3.4.5",
        ] {
            let err = AllowEntry::parse(bad).unwrap_err();
            assert_eq!(err.code(), "bad_allow_entry", "{bad}");
        }
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let e = AllowEntry::parse("*.example.com").unwrap();
        assert!(e.matches_host(&Host::Name("a.example.com".into())));
        assert!(e.matches_host(&Host::Name("a.b.example.com".into())));
        assert!(!e.matches_host(&Host::Name("example.com".into())));
        assert!(!e.matches_host(&Host::Name("badexample.com".into())));
        assert!(!e.matches_host(&Host::Name(".example.com".into())));
    }
}
