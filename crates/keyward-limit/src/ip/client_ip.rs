//! [`ClientIpResolver`]: which address is the client's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::ip::network::NetworkSet;

/// The request header a trusted proxy records the client address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: <client>, <proxy1>, <proxy2>` (the de facto standard; nginx,
    /// HAProxy, most cloud load balancers). Entries may carry a port
    /// (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name in lower case (`x-forwarded-for` or `forwarded`).
    pub const fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// Decides which address a request comes from: the address failures are counted under
/// and IP allowlists are checked against.
///
/// **By default it is the socket peer** ([`ClientIpResolver::peer_only`]): any
/// `X-Forwarded-For` or `Forwarded` header is ignored, because a client can send one
/// with any address in it and would otherwise choose whose lockout its failures count
/// toward.
///
/// Behind a reverse proxy the peer is the proxy, and every client would share its
/// lockout. [`ClientIpResolver::trust_forwarded_headers_from`] names the proxies' networks
/// (the name is long on purpose: list only addresses that are really your proxies).
/// Then, and only when the peer is one of them, the forwarded header is read **from the
/// right**: each trusted proxy appends the address it received the request from, so the
/// rightmost address that is *not* a trusted proxy is the one a trusted proxy saw, and
/// everything to its left was written by the client and is ignored. If every hop is a
/// trusted proxy, the leftmost is the answer.
///
/// The walk stops and answers the **socket peer** when it reaches a hop it cannot read:
/// `unknown`, an RFC 7239 obfuscated identifier (`_hidden`), an element without `for=`,
/// an empty element, or anything that is not an address. It never guesses past such a
/// hop, and it never panics.
///
/// Exactly **one** header is honoured, [`X-Forwarded-For`](ForwardedHeader::XForwardedFor)
/// unless [`with_header`](ClientIpResolver::with_header) says otherwise: a proxy that
/// appends to one header passes the other through from the client unchanged, so reading
/// both would let the client spoof the one the proxy does not maintain.
///
/// Addresses come back canonical: `::ffff:192.0.2.1` is `192.0.2.1`.
///
/// ```
/// use std::net::IpAddr;
/// use keyward_limit::{ClientIpResolver, parse_network};
///
/// let peer: IpAddr = "10.0.0.5".parse()?;
/// let xff = ["198.51.100.99, 203.0.113.7"]; // a client-written entry, then the real client
///
/// // Default: the peer, whatever the headers say.
/// assert_eq!(ClientIpResolver::peer_only().resolve(peer, xff), peer);
///
/// // Behind a proxy in 10.0.0.0/8: the rightmost untrusted hop.
/// let resolver = ClientIpResolver::trust_forwarded_headers_from([parse_network("10.0.0.0/8")?]);
/// assert_eq!(resolver.resolve(peer, xff), "203.0.113.7".parse::<IpAddr>()?);
///
/// // The same header from a peer that is not a trusted proxy is ignored.
/// let stranger: IpAddr = "192.0.2.1".parse()?;
/// assert_eq!(resolver.resolve(stranger, xff), stranger);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ClientIpResolver {
    trusted: NetworkSet,
    header: ForwardedHeader,
}

impl ClientIpResolver {
    /// The socket peer is the client; forwarded headers are ignored. The default.
    pub fn peer_only() -> Self {
        ClientIpResolver::default()
    }

    /// Honours `X-Forwarded-For` (or, with [`with_header`](Self::with_header),
    /// `Forwarded`) when the peer is in one of `proxies`.
    ///
    /// Sharp: every address in these networks can name any client address it likes.
    /// An empty list trusts nobody (the same as [`peer_only`](Self::peer_only)).
    pub fn trust_forwarded_headers_from(proxies: impl IntoIterator<Item = IpNet>) -> Self {
        ClientIpResolver {
            trusted: NetworkSet::new(proxies),
            header: ForwardedHeader::default(),
        }
    }

    /// Reads `header` instead of the default `X-Forwarded-For`.
    pub fn with_header(self, header: ForwardedHeader) -> Self {
        ClientIpResolver { header, ..self }
    }

    /// The header to pass to [`resolve`](Self::resolve), or `None` when no proxy is
    /// trusted and headers are never read.
    pub fn header(&self) -> Option<ForwardedHeader> {
        (!self.trusted.is_empty()).then_some(self.header)
    }

    /// The trusted proxy networks (empty for [`peer_only`](Self::peer_only)).
    pub fn trusted_proxies(&self) -> &[IpNet] {
        self.trusted.as_slice()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted.contains(ip)
    }

    /// The client address of a request from `peer` whose [`header`](Self::header) lines
    /// are `header_values` (every line, in the order received; an empty iterator when the
    /// header is absent). The values are not read unless `peer` is a trusted proxy.
    ///
    /// Allocation-free for a single header line; several lines are collected first.
    pub fn resolve<'a, I>(&self, peer: IpAddr, header_values: I) -> IpAddr
    where
        I: IntoIterator<Item = &'a str>,
    {
        let peer = peer.to_canonical();
        if !self.trusted.contains(peer) {
            return peer;
        }
        let mut lines = header_values.into_iter();
        let Some(first) = lines.next() else {
            return peer;
        };
        let walk = match lines.next() {
            None => self.walk(peer, [first]),
            Some(second) => {
                let mut all = vec![first, second];
                all.extend(lines);
                all.reverse();
                self.walk(peer, all)
            }
        };
        walk.unwrap_or(peer)
    }

