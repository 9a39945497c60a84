//! `ClientIpResolver::resolve` over `X-Forwarded-For` and `Forwarded` lines.
//!
//! Input: a flags byte (bit 0: `Forwarded` instead of `X-Forwarded-For`; bits 1-3: the
//! trusted proxy set; bits 4-5: how the peer is chosen), the peer's bytes, then header
//! lines separated by `\n`.
//! Invariants: the answer is the (canonical) peer or an address written in the header;
//! an untrusted peer and a peer-only resolver always answer the peer; several lines
//! answer as their comma-joined single line; once an untrusted hop is found, whatever a
//! client prepends to the header changes nothing.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use keyward_limit::{ClientIpResolver, ForwardedHeader, IpNet, parse_network};
use libfuzzer_sys::fuzz_target;

const TRUSTED_SETS: [&[&str]; 6] = [
    &[],
    &["10.0.0.0/8"],
    &["127.0.0.0/8", "::1/128"],
    &["0.0.0.0/0"],
    &["10.0.0.0/8", "2001:db8::/32", "::ffff:0:0/96"],
    &["0.0.0.0/0", "::/0"],
];

/// Peers that some trusted set contains, so the header is read often.
const TRUSTED_PEERS: [&str; 4] = ["10.0.0.1", "127.0.0.1", "::1", "::ffff:10.1.2.3"];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let header = if flags & 1 == 0 {
        ForwardedHeader::XForwardedFor
    } else {
        ForwardedHeader::Forwarded
    };
    let trusted: Vec<IpNet> = TRUSTED_SETS[usize::from(flags >> 1 & 7) % TRUSTED_SETS.len()]
        .iter()
        .map(|n| parse_network(n).expect("valid network"))
        .collect();
    let (peer, rest) = match flags >> 4 & 3 {
        0 if rest.len() >= 4 => {
            let (b, r) = rest.split_at(4);
            (
                IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).unwrap())),
                r,
            )
        }
        1 if rest.len() >= 16 => {
            let (b, r) = rest.split_at(16);
            (
                IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap())),
                r,
            )
        }
        _ => {
            let (&i, r) = rest.split_first().unwrap_or((&0, &[]));
            let peer = TRUSTED_PEERS[usize::from(i) % TRUSTED_PEERS.len()];
            (peer.parse().unwrap(), r)
        }
    };
    let text = String::from_utf8_lossy(rest);
    let lines: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').collect()
    };

    let resolver =
        ClientIpResolver::trust_forwarded_headers_from(trusted.clone()).with_header(header);
    let client = resolver.resolve(peer, lines.iter().copied());
    let canonical_peer = peer.to_canonical();
    assert_eq!(client, client.to_canonical(), "answers are canonical");

    assert_eq!(
        ClientIpResolver::peer_only().resolve(peer, lines.iter().copied()),
        canonical_peer
    );
    if !resolver.is_trusted_proxy(canonical_peer) || lines.is_empty() {
        assert_eq!(client, canonical_peer);
        return;
    }
    if client != canonical_peer {
        assert!(
            written_addresses(&lines).contains(&client),
            "{client} is neither the peer nor in the header"
        );
    }

    let joined = lines.join(",");
    assert_eq!(
        resolver.resolve(peer, [joined.as_str()]),
        client,
        "lines and joined line differ"
    );

    if !resolver.is_trusted_proxy(client) {
        // The hop a trusted proxy saw: nothing to its left matters.
        let junk = &text[..text.floor_char_boundary(text.len() / 2)];
        let junk = junk.replace('\n', ",");
        let spoofed = format!("{junk},{}", lines[0]);
        let mut with_junk = lines.clone();
        with_junk[0] = &spoofed;
        assert_eq!(resolver.resolve(peer, with_junk.iter().copied()), client);
    }
});

/// Every address that can be read out of the lines by cutting at separators, canonical.
fn written_addresses(lines: &[&str]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in lines {
        for token in line.split(|c: char| ",;=\"[]".contains(c) || c.is_whitespace()) {
            let candidates = [Some(token), token.rsplit_once(':').map(|(host, _)| host)];
            for candidate in candidates.into_iter().flatten() {
                if let Ok(ip) = candidate.parse::<IpAddr>() {
                    out.push(ip.to_canonical());
                }
            }
        }
    }
    out
}
