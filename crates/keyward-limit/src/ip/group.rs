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

/// How wide a network of groups is: its IPv4 and its IPv6 prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Width {
    v4: u32,
    v6: u32,
}

impl Width {
    /// IPv4 `/24`, IPv6 `/48`: a site.
    pub(crate) const SITE: Width = Width { v4: 24, v6: 48 };
    /// IPv4 `/16`, IPv6 `/32`: a provider's block.
    pub(crate) const BLOCK: Width = Width { v4: 16, v6: 32 };
}

/// The network of a given [`Width`] that an [`IpGroup`] belongs to, packed in a `u64`
/// (the top bit marks IPv4) so that a table keyed by it stays small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Network(u64);

const V4_TAG: u64 = 1 << 63;

impl IpGroup {
    /// The network of `width` this group belongs to.
    pub(crate) fn within(self, width: Width) -> Network {
        match self.0 {
            Repr::V4(a) => Network(V4_TAG | u64::from(a >> (32 - width.v4))),
            Repr::V6(p) => Network(p >> (64 - width.v6)),
        }
    }
}

impl Network {
    /// The IPv4 network's number (its address shifted right by the host bits), or
    /// `None` for an IPv6 network.
    pub(crate) fn v4_number(self) -> Option<u64> {
        (self.0 & V4_TAG != 0).then_some(self.0 & !V4_TAG)
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

    fn within(s: &str, width: Width) -> Network {
        IpGroup::of(ip(s)).within(width)
    }

    #[test]
    fn networks_are_sites_and_blocks() {
        let site = Width::SITE;
        assert_eq!(within("203.0.113.7", site), within("203.0.113.250", site));
        assert_ne!(within("203.0.113.7", site), within("203.0.114.7", site));
        assert_eq!(
            within("2001:db8:1:2::1", site),
            within("2001:db8:1:ffff::1", site)
        );
        assert_ne!(within("2001:db8:1::1", site), within("2001:db8:2::1", site));

        let block = Width::BLOCK;
        assert_eq!(within("203.0.113.7", block), within("203.0.7.1", block));
        assert_ne!(within("203.0.113.7", block), within("203.1.113.7", block));
        assert_eq!(
            within("2001:db8:1::1", block),
            within("2001:db8:ffff::1", block)
        );
        assert_ne!(within("2001:db8::1", block), within("2001:db9::1", block));
    }

    #[test]
    fn ipv4_and_ipv6_networks_never_meet() {
        for width in [Width::SITE, Width::BLOCK] {
            // 0.0.0.0 and ::/0's first network have the same bits but a different tag.
            assert_ne!(within("0.0.0.1", width), within("::1", width));
            assert_ne!(
                within("255.255.255.255", width),
                within("ffff:ffff:ffff::1", width)
            );
        }
    }
}
