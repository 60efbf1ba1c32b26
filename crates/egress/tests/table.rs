//! The full table: every URL form the guard must allow or refuse, with the reason.

use egress::{check, EgressPolicy};

/// The same allowlist for both modes. Several non-public hosts are listed on purpose: listing must
/// not open a hole (outside the loopback-dev exception).
fn policy(allow_loopback_http: bool) -> EgressPolicy {
    EgressPolicy {
        allowed_hosts: [
            "api.example.com",
            "*.example.org",
            "api.example.net:8443",
            "8.8.8.8",
            "[2606:4700:4700::1111]",
            "10.0.0.1",
            "127.0.0.1",
            "[::1]:8787",
            "localhost",
            "localhost:8787",
            "169.254.169.254",
            "printer.local",
        ]
        .map(String::from)
        .to_vec(),
        allow_loopback_http,
        ..EgressPolicy::default()
    }
}

/// Production mode (no loopback exception).
const P: bool = false;
/// Local-development mode (`allow_loopback_http`).
const D: bool = true;

/// `Ok(url)`: allowed, and the shell will request `url`. `Err(code)`: refused with that code.
type Expect = Result<&'static str, &'static str>;

const TABLE: &[(bool, &str, Expect)] = &[
    // --- allowed, and how they normalise
    (
        P,
        "https://api.example.com/v1?q=1",
        Ok("https://api.example.com/v1?q=1"),
    ),
    (
        P,
        "HTTPS://API.EXAMPLE.COM/Path",
        Ok("https://api.example.com/Path"),
    ),
    (
        P,
        "https://api.example.com./x",
        Ok("https://api.example.com/x"),
    ),
    (
        P,
        "https://api.example.com:443/",
        Ok("https://api.example.com/"),
    ),
    (
        P,
        "https://api.example.com:0443/",
        Ok("https://api.example.com/"),
    ),
    (P, "https://api.example.com", Ok("https://api.example.com/")),
    (
        P,
        "https://api.example.com/x#frag",
        Ok("https://api.example.com/x"),
    ),
    (P, "https://a.example.org/", Ok("https://a.example.org/")),
    (
        P,
        "https://a.b.example.org/",
        Ok("https://a.b.example.org/"),
    ),
    (
        P,
        "https://api.example.net:8443/",
        Ok("https://api.example.net:8443/"),
    ),
    (P, "https://8.8.8.8/", Ok("https://8.8.8.8/")),
    (P, "https://134744072/", Ok("https://8.8.8.8/")),
    (P, "https://0x08080808/", Ok("https://8.8.8.8/")),
    (
        P,
        "https://[2606:4700:4700::1111]/",
        Ok("https://[2606:4700:4700::1111]/"),
    ),
    (
        P,
        "https://[2606:4700:4700:0:0:0:0:1111]/",
        Ok("https://[2606:4700:4700::1111]/"),
    ),
    // --- allowlist: wildcard vs apex, lookalikes, unlisted
    (P, "https://example.org/", Err("host_not_allowed")),
    (P, "https://badexample.org/", Err("host_not_allowed")),
    (P, "https://example.org.evil.com/", Err("host_not_allowed")),
    (
        P,
        "https://api.example.com.evil.com/",
        Err("host_not_allowed"),
    ),
    (P, "https://example.com/", Err("host_not_allowed")),
    (P, "https://1.1.1.1/", Err("host_not_allowed")),
    (P, "https://[::ffff:8.8.8.8]/", Err("host_not_allowed")),
    (P, "https://[64:ff9b::8.8.8.8]/", Err("host_not_allowed")),
    (P, "https://[2002:808:808::1]/", Err("host_not_allowed")),
    // --- ports
    (P, "https://api.example.net/", Err("port_not_allowed")),
    (P, "https://api.example.net:443/", Err("port_not_allowed")),
    (P, "https://api.example.com:8443/", Err("port_not_allowed")),
    (P, "https://a.example.org:444/", Err("port_not_allowed")),
    (P, "https://api.example.com:99999/", Err("bad_url")),
    (P, "https://api.example.com:0/", Err("bad_url")),
    (P, "https://api.example.com:/", Err("bad_url")),
    (P, "https://api.example.com:44a/", Err("bad_url")),
    // --- scheme
    (P, "http://api.example.com/", Err("not_https")),
    (P, "ftp://api.example.com/", Err("not_https")),
    (P, "file:///etc/passwd", Err("bad_url")),
    (P, "gopher://api.example.com/", Err("not_https")),
    (P, "https:api.example.com", Err("bad_url")),
    (P, "https:/api.example.com", Err("bad_url")),
    // --- userinfo and authority confusion
    (P, "https://user@api.example.com/", Err("user_info")),
    (P, "https://user:pw@api.example.com/", Err("user_info")),
    (P, "https://api.example.com@evil.com/", Err("user_info")),
    (
        P,
        "https://evil.com#@api.example.com/",
        Err("host_not_allowed"),
    ),
    (
        P,
        "https://evil.com?@api.example.com/",
        Err("host_not_allowed"),
    ),
    (P, "https://evil.com\\@api.example.com/", Err("bad_url")),
    (P, "https://api.example.com\\.evil.com/", Err("bad_url")),
    // --- malformed
    (P, "", Err("bad_url")),
    (P, "api.example.com/x", Err("bad_url")),
    (P, "https://", Err("bad_url")),
    (P, "https:///x", Err("bad_url")),
    (P, "https://api.example.com /x", Err("bad_url")),
    (P, " https://api.example.com/", Err("bad_url")),
    (P, "https://api.example.com/\n", Err("bad_url")),
    (P, "https://api..example.com/", Err("bad_url")),
    (P, "https://api.exa mple.com/", Err("bad_url")),
    (P, "https://b\u{fc}cher.example.org/", Err("non_ascii_host")),
    (
        P,
        "https://127\u{3002}0\u{3002}0\u{3002}1/",
        Err("non_ascii_host"),
    ),
    (P, "https://%31%32%37.0.0.1/", Err("bad_url")),
    (P, "https://1.2.3.4.5/", Err("bad_url")),
    (P, "https://256.0.0.1/", Err("bad_url")),
    (P, "https://example.0x10/", Err("bad_url")),
    (P, "https://08.0.0.1/", Err("bad_url")),
    (P, "https://::1/", Err("bad_url")),
    (P, "https://[::1/", Err("bad_url")),
    (P, "https://[fe80::1%25eth0]/", Err("bad_url")),
    (P, "https://[fe80::1%eth0]/", Err("bad_url")),
    (P, "https://[1::2::3]/", Err("bad_url")),
    (P, "https://[example.com]/", Err("bad_url")),
    // --- loopback, every spelling (127.0.0.1 is listed: still refused in production)
    (P, "https://127.0.0.1/", Err("loopback_address")),
    (P, "https://2130706433/", Err("loopback_address")),
    (P, "https://0x7f000001/", Err("loopback_address")),
    (P, "https://0x7F.0.0.1/", Err("loopback_address")),
    (P, "https://0177.0.0.1/", Err("loopback_address")),
    (P, "https://017700000001/", Err("loopback_address")),
    (P, "https://127.1/", Err("loopback_address")),
    (P, "https://127.0.1/", Err("loopback_address")),
    (P, "https://127.0.0.1./", Err("loopback_address")),
    (P, "https://127.255.255.254/", Err("loopback_address")),
    (P, "https://[::1]/", Err("loopback_address")),
    (P, "https://[0:0:0:0:0:0:0:1]/", Err("loopback_address")),
    (P, "https://[::1]:8787/", Err("loopback_address")),
    (P, "http://127.0.0.1/", Err("loopback_http_not_allowed")),
    (P, "http://[::1]:8787/", Err("loopback_http_not_allowed")),
    (
        P,
        "http://localhost:8787/",
        Err("loopback_http_not_allowed"),
    ),
    (P, "https://localhost/", Err("internal_name")),
    (P, "https://LOCALHOST./", Err("internal_name")),
    (P, "https://api.localhost/", Err("internal_name")),
    // --- IPv6 forms carrying IPv4
    (P, "https://[::ffff:127.0.0.1]/", Err("ipv4_mapped")),
    (P, "https://[::ffff:7f00:1]/", Err("ipv4_mapped")),
    (P, "https://[::FFFF:10.0.0.1]/", Err("ipv4_mapped")),
    (
        P,
        "https://[0:0:0:0:0:ffff:169.254.169.254]/",
        Err("ipv4_mapped"),
    ),
    (P, "https://[::127.0.0.1]/", Err("ipv4_compatible")),
    (P, "https://[::8.8.8.8]/", Err("ipv4_compatible")),
    (P, "https://[64:ff9b::10.0.0.1]/", Err("nat64")),
    (P, "https://[64:ff9b::a9fe:a9fe]/", Err("nat64")),
    (P, "https://[2002:7f00:1::]/", Err("six_to_four")),
    (P, "https://[2002:c0a8:101::1]/", Err("six_to_four")),
    (
        P,
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        Err("teredo"),
    ),
    // --- private, unspecified, link-local, CGNAT, unique-local
    (P, "https://10.0.0.1/", Err("private_address")),
    (P, "https://10.255.255.255/", Err("private_address")),
    (P, "https://172.16.5.4/", Err("private_address")),
    (P, "https://172.31.0.1/", Err("private_address")),
    (P, "https://192.168.1.1/", Err("private_address")),
    (P, "https://3232235777/", Err("private_address")),
    (P, "https://0xc0.0xa8.1.1/", Err("private_address")),
    (P, "https://0.0.0.0/", Err("unspecified")),
    (P, "https://0/", Err("unspecified")),
    (P, "https://0.1.2.3/", Err("unspecified")),
    (P, "https://[::]/", Err("unspecified")),
    (P, "https://169.254.1.1/", Err("link_local")),
    (P, "https://[fe80::1]/", Err("link_local")),
    (P, "https://[FE80::1]/", Err("link_local")),
    (P, "https://100.64.0.1/", Err("cgnat")),
    (P, "https://100.127.255.254/", Err("cgnat")),
    (P, "https://[fc00::1]/", Err("unique_local")),
    (P, "https://[fd12:3456::1]/", Err("unique_local")),
    // --- metadata endpoints (169.254.169.254 is listed: still refused)
    (
        P,
        "https://169.254.169.254/latest/meta-data/",
        Err("metadata"),
    ),
    (P, "https://2852039166/", Err("metadata")),
    (P, "https://0xa9.0xfe.0xa9.0xfe/", Err("metadata")),
    (P, "https://100.100.100.200/", Err("metadata")),
    (P, "https://168.63.129.16/", Err("metadata")),
    (P, "https://[fd00:ec2::254]/", Err("metadata")),
    (P, "https://metadata.google.internal/", Err("metadata")),
    (P, "https://METADATA.google.internal./", Err("metadata")),
    // --- multicast, reserved, benchmarking, documentation, IETF
    (P, "https://224.0.0.1/", Err("multicast")),
    (P, "https://239.255.255.250/", Err("multicast")),
    (P, "https://[ff02::1]/", Err("multicast")),
    (P, "https://240.0.0.1/", Err("reserved")),
    (P, "https://255.255.255.255/", Err("reserved")),
    (P, "https://4294967295/", Err("reserved")),
    (P, "https://192.0.0.8/", Err("reserved")),
    (P, "https://[100::1]/", Err("reserved")),
    (P, "https://[fec0::1]/", Err("reserved")),
    (P, "https://198.18.0.1/", Err("benchmarking")),
    (P, "https://198.19.255.255/", Err("benchmarking")),
    (P, "https://[2001:2::1]/", Err("benchmarking")),
    (P, "https://192.0.2.1/", Err("documentation")),
    (P, "https://198.51.100.7/", Err("documentation")),
    (P, "https://203.0.113.9/", Err("documentation")),
    (P, "https://[2001:db8::1]/", Err("documentation")),
    (P, "https://[3fff::1]/", Err("documentation")),
    // --- internal names (printer.local is listed: still refused)
    (P, "https://printer.local/", Err("internal_name")),
    (P, "https://foo.internal/", Err("internal_name")),
    (P, "https://nas.home.arpa/", Err("internal_name")),
    (P, "https://intranet/", Err("internal_name")),
    (P, "https://db.corp/", Err("internal_name")),
    // --- the loopback-dev exception: http and loopback allowed for listed loopback endpoints only
    (D, "http://localhost/", Ok("http://localhost/")),
    (
        D,
        "http://localhost:8787/api",
        Ok("http://localhost:8787/api"),
    ),
    (D, "https://localhost/", Ok("https://localhost/")),
    (D, "http://127.0.0.1/", Ok("http://127.0.0.1/")),
    (D, "http://2130706433/", Ok("http://127.0.0.1/")),
    (D, "http://[::1]:8787/", Ok("http://[::1]:8787/")),
    (D, "http://localhost:9999/", Err("port_not_allowed")),
    (D, "http://[::1]/", Err("port_not_allowed")),
    (D, "http://127.0.0.2/", Err("host_not_allowed")),
    (D, "http://api.localhost/", Err("not_https")),
    (D, "http://[::ffff:127.0.0.1]/", Err("not_https")),
    (D, "https://[::ffff:127.0.0.1]/", Err("ipv4_mapped")),
    (D, "http://10.0.0.1/", Err("not_https")),
    (D, "https://10.0.0.1/", Err("private_address")),
    (D, "http://api.example.com/", Err("not_https")),
    (
        D,
        "https://api.example.com/",
        Ok("https://api.example.com/"),
    ),
    (D, "https://169.254.169.254/", Err("metadata")),
    (D, "https://printer.local/", Err("internal_name")),
    (D, "http://user@localhost/", Err("user_info")),
];

