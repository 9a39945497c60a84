//! [`RedisLimits`]: one Redis connection shared by the limiter and the guard.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use keyward_limit::{GuardConfig, LimitError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, FromRedisValue, ScriptInvocation};

use crate::error::RedisError;
use crate::guard::RedisFailureGuard;
use crate::limiter::RedisRateLimiter;
use crate::options::RedisOptions;
use crate::request::RedisRequestLimits;

/// A connection to Redis for keyward's shared limits: hands out the
/// [`RedisRateLimiter`] and the [`RedisFailureGuard`], which share it.
///
/// The connection is a [`redis::aio::ConnectionManager`]: one multiplexed connection
/// that every clone and every concurrent decision share, re-established in the
/// background with exponential backoff after an outage. A connection that stays open
/// but stops answering (three decisions in a row time out) is replaced in the
/// background too. Nothing has to be recreated when Redis comes back. It needs a Tokio
/// runtime.
///
/// **Keys.** Everything this crate writes lives under `<namespace>:`, so several
/// deployments can share one Redis database:
///
/// | key | holds | expires |
/// |---|---|---|
/// | `<namespace>:rl:<key id>` | a string: the key's GCRA theoretical arrival time, Unix nanoseconds | when the key's bucket is full again |
/// | `<namespace>:rl:owner:<owner>` | the same, for an owner's shared budget | the same |
/// | `<namespace>:rl:tenant:<team length>:<team>/<project>` | the same, for a tenant's shared budget | the same |
/// | `<namespace>:fg:<ip group>` | a hash: failures `n`, window start `w`, lockout end `l` (Unix µs) | at the end of the window or of the lockout |
///
/// `<ip group>` is [`IpGroup`](keyward_limit::IpGroup)'s display form: `203.0.113.7`,
/// `2001:db8:1:2::/64`. Every key carries a TTL, so Redis memory tracks recent activity
/// and nothing needs sweeping.
///
/// ```no_run
/// use keyward_limit::GuardConfig;
/// use keyward_redis::RedisLimits;
///
/// # async fn run() -> Result<(), keyward_redis::RedisError> {
/// let redis = RedisLimits::connect("redis://127.0.0.1:6379", "myapp").await?;
/// let limiter = redis.rate_limiter();
/// let guard = redis.failure_guard(GuardConfig::default());
/// # let _ = (limiter, guard);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisLimits {
    conn: Connection,
}

impl RedisLimits {
    /// Connects to the Redis at `url` (`redis://[user:password@]host[:port][/db]` or
    /// `redis+unix:///path`), keeping keyward's keys under `namespace`, with the
    /// default [`RedisOptions`].
    ///
    /// # Errors
    ///
    /// See [`connect_with`](RedisLimits::connect_with).
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, RedisError> {
        Self::connect_with(url, namespace, RedisOptions::new()).await
    }

