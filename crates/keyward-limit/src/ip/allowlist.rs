//! [`IpAllowlist`]: the networks a key may be used from.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::error::NetworkParseError;
use crate::ip::network::{NetworkSet, parse_network};

/// The networks a key may be used from; a valid key presented from elsewhere is
/// answered 403 `ip_not_allowed`.
///
/// **An empty list allows every address**: it means "this key has no IP restriction",
/// which is what a key record without an allowlist has. This is why the method is
/// [`allows`](IpAllowlist::allows) and not `contains`. (The trusted-proxy list of
/// [`ClientIpResolver`](crate::ClientIpResolver) is the opposite: empty trusts nobody.)
///
/// Addresses are compared in canonical form: a dual-stack socket's `::ffff:192.0.2.1`
/// matches `192.0.2.0/24`. Check the *client* address from
/// [`ClientIpResolver::resolve`](crate::ClientIpResolver::resolve).
///
/// ```
/// use std::net::IpAddr;
/// use keyward_limit::IpAllowlist;
///
/// let list: IpAllowlist = "10.0.0.0/8, 2001:db8::/32, 203.0.113.7".parse()?;
/// assert!(list.allows("10.1.2.3".parse::<IpAddr>()?));
/// assert!(list.allows("203.0.113.7".parse::<IpAddr>()?));
/// assert!(!list.allows("203.0.113.8".parse::<IpAddr>()?));
/// assert!(IpAllowlist::default().allows("198.51.100.1".parse::<IpAddr>()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IpAllowlist {
    nets: NetworkSet,
}

impl IpAllowlist {
    /// No restriction: every address is allowed.
    pub fn unrestricted() -> Self {
        IpAllowlist::default()
    }

    /// Allows exactly the addresses in `nets` (every address, if `nets` is empty).
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        IpAllowlist {
            nets: NetworkSet::new(nets),
        }
    }

    /// Parses each entry with [`parse_network`](crate::parse_network): CIDR or a single
    /// address.
    ///
    /// # Errors
    ///
    /// The first entry that is not a network.
    pub fn parse<I, S>(entries: I) -> Result<Self, NetworkParseError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nets = entries
            .into_iter()
            .map(|e| parse_network(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IpAllowlist::new(nets))
    }

    /// Whether `ip` may use the key: the list is empty, or one of its networks contains
    /// `ip`.
    #[inline]
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.nets.is_empty() || self.nets.contains(ip)
    }

    /// Whether the list is empty, allowing every address.
    pub fn is_unrestricted(&self) -> bool {
        self.nets.is_empty()
    }

    /// The networks, sorted and without duplicates.
    pub fn networks(&self) -> &[IpNet] {
        self.nets.as_slice()
    }
}

/// Parses a comma- or whitespace-separated list (`"10.0.0.0/8, 203.0.113.7"`); an empty
/// or blank string is the unrestricted list.
impl FromStr for IpAllowlist {
    type Err = NetworkParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IpAllowlist::parse(
            s.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|e| !e.is_empty()),
        )
    }
}

/// The networks separated by `, ` (empty when unrestricted); parses back.
impl fmt::Display for IpAllowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.networks().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            fmt::Display::fmt(net, f)?;
        }
        Ok(())
    }
}

impl FromIterator<IpNet> for IpAllowlist {
    fn from_iter<T: IntoIterator<Item = IpNet>>(iter: T) -> Self {
        IpAllowlist::new(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn empty_allows_all() {
        for list in [
            IpAllowlist::default(),
            "".parse().unwrap(),
            " , ".parse().unwrap(),
        ] {
            assert!(list.is_unrestricted());
            assert!(list.allows(ip("203.0.113.1")));
            assert!(list.allows(ip("2001:db8::1")));
        }
    }

    #[test]
    fn matches_v4_v6_and_mapped() {
        let list: IpAllowlist = "192.0.2.0/24 2001:db8::/48".parse().unwrap();
        assert!(list.allows(ip("192.0.2.200")));
        assert!(list.allows(ip("::ffff:192.0.2.200")));
        assert!(!list.allows(ip("192.0.3.1")));
        assert!(list.allows(ip("2001:db8:0:ffff::1")));
        assert!(!list.allows(ip("2001:db8:1::1")));
    }

    #[test]
    fn a_bad_entry_is_named() {
        let err = IpAllowlist::parse(["10.0.0.0/8", "nope", "also bad"]).unwrap_err();
        assert_eq!(err.input(), "nope");
        assert_eq!(
            "10.0.0.0/8;192.0.2.0/24"
                .parse::<IpAllowlist>()
                .unwrap_err()
                .input(),
            "10.0.0.0/8;192.0.2.0/24"
        );
    }

    #[test]
    fn display_round_trips() {
        let list: IpAllowlist = "2001:db8::/32,10.0.0.0/8,10.0.0.0/8".parse().unwrap();
        assert_eq!(list.to_string(), "10.0.0.0/8, 2001:db8::/32");
        assert_eq!(list.to_string().parse::<IpAllowlist>(), Ok(list));
    }
}