#[test]
fn full_table() {
    assert!(TABLE.len() >= 60, "the table must stay comprehensive");
    let policies = [policy(false), policy(true)];
    let mut failures = Vec::new();
    for &(dev, url, expect) in TABLE {
        let got = check(&policies[dev as usize], url);
        let ok = match (&got, expect) {
            (Ok(t), Ok(want)) => t.url() == want,
            (Err(r), Err(code)) => r.code() == code,
            _ => false,
        };
        if !ok {
            let got = got
                .as_ref()
                .map(|t| t.url())
                .map_err(|r| format!("{} ({r})", r.code()));
            failures.push(format!(
                "{} {url:?}: expected {expect:?}, got {got:?}",
                if dev { "dev " } else { "prod" }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn refusal_messages_name_the_host() {
    let p = policy(false);
    for (url, host) in [
        ("https://evil.com/", "evil.com"),
        ("https://10.0.0.1/", "10.0.0.1"),
        ("https://2130706433/", "127.0.0.1"),
        ("https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
        ("https://printer.local/", "printer.local"),
        ("http://api.example.com/", "api.example.com"),
        ("https://api.example.net/", "api.example.net"),
    ] {
        let message = check(&p, url).unwrap_err().to_string();
        assert!(
            message.contains(host),
            "{url}: {message:?} should name {host}"
        );
    }
}

#[test]
fn validate_reports_bad_entries() {
    assert_eq!(policy(false).validate(), Ok(()));
    let bad = EgressPolicy {
        allowed_hosts: vec!["api.example.com".into(), "https://x.com/".into()],
        ..EgressPolicy::default()
    };
    assert_eq!(bad.validate().unwrap_err().code(), "bad_allow_entry");
    // A bad entry never matches, and does not stop the good ones from working.
    assert!(check(&bad, "https://api.example.com/").is_ok());
    assert_eq!(
        check(&bad, "https://x.com/").unwrap_err().code(),
        "host_not_allowed"
    );
}

#[test]
fn empty_allowlist_allows_nothing() {
    let p = EgressPolicy::default();
    assert_eq!(
        check(&p, "https://api.example.com/").unwrap_err().code(),
        "host_not_allowed"
    );
}

#[test]
fn policy_defaults_and_partial_json() {
    let p: EgressPolicy =
        serde_json::from_str(r#"{"allowed_hosts": ["api.example.com"]}"#).unwrap();
    assert_eq!(p.max_request_bytes, 1024 * 1024);
    assert_eq!(p.max_response_bytes, 1024 * 1024);
    assert_eq!(p.timeout_ms, 10_000);
    assert_eq!(p.max_redirects, 3);
    assert!(!p.allow_loopback_http);
}
