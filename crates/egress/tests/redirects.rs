//! Redirects are followed by hand, and every hop is checked as if the agent had asked for it.

use egress::{check, next_hop, EgressPolicy, RedirectChain, Refusal, Target};

fn policy() -> EgressPolicy {
    EgressPolicy {
        allowed_hosts: vec![
            "api.example.com".into(),
            "*.example.org".into(),
            "localhost:8787".into(),
        ],
        ..EgressPolicy::default()
    }
}

fn hop(policy: &EgressPolicy, from: &str, location: &str) -> Result<String, &'static str> {
    let current = check(policy, from).expect("start is allowed");
    next_hop(policy, &mut RedirectChain::new(), &current, location)
        .map(|t| t.url())
        .map_err(|r| r.code())
}

const START: &str = "https://api.example.com/v1/items/list?page=2";

#[test]
fn relative_locations_stay_on_the_host() {
    let p = policy();
    assert_eq!(
        hop(&p, START, "next"),
        Ok("https://api.example.com/v1/items/next".into())
    );
    assert_eq!(
        hop(&p, START, "./next?x=1"),
        Ok("https://api.example.com/v1/items/next?x=1".into())
    );
    assert_eq!(
        hop(&p, START, "../../../up"),
        Ok("https://api.example.com/up".into())
    );
    assert_eq!(
        hop(&p, START, "/v2/items"),
        Ok("https://api.example.com/v2/items".into())
    );
    assert_eq!(
        hop(&p, START, "?page=3"),
        Ok("https://api.example.com/v1/items/list?page=3".into())
    );
    assert_eq!(
        hop(&p, START, "#section"),
        Ok("https://api.example.com/v1/items/list?page=2".into())
    );
    // Looks like a host, but without a scheme or `//` it is a relative path.
    assert_eq!(
        hop(&p, START, "evil.com/x"),
        Ok("https://api.example.com/v1/items/evil.com/x".into())
    );
}

#[test]
fn absolute_and_scheme_relative_locations_are_rechecked() {
    let p = policy();
    assert_eq!(
        hop(&p, START, "https://cdn.example.org/file"),
        Ok("https://cdn.example.org/file".into())
    );
    assert_eq!(
        hop(&p, START, "//cdn.example.org/file"),
        Ok("https://cdn.example.org/file".into())
    );
    assert_eq!(hop(&p, START, "//evil.com/x"), Err("host_not_allowed"));
    assert_eq!(hop(&p, START, "https://evil.com/"), Err("host_not_allowed"));
    assert_eq!(
        hop(&p, START, "https://example.org/"),
        Err("host_not_allowed")
    );
    assert_eq!(
        hop(&p, START, "//api.example.com:8443/"),
        Err("port_not_allowed")
    );
    assert_eq!(hop(&p, START, "//user@api.example.com/"), Err("user_info"));
}

#[test]
fn downgrade_private_and_metadata_redirects_are_refused() {
    let p = policy();
    assert_eq!(
        hop(&p, START, "http://api.example.com/v1"),
        Err("not_https")
    );
    assert_eq!(
        hop(&p, START, "http://169.254.169.254/latest/meta-data/"),
        Err("not_https")
    );
    assert_eq!(
        hop(&p, START, "https://169.254.169.254/latest/meta-data/"),
        Err("metadata")
    );
    assert_eq!(hop(&p, START, "//169.254.169.254/"), Err("metadata"));
    assert_eq!(hop(&p, START, "//0xa9fea9fe/"), Err("metadata"));
    assert_eq!(
        hop(&p, START, "//metadata.google.internal/computeMetadata/v1/"),
        Err("metadata")
    );
    assert_eq!(hop(&p, START, "https://[fd00:ec2::254]/"), Err("metadata"));
    assert_eq!(
        hop(&p, START, "https://[::ffff:169.254.169.254]/"),
        Err("ipv4_mapped")
    );
    assert_eq!(hop(&p, START, "https://10.1.2.3/"), Err("private_address"));
    assert_eq!(hop(&p, START, "//localhost:8787/"), Err("internal_name"));
    assert_eq!(
        hop(&p, START, "http://localhost:8787/"),
        Err("loopback_http_not_allowed")
    );
}

#[test]
fn malformed_locations_are_refused() {
    let p = policy();
    assert_eq!(hop(&p, START, ""), Err("bad_url"));
    assert_eq!(hop(&p, START, "   "), Err("bad_url"));
    assert_eq!(hop(&p, START, "/a b"), Err("bad_url"));
    assert_eq!(hop(&p, START, "\\\\evil.com/"), Err("bad_url"));
    assert_eq!(hop(&p, START, "javascript:alert(1)"), Err("bad_url"));
    assert_eq!(hop(&p, START, "file:///etc/passwd"), Err("bad_url"));
    assert_eq!(hop(&p, START, "ftp://api.example.com/"), Err("not_https"));
}

#[test]
fn hop_limit() {
    let p = policy();
    let mut chain = RedirectChain::new();
    let mut current = check(&p, START).unwrap();
    for i in 1..=p.max_redirects {
        current = next_hop(&p, &mut chain, &current, &format!("/hop/{i}")).unwrap();
        assert_eq!(chain.hops(), i);
    }
    assert_eq!(current.url(), "https://api.example.com/hop/3");
    let err = next_hop(&p, &mut chain, &current, "/hop/4").unwrap_err();
    assert_eq!(err, Refusal::TooManyRedirects { max: 3 });
    assert_eq!(err.code(), "too_many_redirects");

    let none = EgressPolicy {
        max_redirects: 0,
        ..policy()
    };
    let err = next_hop(&none, &mut RedirectChain::new(), &current, "/x").unwrap_err();
    assert_eq!(err.code(), "too_many_redirects");
}

#[test]
fn loopback_dev_redirects() {
    let dev = EgressPolicy {
        allow_loopback_http: true,
        ..policy()
    };
    let start = "http://localhost:8787/a/b";
    assert_eq!(
        hop(&dev, start, "c"),
        Ok("http://localhost:8787/a/c".into())
    );
    assert_eq!(
        hop(&dev, start, "//localhost:9999/"),
        Err("port_not_allowed")
    );
    assert_eq!(
        hop(&dev, start, "http://api.example.com/"),
        Err("not_https")
    );
    assert_eq!(
        hop(&dev, start, "https://api.example.com/"),
        Ok("https://api.example.com/".into())
    );
    assert_eq!(hop(&dev, start, "http://10.0.0.1/"), Err("not_https"));
}

#[test]
fn hops_resolve_against_the_current_target_not_the_start() {
    let p = policy();
    let mut chain = RedirectChain::new();
    let first = check(&p, START).unwrap();
    let second = next_hop(&p, &mut chain, &first, "https://cdn.example.org/x/y").unwrap();
    let third: Target = next_hop(&p, &mut chain, &second, "z").unwrap();
    assert_eq!(third.url(), "https://cdn.example.org/x/z");
}
