//! The egress policy and the check every outbound request passes.
//!
//! [`check`] allows a URL only if all of these hold:
//!
//! 1. it parses under the strict rules of [`Target::parse`];
//! 2. it is `https` — plain `http` only in the loopback-dev case below;
//! 3. its host is not a non-public address or an internal name ([`crate::address`]);
//! 4. its host is on the allowlist, and its port is the one that entry allows
//!    ([`crate::allowlist`] documents the entry syntax and the port rule).
//!
//! **Loopback-dev exception.** When [`EgressPolicy::allow_loopback_http`] is set and the host is a
//! loopback IP literal (127.0.0.0/8, `[::1]`) or exactly `localhost`, plain `http` is allowed and
//! the loopback refusal is waived. Nothing else changes: the host (and any non-default port, e.g.
//! `localhost:8787`) must still be listed, so only explicitly configured local endpoints are
//! reachable. It exists for local development only and must never be set in production.
//!
//! An IP literal can be allowed only by listing it literally, and a non-public one is refused even
//! then (outside the loopback-dev exception): the allowlist cannot open a hole into private space.
//!
//! **DNS.** A name that passes here could still resolve to a private address (a hostile or
//! misconfigured DNS record, or DNS rebinding). The Workers runtime resolves names inside `fetch`
//! and does not let us see or pin the resolved IP, so we cannot check it. The allowlist is the
//! control: an org should only list hosts it trusts to resolve publicly, and wildcard entries
//! extend that trust to every subdomain.

use serde::{Deserialize, Serialize};

use crate::address::{is_loopback_host, refusal_for_host};
use crate::{AllowEntry, Refusal, Scheme, Target};

/// 1 MiB, the default cap for request and response bodies.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// What an org's `http_request` tool may do. Deserialises from partial JSON: missing fields take
/// their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EgressPolicy {
    /// Hosts that may be contacted: exact names, `*.example.com` (subdomains only, not the apex),
    /// literal IPs, each optionally with `:port`. See [`crate::allowlist`]. Invalid entries never
    /// match anything; [`EgressPolicy::validate`] reports them.
    pub allowed_hosts: Vec<String>,
    /// Allow plain http (and loopback) to explicitly listed loopback endpoints. Local development
    /// only.
    pub allow_loopback_http: bool,
    /// Largest request body, in bytes.
    pub max_request_bytes: usize,
    /// Largest response body, in bytes; the shell stops reading past it.
    pub max_response_bytes: usize,
    /// Whole-request timeout the shell applies, in milliseconds.
    pub timeout_ms: u64,
    /// Redirects the shell may follow per request.
    pub max_redirects: u8,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        EgressPolicy {
            allowed_hosts: Vec::new(),
            allow_loopback_http: false,
            max_request_bytes: DEFAULT_MAX_BODY_BYTES,
            max_response_bytes: DEFAULT_MAX_BODY_BYTES,
            timeout_ms: 10_000,
            max_redirects: 3,
        }
    }
}

impl EgressPolicy {
    /// Checks every allowlist entry, so configuration mistakes surface when the policy is saved
    /// rather than as puzzling refusals later.
    pub fn validate(&self) -> Result<(), Refusal> {
        self.allowed_hosts
            .iter()
            .try_for_each(|e| AllowEntry::parse(e).map(|_| ()))
    }

    fn entries(&self) -> impl Iterator<Item = AllowEntry> + '_ {
        self.allowed_hosts
            .iter()
            .filter_map(|e| AllowEntry::parse(e).ok())
    }
}

/// Parses `url` and decides whether the agent may request it. On success the returned
/// [`Target`] is what the shell must request (use [`Target::url`]), not the original string.
pub fn check(policy: &EgressPolicy, url: &str) -> Result<Target, Refusal> {
    let target = Target::parse(url)?;
    check_target(policy, &target)?;
    Ok(target)
}

/// [`check`] for an already parsed target.
pub fn check_target(policy: &EgressPolicy, target: &Target) -> Result<(), Refusal> {
    let host = || target.host.to_string();
    let loopback = is_loopback_host(&target.host);
    let loopback_dev = policy.allow_loopback_http && loopback;

    if target.scheme == Scheme::Http && !loopback_dev {
        return Err(if loopback {
            Refusal::LoopbackHttpNotAllowed { host: host() }
        } else {
            Refusal::NotHttps {
                scheme: "http".into(),
                host: host(),
            }
        });
    }
    // Address class before the allowlist: a listed private IP is still refused, and naming the
    // class tells the agent more than "not allowed".
    if !loopback_dev {
        if let Some(refusal) = refusal_for_host(&target.host) {
            return Err(refusal);
        }
    }
    let mut host_listed = false;
    for entry in policy.entries().filter(|e| e.matches_host(&target.host)) {
        if entry.allows_port(target.scheme, target.port) {
            return Ok(());
        }
        host_listed = true;
    }
    Err(if host_listed {
        Refusal::PortNotAllowed {
            host: host(),
            port: target.port,
        }
    } else {
        Refusal::HostNotAllowed { host: host() }
    })
}

/// Refuses a request body longer than [`EgressPolicy::max_request_bytes`].
pub fn check_request_body(policy: &EgressPolicy, len: usize) -> Result<(), Refusal> {
    if len > policy.max_request_bytes {
        return Err(Refusal::RequestTooLarge {
            len,
            max: policy.max_request_bytes,
        });
    }
    Ok(())
}

/// Refuses a response once the bytes read so far exceed [`EgressPolicy::max_response_bytes`]. The
/// shell calls it as chunks arrive (and with `Content-Length` up front, when present), and stops
/// reading at the first refusal.
pub fn check_response_size(policy: &EgressPolicy, len_so_far: usize) -> Result<(), Refusal> {
    if len_so_far > policy.max_response_bytes {
        return Err(Refusal::ResponseTooLarge {
            len: len_so_far,
            max: policy.max_response_bytes,
        });
    }
    Ok(())
}