    /// [`connect`](RedisLimits::connect) with explicit timeouts.
    ///
    /// Returns once Redis has answered, so a wrong URL, port or password shows at
    /// start-up rather than on the first request. Each step is bounded by the
    /// connection timeout.
    ///
    /// # Errors
    ///
    /// - [`RedisError::InvalidNamespace`]: `namespace` is empty or contains whitespace
    ///   or control characters;
    /// - [`RedisError::ZeroTimeout`]: a timeout in `options` is zero;
    /// - [`RedisError::InvalidUrl`]: `url` is not a Redis URL;
    /// - [`RedisError::Connect`]: Redis refused the connection or the handshake;
    /// - [`RedisError::ConnectTimeout`]: no connection within the connection timeout.
    pub async fn connect_with(
        url: &str,
        namespace: &str,
        options: RedisOptions,
    ) -> Result<Self, RedisError> {
        validate_namespace(namespace)?;
        let connect_timeout = options.connection_timeout();
        let response_timeout = options.response_timeout();
        if connect_timeout.is_zero() {
            return Err(RedisError::ZeroTimeout("connection"));
        }
        if response_timeout.is_zero() {
            return Err(RedisError::ZeroTimeout("response"));
        }
        let client = redis::Client::open(url).map_err(RedisError::InvalidUrl)?;

        // One plain attempt first: the manager retries with backoff, which would turn
        // "connection refused" or "wrong password" into a bare timeout.
        let probe = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(response_timeout));
        let probe = client.get_multiplexed_async_connection_with_config(&probe);
        match tokio::time::timeout(connect_timeout, probe).await {
            Err(_) => return Err(RedisError::ConnectTimeout(connect_timeout)),
            Ok(Err(e)) => return Err(RedisError::Connect(e)),
            Ok(Ok(probe)) => drop(probe),
        }

        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(response_timeout))
            .set_max_delay(options.max_reconnect_delay());
        let manager = tokio::time::timeout(
            connect_timeout,
            ConnectionManager::new_with_config(client.clone(), config.clone()),
        )
        .await
        .map_err(|_| RedisError::ConnectTimeout(connect_timeout))?
        .map_err(RedisError::Connect)?;

        Ok(RedisLimits {
            conn: Connection {
                live: Arc::new(Live {
                    manager: RwLock::new(manager),
                    client,
                    config,
                    connect_timeout,
                    timeouts_in_a_row: AtomicU32::new(0),
                    replacing: AtomicBool::new(false),
                }),
                namespace: Arc::from(namespace),
                response_timeout,
            },
        })
    }

    /// The per-key rate limiter, for
    /// [`KeywardBuilder::rate_limiter`](https://docs.rs/keyward): every instance
    /// connected to the same Redis and namespace shares one budget per key.
    pub fn rate_limiter(&self) -> RedisRateLimiter {
        RedisRateLimiter::new(self.conn.clone())
    }

    /// The per-client-IP lockout, for `KeywardBuilder::failure_guard`: every instance
    /// connected to the same Redis and namespace shares one failure count per address.
    ///
    /// Give every instance the same `config`: each decision applies the caller's.
    /// [`GuardConfig::max_tracked`] does not apply, as Redis forgets an address by
    /// itself when its window or lockout ends.
    pub fn failure_guard(&self, config: GuardConfig) -> RedisFailureGuard {
        RedisFailureGuard::new(self.conn.clone(), config)
    }

    /// The lockout and the rate limit as one backend, for `KeywardBuilder::request_limits`:
    /// an authenticated request whose key keyward verified from its cache asks Redis
    /// once, one script deciding both. The same state and answers as
    /// [`failure_guard`](RedisLimits::failure_guard) and
    /// [`rate_limiter`](RedisLimits::rate_limiter), which it is made of.
    pub fn request_limits(&self, config: GuardConfig) -> RedisRequestLimits {
        RedisRequestLimits::new(self.failure_guard(config), self.rate_limiter())
    }

    /// The namespace every key lives under.
    pub fn namespace(&self) -> &str {
        &self.conn.namespace
    }
}

impl fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimits")
            .field("namespace", &self.conn.namespace)
            .field("response_timeout", &self.conn.response_timeout)
            .finish_non_exhaustive()
    }
}

/// Why a namespace is unusable, if it is.
fn validate_namespace(namespace: &str) -> Result<(), RedisError> {
    let reason = if namespace.is_empty() {
        "it is empty"
    } else if namespace.chars().any(char::is_whitespace) {
        "it contains whitespace"
    } else if namespace.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(());
    };
    Err(RedisError::InvalidNamespace {
        namespace: namespace.to_owned(),
        reason,
    })
}

/// What the limiter and the guard share: the connection, the namespace, the deadline.
#[derive(Clone)]
pub(crate) struct Connection {
    live: Arc<Live>,
    namespace: Arc<str>,
    response_timeout: Duration,
}

/// Decisions in a row that got no answer before the connection is replaced.
const REPLACE_AFTER_TIMEOUTS: u32 = 3;

