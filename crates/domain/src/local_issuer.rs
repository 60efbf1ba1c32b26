//! The guard that keeps the local development issuer local.
//!
//! `cargo xtask dev` runs a development issuer on 127.0.0.1 that signs Clerk-shaped session
//! tokens, and configures the worker with its JWKS and its loopback URL as the issuer. Tokens
//! go through exactly the same verification as Clerk's. On top of that, a token whose issuer is
//! a loopback URL is accepted only on a request that itself arrived on a loopback host: a
//! deployed worker is reached through a public hostname, so even a worker mistakenly
//! configured with a development issuer accepts none of its tokens.

/// Whether tokens from `issuer` may be accepted on a request to `request_host`.
pub fn issuer_allowed(issuer: &str, request_host: &str) -> bool {
    !is_loopback_url(issuer) || is_loopback_host(request_host)
}

fn is_loopback_url(url: &str) -> bool {
    is_loopback_host(&url_host(url))
}

/// The host of an absolute http(s) URL as the runtime hands it over (`request.url`): without
/// scheme, user info, port, path, query or fragment; IPv6 keeps its brackets. Read from the
/// text so the shells need no URL parser (ADR 6).
pub fn url_host(url: &str) -> String {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if authority.starts_with('[') {
        authority.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_owned()
    };
    host.to_ascii_lowercase()
}

/// Whether a host name is a loopback address.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host == "[::1]"
        || host == "::1"
        || host.strip_prefix("127.").is_some_and(|rest| {
            let parts: Vec<_> = rest.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_issuer_is_accepted_only_on_loopback_requests() {
        for issuer in ["http://127.0.0.1:8788", "http://localhost:8788/", "http://[::1]:8788"] {
            assert!(issuer_allowed(issuer, "127.0.0.1"), "{issuer}");
            assert!(issuer_allowed(issuer, "localhost"), "{issuer}");
            for host in ["parley.example.com", "127.0.0.1.example.com", "localhost.evil.com", "10.0.0.1", "127.0.0.256", "127.1"] {
                assert!(!issuer_allowed(issuer, host), "{issuer} on {host}");
            }
        }
    }

    #[test]
    fn the_host_of_a_request_url() {
        for (url, host) in [
            ("http://127.0.0.1:8787/v1/me?x=1", "127.0.0.1"),
            ("https://Parley.Example.com/v1", "parley.example.com"),
            ("https://parley.example.com", "parley.example.com"),
            ("http://[::1]:8787/", "[::1]"),
            ("https://user:pw@127.0.0.1.evil.com/", "127.0.0.1.evil.com"),
            ("https://a.example?q=http://127.0.0.1/", "a.example"),
            ("https://a.example#@127.0.0.1", "a.example"),
        ] {
            assert_eq!(url_host(url), host, "{url}");
        }
    }

    #[test]
    fn a_real_issuer_is_accepted_anywhere() {
        for host in ["parley.example.com", "127.0.0.1"] {
            assert!(issuer_allowed("https://clerk.parley.example.com", host));
            assert!(issuer_allowed("https://127.0.0.1.example.com", host));
        }
    }
}
