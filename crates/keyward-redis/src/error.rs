//! [`RedisError`]: why [`RedisLimits`](crate::RedisLimits) could not be set up.

use std::time::Duration;

/// Why connecting to Redis failed; a small enum, as keyward's other errors.
///
/// Only setting up returns it. Once connected, a decision that Redis cannot make in time
/// is a [`LimitError::Unavailable`](keyward_limit::LimitError::Unavailable), which the
/// caller's fail-open or fail-closed policy handles.
///
/// No variant's message repeats the URL, which may carry a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// The URL is not a Redis URL (`redis://`, `rediss://` or `redis+unix://`, with a
    /// valid host, port and database).
    #[error("not a usable Redis URL: {0}")]
    InvalidUrl(#[source] redis::RedisError),
    /// The namespace is empty or contains whitespace or control characters.
    #[error("invalid Redis key namespace {namespace:?}: {reason}")]
    InvalidNamespace {
        /// The rejected namespace.
        namespace: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A timeout in [`RedisOptions`](crate::RedisOptions) is zero.
    #[error("the Redis {0} timeout must be longer than zero")]
    ZeroTimeout(&'static str),
    /// Redis refused the connection or the handshake failed (wrong password, unknown
    /// database, TLS error, ...).
    #[error("cannot connect to Redis: {0}")]
    Connect(#[source] redis::RedisError),
    /// No connection could be made within the connection timeout.
    #[error("cannot connect to Redis: no connection within {0:?}")]
    ConnectTimeout(Duration),
}
