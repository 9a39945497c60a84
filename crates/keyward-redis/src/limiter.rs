//! [`RedisRateLimiter`]: per-key GCRA on Redis, one script per decision.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use keyward_limit::{Decision, LimitError, Quota, RateLimiter};
use redis::Script;

use crate::connection::Connection;

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/gcra.lua")));

/// Per-key rate limits shared by every instance connected to one Redis and namespace:
/// one budget per key, decided atomically on the server's clock (so instance clocks do
/// not matter), with the same answers as [`keyward_limit::MemoryRateLimiter`].
///
/// Made by [`RedisLimits::rate_limiter`](crate::RedisLimits::rate_limiter). When Redis
/// cannot answer within the response timeout, a decision is
/// [`LimitError::Unavailable`]: keyward then answers 503 unless the service opted into
/// `fail_open_on_limit_errors()`.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: Connection,
}

impl RedisRateLimiter {
    pub(crate) fn new(conn: Connection) -> Self {
        RedisRateLimiter { conn }
    }
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("namespace", &self.conn.namespace())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        let t = quota.emission_interval().as_nanos();
        let capacity = t.saturating_mul(u128::from(quota.limit()));
        let mut invocation = GCRA.prepare_invoke();
        invocation
            .key(self.conn.key("rl", key))
            .arg(t.to_string())
            .arg(capacity.to_string());
        let (_allowed, debt): (u8, String) = self.conn.run(&invocation).await?;
        let debt: u64 = debt
            .parse()
            .map_err(|_| LimitError::Unavailable(format!("redis: unexpected debt {debt:?}")))?;
        // The script and `from_debt` apply the same rule to the same debt; the decision
        // is recomputed here so that every backend shares one formula for the headers.
        Ok(Decision::from_debt(quota, Duration::from_nanos(debt)))
    }
}
