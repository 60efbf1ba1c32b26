//! Following redirects by hand. The shell fetches with `redirect: "manual"` and, for each 3xx,
//! asks [`next_hop`] where to go: a redirect is a new request the agent did not write, so it gets
//! the full [`check`] again — a redirect to plain http, to a private address, to a metadata
//! endpoint or off the allowlist is refused exactly as if the agent had asked for it.

use crate::target::split_scheme;
use crate::{check, EgressPolicy, Refusal, Target};

/// How many redirects have been followed for one request. Start a fresh chain per request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedirectChain {
    hops: u8,
}

impl RedirectChain {
    /// A chain with no redirects followed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Redirects followed so far.
    pub fn hops(&self) -> u8 {
        self.hops
    }
}

/// Resolves the `Location` of a redirect from `current`, counts the hop and checks the new target.
/// Returns the target to request next, or why the chain stops here.
pub fn next_hop(
    policy: &EgressPolicy,
    chain: &mut RedirectChain,
    current: &Target,
    location: &str,
) -> Result<Target, Refusal> {
    if chain.hops >= policy.max_redirects {
        return Err(Refusal::TooManyRedirects {
            max: policy.max_redirects,
        });
    }
    chain.hops += 1;
    let url = resolve(current, location)?;
    check(policy, &url)
}

/// Resolves a `Location` value (RFC 3986 §5.2) against the current target, returning an absolute
/// URL for [`check`] to parse. Anything odd is passed through for `check` to refuse.
fn resolve(current: &Target, location: &str) -> Result<String, Refusal> {
    // Header values may carry optional whitespace at the ends; inside, the parser refuses it.
    let location = location.trim_matches([' ', '\t']);
    if location.is_empty() {
        return Err(Refusal::bad("empty Location header"));
    }
    if split_scheme(location).is_some() {
        return Ok(location.to_owned());
    }
    if location.starts_with("//") {
        // Scheme-relative: a new host, same scheme. The host gets the full check.
        return Ok(format!("{}:{}", current.scheme.as_str(), location));
    }
    let reference = location.split('#').next().unwrap_or("");
    if reference.is_empty() {
        // Fragment only: the same resource.
        return Ok(current.url());
    }
    let (current_path, _) = split_query(&current.path_and_query);
    let path_and_query = if reference.starts_with('?') {
        format!("{current_path}{reference}")
    } else {
        let (ref_path, query) = split_query(reference);
        let merged = if ref_path.starts_with('/') {
            ref_path.to_owned()
        } else {
            let dir_end = current_path.rfind('/').map_or(0, |i| i + 1);
            format!(
                "/{}{}",
                current_path[..dir_end].trim_start_matches('/'),
                ref_path
            )
        };
        format!("{}{}", remove_dot_segments(&merged), query)
    };
    Ok(format!("{}{}", current.origin(), path_and_query))
}

/// Splits `path?query` into `path` and `?query` (empty if there is none).
fn split_query(s: &str) -> (&str, &str) {
    match s.find('?') {
        Some(at) => s.split_at(at),
        None => (s, ""),
    }
}

/// RFC 3986 §5.2.4 for an absolute path: drops `.` segments and lets `..` remove its parent,
/// never climbing above the root.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." | ".." => {
                if *segment == ".." {
                    out.pop();
                }
                // A trailing dot segment still names a directory: keep the final `/`.
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments() {
        assert_eq!(remove_dot_segments("/a/b/../c"), "/a/c");
        assert_eq!(remove_dot_segments("/a/b/.."), "/a/");
        assert_eq!(remove_dot_segments("/../../x"), "/x");
        assert_eq!(remove_dot_segments("/a/./b/."), "/a/b/");
        assert_eq!(remove_dot_segments("/"), "/");
        assert_eq!(remove_dot_segments("/a//b"), "/a//b");
    }

    #[test]
    fn resolution() {
        let cur = Target::parse("https://a.example.com:8443/v1/items/list?page=2").unwrap();
        let r = |l: &str| resolve(&cur, l).unwrap();
        assert_eq!(r("next"), "https://a.example.com:8443/v1/items/next");
        assert_eq!(r("../x?y=1#f"), "https://a.example.com:8443/v1/x?y=1");
        assert_eq!(r("/root"), "https://a.example.com:8443/root");
        assert_eq!(
            r("?page=3"),
            "https://a.example.com:8443/v1/items/list?page=3"
        );
        assert_eq!(r("#top"), "https://a.example.com:8443/v1/items/list?page=2");
        assert_eq!(r("//b.example.com/z"), "https://b.example.com/z");
        assert_eq!(r(" http://c.example.com/ "), "http://c.example.com/");
    }
}
