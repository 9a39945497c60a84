#![doc = include_str!("../README.md")]
//!
//! # Layout
//!
//! Four private modules, one idea each; every public item is re-exported at the crate
//! root.
//!
//! - `rate`: per-key rate limits.
//!   - [`Quota`]: a validated `limit` per `period`, parsed from `60/min`.
//!   - `rate::gcra`: the pure algorithm, a function of one stored time and the clock.
//!   - [`RateLimiter`]: the trait a backend implements (memory here, Redis elsewhere),
//!     answering a [`Decision`] with everything the rate-limit headers need.
//!   - [`Budgets`]: the key's budget and, when limited, its owner's and tenant's, which
//!     a request must all fit in ([`RateLimiter::check_budgets`], all or nothing).
//!   - [`MemoryRateLimiter`]: GCRA state in a [`dashmap`](https://docs.rs/dashmap) map,
//!     one `AtomicU64` per key updated by compare-and-swap, idle keys swept away.
//! - `lockout`: per-client-IP lockout after failed authentications.
//!   - [`FailureGuard`], [`GuardConfig`] and [`MemoryFailureGuard`], with a hard cap on
//!     tracked addresses.
//! - `request`: [`RequestLimits`], one backend deciding a request's lockout and rate
//!   limit in one step (one round trip for a shared backend).
//! - `ip`: client addresses.
//!   - [`ClientIpResolver`]: which address is "the client" (the socket peer, unless the
//!     peer is a trusted proxy).
//!   - [`IpAllowlist`]: per-key IP restrictions; [`parse_network`].
//!   - [`IpGroup`]: the unit the lockout counts an address under (IPv6 by `/64`).
//!
//! Shared by both in-memory stores: [`Cleanup`], the idle-entry sweeping, and the error
//! types ([`LimitError`] from a backend, one enum per rejected setting).
//!
//! Every time-dependent decision reads a [`Clock`](keyward_clock::Clock), so tests drive
//! time with [`ManualClock::advance`](keyward_clock::ManualClock::advance) instead of
//! sleeping.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cleanup;
mod error;
mod ip;
mod lockout;
mod rate;
mod request;
mod time;

pub use cleanup::Cleanup;
pub use error::{GuardConfigError, LimitError, NetworkParseError, QuotaError};
pub use ip::{ClientIpResolver, ForwardedHeader, IpAllowlist, IpGroup, parse_network};
pub use ipnet::IpNet;
pub use lockout::{FailureBudget, FailureGuard, GuardConfig, GuardDecision, MemoryFailureGuard};
pub use rate::{
    Budget, BudgetDecision, Budgets, Decision, LimitScope, MemoryRateLimiter, Quota,
    RateLimitHeaders, RateLimiter, Subject, headers,
};
pub use request::{RequestDecision, RequestLimits};