/// The connection in use, and what it takes to replace it.
///
/// The manager re-establishes a connection that fails, but not one that stops
/// answering: a peer gone without a reset (a failover behind a virtual IP, a dropped
/// NAT entry) leaves a socket that takes writes and never replies, and every decision
/// would time out until TCP gives up, hours later. So after
/// [`REPLACE_AFTER_TIMEOUTS`] timeouts in a row a fresh manager is connected in the
/// background and swapped in.
struct Live {
    manager: RwLock<ConnectionManager>,
    client: redis::Client,
    config: ConnectionManagerConfig,
    connect_timeout: Duration,
    timeouts_in_a_row: AtomicU32,
    replacing: AtomicBool,
}

impl Live {
    fn manager(&self) -> ConnectionManager {
        self.manager
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn answered(&self) {
        if self.timeouts_in_a_row.load(Ordering::Relaxed) != 0 {
            self.timeouts_in_a_row.store(0, Ordering::Relaxed);
        }
    }

    fn timed_out(self: &Arc<Self>) {
        let in_a_row = self.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if in_a_row < REPLACE_AFTER_TIMEOUTS || self.replacing.swap(true, Ordering::AcqRel) {
            return;
        }
        let live = Arc::clone(self);
        tokio::spawn(async move {
            let fresh = tokio::time::timeout(
                live.connect_timeout,
                ConnectionManager::new_with_config(live.client.clone(), live.config.clone()),
            )
            .await;
            match fresh {
                Ok(Ok(manager)) => {
                    *live.manager.write().unwrap_or_else(PoisonError::into_inner) = manager;
                    live.timeouts_in_a_row.store(0, Ordering::Relaxed);
                    tracing::warn!(
                        target: "keyward",
                        timeouts = in_a_row,
                        "redis stopped answering; replaced the connection"
                    );
                }
                Ok(Err(e)) => {
                    tracing::warn!(target: "keyward", error = %e, "redis stopped answering and a new connection failed");
                }
                Err(_) => {
                    tracing::warn!(target: "keyward", "redis stopped answering and a new connection timed out");
                }
            }
            live.replacing.store(false, Ordering::Release);
        });
    }
}

impl Connection {
    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `<namespace>:<kind>:<id>`.
    pub(crate) fn key(&self, kind: &str, id: impl fmt::Display) -> String {
        format!("{}:{kind}:{id}", self.namespace)
    }

    /// Runs one script (EVALSHA, loading it on `NOSCRIPT`) within the response timeout,
    /// including any wait for a reconnection in progress.
    ///
    /// A decision that times out after Redis ran it may have been counted; it is
    /// reported as unavailable all the same.
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, LimitError> {
        let mut manager = self.live.manager();
        match tokio::time::timeout(self.response_timeout, invocation.invoke_async(&mut manager))
            .await
        {
            Ok(Ok(value)) => {
                self.live.answered();
                Ok(value)
            }
            Ok(Err(e)) if e.is_timeout() => {
                self.live.timed_out();
                Err(LimitError::Unavailable(format!("redis: {e}")))
            }
            Ok(Err(e)) => Err(LimitError::Unavailable(format!("redis: {e}"))),
            Err(_) => {
                self.live.timed_out();
                Err(LimitError::Unavailable(format!(
                    "redis: no answer within {:?}",
                    self.response_timeout
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_validated() {
        for ok in ["keyward", "app:prod", "a", "{tenant}-1"] {
            assert!(validate_namespace(ok).is_ok(), "{ok:?}");
        }
        for (bad, reason) in [
            ("", "it is empty"),
            ("a b", "it contains whitespace"),
            ("a\tb", "it contains whitespace"),
            ("a\u{a0}b", "it contains whitespace"),
            ("a\u{7}b", "it contains a control character"),
        ] {
            match validate_namespace(bad) {
                Err(RedisError::InvalidNamespace {
                    namespace,
                    reason: r,
                }) => {
                    assert_eq!(namespace, bad);
                    assert_eq!(r, reason);
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
