//! Client IP resolution: the spoofing cases.

use std::net::IpAddr;

use keyward_limit::{ClientIpResolver, ForwardedHeader, parse_network};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Trusts 10.0.0.0/8 and 2001:db8:ffff::/48, reading X-Forwarded-For.
fn behind_proxies() -> ClientIpResolver {
    ClientIpResolver::trust_forwarded_headers_from([
        parse_network("10.0.0.0/8").unwrap(),
        parse_network("2001:db8:ffff::/48").unwrap(),
    ])
}

const PROXY: &str = "10.0.0.1";

#[test]
fn default_is_the_peer_whatever_the_headers_say() {
    let r = ClientIpResolver::peer_only();
    for xff in ["203.0.113.1", "10.0.0.1", "garbage", ""] {
        assert_eq!(r.resolve(ip("192.0.2.1"), [xff]), ip("192.0.2.1"));
    }
    assert_eq!(ClientIpResolver::default(), r);
}

#[test]
fn client_supplied_xff_from_an_untrusted_peer_is_ignored() {
    let r = behind_proxies();
    // A client talking to us directly claims to be someone else, or a proxy.
    for xff in ["203.0.113.1", "10.0.0.9", "198.51.100.1, 10.0.0.9"] {
        assert_eq!(r.resolve(ip("192.0.2.1"), [xff]), ip("192.0.2.1"), "{xff}");
    }
    // Several lines from an untrusted peer: still ignored.
    assert_eq!(
        r.resolve(ip("192.0.2.1"), ["203.0.113.1", "10.0.0.2"]),
        ip("192.0.2.1")
    );
}

#[test]
fn the_rightmost_untrusted_hop_wins_over_spoofed_leftmost_entries() {
    let r = behind_proxies();
    let cases = [
        // (header lines, expected client)
        (vec!["203.0.113.7"], "203.0.113.7"),
        (vec!["1.1.1.1, 203.0.113.7"], "203.0.113.7"),
        (vec!["10.0.0.77, 203.0.113.7"], "203.0.113.7"),
        (
            vec!["1.1.1.1, 2.2.2.2, 203.0.113.7, 10.0.0.3"],
            "203.0.113.7",
        ),
        (vec!["203.0.113.7, 10.0.0.3, 10.0.0.2"], "203.0.113.7"),
        // The client wrote garbage and a fake proxy hop before its real address.
        (vec!["garbage, 10.1.1.1, 203.0.113.7"], "203.0.113.7"),
        (vec!["\"unknown\", for=, 203.0.113.7"], "203.0.113.7"),
        // Multiple header lines are one list, in order.
        (vec!["1.1.1.1", "203.0.113.7, 10.0.0.3"], "203.0.113.7"),
        (vec!["1.1.1.1, 203.0.113.7", "10.0.0.3"], "203.0.113.7"),
        (vec!["9.9.9.9", "1.1.1.1", "203.0.113.7"], "203.0.113.7"),
        // Ports and IPv6.
        (vec!["203.0.113.7:51234"], "203.0.113.7"),
        (vec!["[2001:db8::42]:443, 10.0.0.3"], "2001:db8::42"),
        (vec!["2001:db8::42"], "2001:db8::42"),
        (vec!["2001:db8::42, 2001:db8:ffff::1"], "2001:db8::42"),
        (vec!["::ffff:203.0.113.7"], "203.0.113.7"),
        // Whitespace is tolerated.
        (vec!["  203.0.113.7  ,10.0.0.3 "], "203.0.113.7"),
    ];
    for (lines, want) in cases {
        assert_eq!(
            r.resolve(ip(PROXY), lines.iter().copied()),
            ip(want),
            "{lines:?}"
        );
    }
}

#[test]
fn all_hops_trusted_gives_the_leftmost() {
    let r = behind_proxies();
    assert_eq!(r.resolve(ip(PROXY), ["10.0.0.9, 10.0.0.8"]), ip("10.0.0.9"));
    assert_eq!(
        r.resolve(ip(PROXY), ["10.0.0.9", "10.0.0.8"]),
        ip("10.0.0.9")
    );
    assert_eq!(
        r.resolve(ip("2001:db8:ffff::5"), ["2001:db8:ffff::6"]),
        ip("2001:db8:ffff::6")
    );
}

