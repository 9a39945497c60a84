#![doc = include_str!("../README.md")]
//!
//! # Layout
//!
//! - [`Quota`]: a validated `limit` per `period`, parsed from `60/min`.
//! - `gcra` (private): the pure algorithm, a function of one stored time and the clock.
//! - [`RateLimiter`]: the trait a backend implements (memory here, Redis elsewhere),
//!   answering a [`Decision`] with everything the rate-limit headers need.
//! - [`MemoryRateLimiter`]: GCRA state in a [`dashmap`](https://docs.rs/dashmap) map,
//!   one `AtomicU64` per key updated by compare-and-swap, idle keys swept away.
//! - [`FailureGuard`] and [`MemoryFailureGuard`]: per-client-IP lockout after repeated
//!   failed authentications, with a hard cap on tracked addresses.
//! - [`ClientIpResolver`]: which address is "the client" (the socket peer, unless the
//!   peer is a trusted proxy).
//! - [`IpAllowlist`]: per-key IP restrictions.
//! - [`Cleanup`]: the sweeping both in-memory stores share.
//!
//! Every time-dependent decision reads a [`Clock`](keyward_clock::Clock), so tests drive
//! time with [`ManualClock::advance`](keyward_clock::ManualClock::advance) instead of
//! sleeping.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod allowlist;
mod cleanup;
mod client_ip;
mod decision;
mod error;
mod failure_guard;
mod gcra;
mod guard_config;
mod ip_group;
mod limiter;
mod memory_guard;
mod memory_limiter;
mod network;
mod quota;
mod state;
mod time;

pub use allowlist::IpAllowlist;
pub use cleanup::Cleanup;
pub use client_ip::{ClientIpResolver, ForwardedHeader};
pub use decision::{Decision, RateLimitHeaders, headers};
pub use error::{GuardConfigError, LimitError, NetworkParseError, QuotaError};
pub use failure_guard::{FailureBudget, FailureGuard, GuardDecision};
pub use guard_config::GuardConfig;
pub use ip_group::IpGroup;
pub use ipnet::IpNet;
pub use limiter::RateLimiter;
pub use memory_guard::MemoryFailureGuard;
pub use memory_limiter::MemoryRateLimiter;
pub use network::parse_network;
pub use quota::Quota;