    /// Walks the hops right to left over `lines` given last line first; `None` when an
    /// unreadable hop stops the walk.
    fn walk<'a>(&self, peer: IpAddr, lines: impl IntoIterator<Item = &'a str>) -> Option<IpAddr> {
        let mut client = peer;
        for line in lines {
            for element in line.rsplit(',') {
                let hop = match self.header {
                    ForwardedHeader::XForwardedFor => parse_node(element.trim())?,
                    ForwardedHeader::Forwarded => forwarded_for(element)?,
                }
                .to_canonical();
                client = hop;
                if !self.trusted.contains(hop) {
                    return Some(hop);
                }
            }
        }
        Some(client)
    }
}

/// The `for=` node of one RFC 7239 `forwarded-element` (`for=x;proto=y;by=z`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let mut found = None;
    for pair in element.split(';') {
        let (name, value) = pair.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("for") {
            if found.is_some() {
                return None; // two `for=` in one element
            }
            found = Some(value.trim());
        }
    }
    let value = found?;
    let node = match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => value,
    };
    if node.contains(['"', '\\']) {
        return None;
    }
    parse_node(node)
}

/// A node: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711`, with an RFC 7239 obfuscated port (`:_abc`) allowed.
/// `unknown`, obfuscated nodes (`_hidden`) and everything else are `None`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip = inside.parse::<Ipv6Addr>().ok()?;
        let port_fine = after.is_empty() || after.strip_prefix(':').is_some_and(port_ok);
        return port_fine.then_some(IpAddr::V6(ip));
    }
    let (host, port) = node.split_once(':')?;
    let ip = host.parse::<Ipv4Addr>().ok()?;
    port_ok(port).then_some(IpAddr::V4(ip))
}

/// A port after its colon: digits (at most 65535) or an RFC 7239 obfuscated port
/// (`_` followed by letters, digits, `.`, `_`, `-`).
fn port_ok(port: &str) -> bool {
    if let Some(obfuscated) = port.strip_prefix('_') {
        return !obfuscated.is_empty()
            && obfuscated
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    }
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_network;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn nodes() {
        for (node, want) in [
            ("192.0.2.1", Some("192.0.2.1")),
            ("192.0.2.1:4711", Some("192.0.2.1")),
            ("192.0.2.1:_port", Some("192.0.2.1")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("[2001:db8::1]:4711", Some("2001:db8::1")),
            ("[2001:db8::1]:_x.y-z", Some("2001:db8::1")),
            ("::ffff:192.0.2.1", Some("::ffff:192.0.2.1")),
            ("unknown", None),
            ("_hidden", None),
            ("_SEVKISEK", None),
            ("", None),
            ("192.0.2.1:", None),
            ("192.0.2.1:65536", None),
            ("192.0.2.1:12a", None),
            ("192.0.2.1:_", None),
            ("192.0.2.1:_a b", None),
            ("192.0.2.1:80:80", None),
            ("192.0.2.1::80", None),
            ("192.0.2.1:+80", None),
            ("[2001:db8::1", None),
            ("[2001:db8::1]x", None),
            ("[192.0.2.1]", None),
            ("[2001:db8::1]:", None),
            ("2001:db8::1:4711:99999", None),
            ("fe80::1%eth0", None),
            ("example.com", None),
            ("1.2.3.4.5", None),
        ] {
            assert_eq!(parse_node(node), want.map(ip), "{node:?}");
        }
    }

    #[test]
    fn forwarded_elements() {
        for (element, want) in [
            ("for=192.0.2.60", Some("192.0.2.60")),
            (
                "for=192.0.2.60;proto=http;by=203.0.113.43",
                Some("192.0.2.60"),
            ),
            (
                "proto=https; FOR = \"[2001:db8:cafe::17]:4711\"",
                Some("2001:db8:cafe::17"),
            ),
            ("For=\"192.0.2.43:47011\"", Some("192.0.2.43")),
            ("for=\"[2001:db8::1]\"", Some("2001:db8::1")),
            (" for=198.51.100.17 ", Some("198.51.100.17")),
            ("for=unknown", None),
            ("for=\"_gazonk\"", None),
            ("for=_hidden", None),
            ("proto=https", None),
            ("by=192.0.2.1", None),
            ("for=192.0.2.1;for=192.0.2.2", None),
            ("for=\"192.0.2.1", None),
            ("for=192.0.2.1\"", None),
            ("for=\"192.0.2.\\1\"", None),
            ("for", None),
            ("", None),
            ("for=\"\"", None),
        ] {
            assert_eq!(forwarded_for(element), want.map(ip), "{element:?}");
        }
    }

    #[test]
    fn peer_only_ignores_headers() {
        let r = ClientIpResolver::peer_only();
        assert_eq!(r.header(), None);
        assert_eq!(r.resolve(ip("192.0.2.1"), ["203.0.113.9"]), ip("192.0.2.1"));
        let empty = ClientIpResolver::trust_forwarded_headers_from([]);
        assert_eq!(empty.header(), None);
        assert_eq!(
            empty.resolve(ip("192.0.2.1"), ["203.0.113.9"]),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn the_peer_comes_back_canonical() {
        let r = ClientIpResolver::peer_only();
        assert_eq!(r.resolve(ip("::ffff:192.0.2.1"), []), ip("192.0.2.1"));
        let r =
            ClientIpResolver::trust_forwarded_headers_from([parse_network("10.0.0.0/8").unwrap()]);
        assert_eq!(
            r.resolve(ip("::ffff:10.0.0.1"), ["::ffff:203.0.113.9"]),
            ip("203.0.113.9")
        );
    }
}
