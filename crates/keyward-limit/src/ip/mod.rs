//! Client addresses: which address is the client ([`ClientIpResolver`]), network parsing,
//! per-key [`IpAllowlist`]s and the [`IpGroup`] a lockout counts an address under.

pub(crate) mod allowlist;
pub(crate) mod client_ip;
pub(crate) mod group;
pub(crate) mod network;

pub use allowlist::IpAllowlist;
pub use client_ip::{ClientIpResolver, ForwardedHeader};
pub use group::IpGroup;
pub use network::parse_network;