#[test]
fn no_header_from_a_trusted_peer_is_the_peer() {
    let r = behind_proxies();
    assert_eq!(r.resolve(ip(PROXY), []), ip(PROXY));
    assert_eq!(r.resolve(ip(PROXY), [""]), ip(PROXY));
}

#[test]
fn unreadable_hops_stop_the_walk_at_the_peer() {
    let r = behind_proxies();
    for xff in [
        "garbage",
        "unknown",
        "_hidden",
        "203.0.113.7, garbage",
        "203.0.113.7, unknown",
        "203.0.113.7,",
        "203.0.113.7,,10.0.0.3",
        "203.0.113.7, 10.0.0.3, not an ip",
        "203.0.113.7 10.0.0.3",
        "203.0.113.7;10.0.0.3",
        "example.com",
        "300.1.1.1",
        "[2001:db8::1",
        "fe80::1%eth0",
        "\u{0}\u{ffff}",
        "for=203.0.113.7",
    ] {
        assert_eq!(r.resolve(ip(PROXY), [xff]), ip(PROXY), "{xff:?}");
    }
    let huge = "1.1.1.1,".repeat(100_000) + "garbage";
    assert_eq!(r.resolve(ip(PROXY), [huge.as_str()]), ip(PROXY));
}

#[test]
fn rfc7239_forwarded() {
    let r = behind_proxies().with_header(ForwardedHeader::Forwarded);
    assert_eq!(r.header(), Some(ForwardedHeader::Forwarded));
    assert_eq!(r.header().unwrap().name(), "forwarded");
    let cases: [(&[&str], &str); 12] = [
        (&["for=203.0.113.7"], "203.0.113.7"),
        (&["for=192.0.2.60;proto=http;by=203.0.113.43"], "192.0.2.60"),
        (&["for=\"[2001:db8:cafe::17]:4711\""], "2001:db8:cafe::17"),
        (
            &["For=\"[2001:db8:cafe::17]\";proto=https"],
            "2001:db8:cafe::17",
        ),
        (&["for=192.0.2.43, for=198.51.100.17"], "198.51.100.17"),
        (
            &["for=1.1.1.1, for=203.0.113.7, for=10.0.0.3"],
            "203.0.113.7",
        ),
        (
            &["for=1.1.1.1", "for=203.0.113.7;proto=https"],
            "203.0.113.7",
        ),
        (&["for=10.0.0.9, for=10.0.0.8"], "10.0.0.9"),
        (&["for=\"203.0.113.7:_abc\""], "203.0.113.7"),
        // Client-written junk to the left of the real client is never parsed.
        (&["for=\"unterminated, for=203.0.113.7"], "203.0.113.7"),
        (&["for=unknown, for=203.0.113.7"], "203.0.113.7"),
        (&["garbage;;;=, for=203.0.113.7"], "203.0.113.7"),
    ];
    for (lines, want) in cases {
        assert_eq!(
            r.resolve(ip(PROXY), lines.iter().copied()),
            ip(want),
            "{lines:?}"
        );
    }
    // Unreadable hops at the point of decision: the peer.
    for line in [
        "for=unknown",
        "for=_hidden",
        "for=\"_gazonk\"",
        "for=203.0.113.7, for=unknown",
        "proto=https",
        "for=\"203.0.113.7",
        "for=203.0.113.7;for=198.51.100.1",
        "203.0.113.7",
        "",
        "for=203.0.113.7,",
    ] {
        assert_eq!(r.resolve(ip(PROXY), [line]), ip(PROXY), "{line:?}");
    }
    // The Forwarded resolver is never fed X-Forwarded-For syntax by mistake silently.
    assert_eq!(
        r.resolve(ip("192.0.2.1"), ["for=203.0.113.7"]),
        ip("192.0.2.1")
    );
}

#[test]
fn only_the_configured_header_name_is_offered() {
    assert_eq!(ClientIpResolver::peer_only().header(), None);
    assert_eq!(
        behind_proxies().header().map(ForwardedHeader::name),
        Some("x-forwarded-for")
    );
    assert!(behind_proxies().is_trusted_proxy(ip("::ffff:10.2.3.4")));
    assert!(!behind_proxies().is_trusted_proxy(ip("11.0.0.1")));
    assert_eq!(behind_proxies().trusted_proxies().len(), 2);
}
