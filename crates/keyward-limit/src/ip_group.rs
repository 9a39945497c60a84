//! [`IpGroup`]: the unit a client address is counted under.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The unit failures are counted under: one IPv4 address, or one IPv6 `/64`.
///
/// A single IPv6 host usually controls a whole `/64` (SLAAC, privacy addresses), so
/// counting single IPv6 addresses would let it rotate through 2⁶⁴ of them. An
/// IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, as a dual-stack socket reports
/// IPv4 peers) counts as the IPv4 address.
///
/// `Display` is the stable form a shared backend can use in its keys.
///
/// ```
/// use std::net::IpAddr;
/// use keyward_limit::IpGroup;
///
/// let a: IpAddr = "2001:db8:1:2:aaaa::1".parse()?;
/// let b: IpAddr = "2001:db8:1:2:bbbb::2".parse()?;
/// assert_eq!(IpGroup::of(a), IpGroup::of(b));
/// assert_eq!(IpGroup::of(a).to_string(), "2001:db8:1:2::/64");
///
/// let mapped: IpAddr = "::ffff:203.0.113.7".parse()?;
/// assert_eq!(IpGroup::of(mapped).to_string(), "203.0.113.7");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpGroup(Repr);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    V4(u32),
    /// The upper 64 bits of the address.
    V6(u64),
}

impl IpGroup {
    /// The group `ip` belongs to.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => IpGroup(Repr::V4(u32::from(v4))),
            IpAddr::V6(v6) => IpGroup(Repr::V6((u128::from(v6) >> 64) as u64)),
        }
    }

    /// The group as a network: a `/32` or a `/64`.
    pub fn network(self) -> IpNet {
        match self.0 {
            Repr::V4(a) => IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::from(a), 32)),
            Repr::V6(p) => IpNet::V6(Ipv6Net::new_assert(self::v6_prefix(p), 64)),
        }
    }
}

fn v6_prefix(p: u64) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(p) << 64)
}

/// `203.0.113.7` or `2001:db8:1:2::/64`.
impl fmt::Display for IpGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::V4(a) => fmt::Display::fmt(&Ipv4Addr::from(a), f),
            Repr::V6(p) => write!(f, "{}/64", v6_prefix(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_addresses_are_their_own_group() {
        assert_ne!(
            IpGroup::of(ip("203.0.113.7")),
            IpGroup::of(ip("203.0.113.8"))
        );
        assert_eq!(
            IpGroup::of(ip("203.0.113.7")).network().to_string(),
            "203.0.113.7/32"
        );
    }

    #[test]
    fn ipv6_is_grouped_by_64() {
        assert_eq!(
            IpGroup::of(ip("2001:db8::1")),
            IpGroup::of(ip("2001:db8::ffff:ffff:ffff:ffff"))
        );
        assert_ne!(
            IpGroup::of(ip("2001:db8::1")),
            IpGroup::of(ip("2001:db8:0:1::1"))
        );
        assert_eq!(
            IpGroup::of(ip("2001:db8::1")).network().to_string(),
            "2001:db8::/64"
        );
    }

    #[test]
    fn mapped_ipv4_is_ipv4_and_not_the_zero_64() {
        assert_eq!(
            IpGroup::of(ip("::ffff:10.0.0.1")),
            IpGroup::of(ip("10.0.0.1"))
        );
        assert_ne!(
            IpGroup::of(ip("::ffff:10.0.0.1")),
            IpGroup::of(ip("::ffff:10.0.0.2"))
        );
        assert_ne!(IpGroup::of(ip("::1")), IpGroup::of(ip("0.0.0.1")));
    }
}
