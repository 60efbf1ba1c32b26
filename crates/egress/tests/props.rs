//! Properties: `check` never panics, and whatever it allows really is on the allowlist (checked here
//! by an independent matcher, not the crate's own).

use std::net::{Ipv4Addr, Ipv6Addr};

use egress::{check, refusal_for_ip, EgressPolicy, Host, Scheme, Target};
use proptest::prelude::*;

fn policy(dev: bool) -> EgressPolicy {
    EgressPolicy {
        allowed_hosts: [
            "api.example.com",
            "*.example.org",
            "api.example.net:8443",
            "8.8.8.8",
            "[2606:4700:4700::1111]",
            "127.0.0.1",
            "localhost:8787",
        ]
        .map(String::from)
        .to_vec(),
        allow_loopback_http: dev,
        ..EgressPolicy::default()
    }
}

/// The allowlist above, spelled out by hand.
fn independently_allowed(t: &Target, dev: bool) -> bool {
    let https = t.scheme == Scheme::Https;
    match &t.host {
        Host::Name(n) => {
            (n == "api.example.com" && https && t.port == 443)
                || (n.ends_with(".example.org")
                    && n.len() > ".example.org".len()
                    && https
                    && t.port == 443)
                || (n == "api.example.net" && https && t.port == 8443)
                || (dev && n == "localhost" && t.port == 8787)
        }
        Host::Ipv4(b) => {
            (*b == [8, 8, 8, 8] && https && t.port == 443)
                || (dev && *b == [127, 0, 0, 1] && t.port == t.scheme.default_port())
        }
        Host::Ipv6(g) => {
            *g == "2606:4700:4700::1111"
                .parse::<Ipv6Addr>()
                .unwrap()
                .segments()
                && https
                && t.port == 443
        }
    }
}

fn host_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("api.example.com".to_owned()),
        1 => Just("API.Example.Com.".to_owned()),
        1 => Just("example.org".to_owned()),
        1 => Just("api.example.net".to_owned()),
        1 => Just("localhost".to_owned()),
        1 => Just("8.8.8.8".to_owned()),
        1 => Just("0x7f.1".to_owned()),
        1 => Just("[::1]".to_owned()),
        1 => Just("[2606:4700:4700::1111]".to_owned()),
        6 => "[a-z0-9]{1,8}\\.example\\.org",
        1 => "[a-zA-Z0-9._%-]{0,24}",
        1 => any::<u32>().prop_map(|n| n.to_string()),
        1 => any::<u32>().prop_map(|n| format!("0x{n:x}")),
        1 => any::<[u8; 4]>().prop_map(|b| format!("0{:o}.{}.0x{:x}.{}", b[0], b[1], b[2], b[3])),
        1 => any::<[u16; 8]>().prop_map(|g| format!("[{}]", Ipv6Addr::from(g))),
        1 => any::<[u8; 4]>().prop_map(|b| format!("[::ffff:{}]", Ipv4Addr::from(b))),
        1 => "\\[[0-9a-fA-F:.%]{0,30}\\]",
    ]
}

fn url_strategy() -> impl Strategy<Value = String> {
    (
        prop_oneof![4 => Just("https"), 2 => Just("http"), 1 => Just("HTTPS"), 1 => Just("ftp"), 1 => Just("")],
        prop_oneof![6 => Just("://"), 1 => Just(":"), 1 => Just(":///"), 1 => Just("//")],
        prop::option::weighted(0.2, "[a-z:]{0,6}@"),
        host_strategy(),
        prop::option::weighted(0.5, prop_oneof![Just(443u32), Just(8443), Just(8787), Just(80), any::<u32>()]),
        prop_oneof![3 => "(/[a-z0-9.]{0,6}){0,3}(\\?[a-z=&]{0,8})?", 1 => "[/?#a-z0-9.@%\\\\]{0,16}"],
    )
        .prop_map(|(scheme, sep, user, host, port, path)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}{sep}{}{host}{port}{path}", user.unwrap_or_default())
        })
}

fn assert_sound(url: &str, dev: bool) {
    if let Ok(target) = check(&policy(dev), url) {
        assert!(
            independently_allowed(&target, dev),
            "{url:?} was allowed as {target:?}"
        );
        // What the shell requests must parse back to the same target and pass again.
        assert_eq!(
            check(&policy(dev), &target.url()).as_ref(),
            Ok(&target),
            "{url:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_strings(s in any::<String>(), dev in any::<bool>()) {
        assert_sound(&s, dev);
    }

    #[test]
    fn never_panics_on_url_like_strings(s in "[a-zA-Z0-9:/?#@\\[\\]%.\\\\ -]{0,40}", dev in any::<bool>()) {
        assert_sound(&s, dev);
    }

    #[test]
    fn allowed_targets_match_the_allowlist(url in url_strategy(), dev in any::<bool>()) {
        assert_sound(&url, dev);
    }

    #[test]
    fn every_ipv4_spelling_is_the_same_host(b in any::<[u8; 4]>()) {
        let n = u32::from_be_bytes(b);
        let spellings = [
            format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]),
            n.to_string(),
            format!("0x{n:x}"),
            format!("0{n:o}"),
            format!("0x{:x}.0{:o}.{}.{}", b[0], b[1], b[2], b[3]),
            format!("{}.{}", b[0], n & 0x00ff_ffff),
            format!("{}.{}.{}", b[0], b[1], n & 0xffff),
        ];
        for s in spellings {
            let t = Target::parse(&format!("https://{s}/")).unwrap();
            prop_assert_eq!(t.host, Host::Ipv4(b), "{}", s);
        }
    }

    #[test]
    fn ipv6_text_forms_round_trip(g in any::<[u16; 8]>()) {
        let addr = Ipv6Addr::from(g);
        let full = g.iter().map(|x| format!("{x:X}")).collect::<Vec<_>>().join(":");
        for s in [addr.to_string(), full] {
            let t = Target::parse(&format!("https://[{s}]:8443/")).unwrap();
            prop_assert_eq!(&t.host, &Host::Ipv6(g), "{}", s);
            prop_assert_eq!(t.port, 8443);
        }
    }

    #[test]
    fn mapped_ipv4_is_judged_like_ipv4(b in any::<[u8; 4]>()) {
        let v4 = refusal_for_ip(Ipv4Addr::from(b).into());
        let mapped = refusal_for_ip(Ipv4Addr::from(b).to_ipv6_mapped().into());
        prop_assert_eq!(v4.is_some(), mapped.is_some());
        if let Some(r) = mapped {
            prop_assert_eq!(r.code(), "ipv4_mapped");
        }
    }
}

/// Guards against a vacuous property: the URL generator must actually produce allowed targets.
#[test]
fn url_strategy_reaches_allowed_targets() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = url_strategy();
    let allowed = (0..5000)
        .filter(|_| {
            check(
                &policy(true),
                &strategy.new_tree(&mut runner).unwrap().current(),
            )
            .is_ok()
        })
        .count();
    assert!(
        allowed > 20,
        "only {allowed} of 5000 generated URLs were allowed"
    );
}
