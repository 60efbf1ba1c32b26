//! The development identity that stands in until real sign-in lands.
//!
//! It is honoured only when both hold: the worker was started with
//! `PARLEY_DEV_IDENTITY=local-only` (set by the dev and test commands in `.dev.vars` or with
//! `--var`, never in `wrangler.toml`), and the request arrived on a loopback host. A deployed
//! worker is reached through a public hostname, so even a mistakenly set variable cannot
//! enable it there.

/// The value `PARLEY_DEV_IDENTITY` must have.
pub const ENABLE_VALUE: &str = "local-only";
/// The demo org seeded by the dev command.
pub const DEV_ORG: &str = "org_demo";
/// The demo user.
pub const DEV_USER: &str = "user_demo";

/// Whether a request may use the development identity.
pub fn allowed(flag: Option<&str>, host: &str) -> bool {
    flag == Some(ENABLE_VALUE) && is_loopback_host(host)
}

fn is_loopback_host(host: &str) -> bool {
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
    fn needs_both_the_flag_and_a_loopback_host() {
        assert!(allowed(Some("local-only"), "127.0.0.1"));
        assert!(allowed(Some("local-only"), "localhost"));
        assert!(allowed(Some("local-only"), "[::1]"));
        assert!(!allowed(None, "127.0.0.1"));
        assert!(!allowed(Some("true"), "127.0.0.1"));
        for host in ["parley.example.com", "127.0.0.1.example.com", "localhost.evil.com", "10.0.0.1", "127.0.0.256", "127.1"] {
            assert!(!allowed(Some("local-only"), host), "{host}");
        }
    }
}
