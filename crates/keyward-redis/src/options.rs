//! [`RedisOptions`]: how long to wait for Redis, and how to reconnect.

use std::time::Duration;

/// Connection settings for [`RedisLimits::connect_with`](crate::RedisLimits::connect_with).
///
/// The defaults make an outage cost little: a decision waits at most **500 ms** for
/// Redis before it answers [`LimitError::Unavailable`](keyward_limit::LimitError), a
/// connection attempt at most **1 s**, and a lost connection is re-established in the
/// background with exponential backoff capped at **1 s**, so decisions work again
/// within about a second of Redis coming back, with nothing to recreate.
///
/// ```
/// use std::time::Duration;
/// use keyward_redis::RedisOptions;
///
/// let options = RedisOptions::new()
///     .with_connection_timeout(Duration::from_secs(2))
///     .with_response_timeout(Duration::from_millis(200));
/// assert_eq!(options.response_timeout(), Duration::from_millis(200));
/// assert_eq!(RedisOptions::default().connection_timeout(), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct RedisOptions {
    connection_timeout: Duration,
    response_timeout: Duration,
    max_reconnect_delay: Duration,
}

impl RedisOptions {
    /// How long connecting may take, by default.
    pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);
    /// How long one decision may wait for Redis, by default.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
    /// The longest pause between reconnection attempts, by default.
    pub const DEFAULT_MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

    /// The defaults: 1 s to connect, 500 ms per decision, reconnect backoff capped at 1 s.
    pub const fn new() -> Self {
        RedisOptions {
            connection_timeout: Self::DEFAULT_CONNECTION_TIMEOUT,
            response_timeout: Self::DEFAULT_RESPONSE_TIMEOUT,
            max_reconnect_delay: Self::DEFAULT_MAX_RECONNECT_DELAY,
        }
    }

    /// Bounds each connection attempt, and the whole of
    /// [`RedisLimits::connect`](crate::RedisLimits::connect), retries included.
    /// Must be longer than zero.
    pub const fn with_connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Bounds each decision (`check`, `record_failure`) from call to answer, including
    /// any wait for a reconnection in progress; past it the decision is
    /// [`LimitError::Unavailable`](keyward_limit::LimitError). Must be longer than zero.
    pub const fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Caps the exponential backoff between reconnection attempts (which starts at
    /// 100 ms): roughly how long decisions keep failing after Redis is back.
    pub const fn with_max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.max_reconnect_delay = delay;
        self
    }

    /// How long connecting may take (see
    /// [`with_connection_timeout`](RedisOptions::with_connection_timeout)).
    pub const fn connection_timeout(&self) -> Duration {
        self.connection_timeout
    }

    /// How long one decision may wait for Redis (see
    /// [`with_response_timeout`](RedisOptions::with_response_timeout)).
    pub const fn response_timeout(&self) -> Duration {
        self.response_timeout
    }

    /// The longest pause between reconnection attempts (see
    /// [`with_max_reconnect_delay`](RedisOptions::with_max_reconnect_delay)).
    pub const fn max_reconnect_delay(&self) -> Duration {
        self.max_reconnect_delay
    }
}

/// 1 s to connect, 500 ms per decision, reconnect backoff capped at 1 s.
impl Default for RedisOptions {
    fn default() -> Self {
        Self::new()
    }
}
