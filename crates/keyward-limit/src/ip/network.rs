//! Parsing IP networks, and a set of them.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

use crate::error::NetworkParseError;

/// Parses an IP network: CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address
/// (`203.0.113.7` is `203.0.113.7/32`, `::1` is `::1/128`).
///
/// Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`), surrounding whitespace is
/// ignored, and an IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) becomes the IPv4
/// network it maps (`10.0.0.0/8`), because addresses are compared in their canonical
/// form.
///
/// ```
/// use keyward_limit::parse_network;
///
/// assert_eq!(parse_network("10.1.2.3/8")?.to_string(), "10.0.0.0/8");
/// assert_eq!(parse_network(" 203.0.113.7 ")?.to_string(), "203.0.113.7/32");
/// assert_eq!(parse_network("::ffff:192.0.2.0/120")?.to_string(), "192.0.2.0/24");
/// assert!(parse_network("10.0.0.0/33").is_err());
/// # Ok::<(), keyward_limit::NetworkParseError>(())
/// ```
///
/// # Errors
///
/// [`NetworkParseError`] for anything else (empty text, a prefix length too long for
/// the family, a hostname, a zone index).
pub fn parse_network(text: &str) -> Result<IpNet, NetworkParseError> {
    let trimmed = text.trim();
    let net = if trimmed.contains('/') {
        trimmed.parse::<IpNet>().ok()
    } else {
        trimmed.parse::<IpAddr>().ok().map(IpNet::from)
    }
    .ok_or_else(|| NetworkParseError::new(text))?;
    Ok(canonical(net.trunc()))
}

fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

/// A list of networks; empty contains nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct NetworkSet {
    nets: Vec<IpNet>,
}

impl NetworkSet {
    pub(crate) fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        let mut nets: Vec<IpNet> = nets.into_iter().map(|n| canonical(n.trunc())).collect();
        nets.sort();
        nets.dedup();
        NetworkSet { nets }
    }

    /// Whether a network contains `ip` (compared in canonical form: an IPv4-mapped IPv6
    /// address is its IPv4 address).
    #[inline]
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|n| n.contains(&ip))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub(crate) fn as_slice(&self) -> &[IpNet] {
        &self.nets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_networks() {
        for (text, shown) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.9.8.7/8", "10.0.0.0/8"),
            ("192.0.2.1", "192.0.2.1/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("2001:db8::1", "2001:db8::1/128"),
            ("::/0", "::/0"),
            ("::ffff:10.0.0.1", "10.0.0.1/32"),
            ("::ffff:0:0/96", "0.0.0.0/0"),
        ] {
            assert_eq!(parse_network(text).unwrap().to_string(), shown, "{text}");
        }
    }

    #[test]
    fn every_malformed_network_is_a_typed_error() {
        for bad in [
            "",
            " ",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/-1",
            "10.0.0/8",
            "256.0.0.1",
            "2001:db8::/129",
            "fe80::1%eth0",
            "localhost",
            "10.0.0.0/8,10.1.0.0/16",
            "/8",
            "10.0.0.1:80",
        ] {
            let err = parse_network(bad).unwrap_err();
            assert_eq!(err.input(), bad);
        }
    }

    #[test]
    fn an_empty_set_contains_nothing() {
        let set = NetworkSet::default();
        assert!(set.is_empty());
        assert!(!set.contains("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn mapped_addresses_match_ipv4_networks() {
        let set = NetworkSet::new([parse_network("10.0.0.0/8").unwrap()]);
        assert!(set.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!set.contains("::ffff:11.1.2.3".parse().unwrap()));
        assert!(
            !set.contains("::a01:203".parse().unwrap()),
            "IPv4-compatible is not mapped"
        );
    }
}
