#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod connection;
mod error;
mod guard;
mod limiter;
mod options;
mod request;

pub use connection::RedisLimits;
pub use error::RedisError;
pub use guard::RedisFailureGuard;
pub use limiter::RedisRateLimiter;
pub use options::RedisOptions;
pub use request::RedisRequestLimits;

/// The guide `docs/scale-out.md` (PostgreSQL keys, Redis limits), compiled with the
/// doctests so its example keeps working.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/scale-out.md")]
struct ScaleOutGuide;
