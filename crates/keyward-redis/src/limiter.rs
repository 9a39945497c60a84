//! [`RedisRateLimiter`]: per-key GCRA on Redis, one script per decision.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use keyward_limit::{Decision, LimitError, Quota, RateLimiter};
use redis::{Script, ScriptInvocation};

use crate::connection::Connection;

/// gcra.lua's text, which the combined script (request_lockout.lua) ends with too.
pub(crate) const GCRA_LUA: &str = include_str!("scripts/gcra.lua");

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA_LUA));

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

impl RedisRateLimiter {
    /// `<namespace>:rl:<key id>`.
    pub(crate) fn key(&self, key: &str) -> String {
        self.conn.key("rl", key)
    }

    /// The connection this limiter runs its scripts on.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Adds the GCRA script's arguments for `quota` (gcra.lua's `ARGV`).
pub(crate) fn gcra_args(invocation: &mut ScriptInvocation<'_>, quota: Quota) {
    let t = quota.emission_interval().as_nanos();
    let capacity = t.saturating_mul(u128::from(quota.limit()));
    invocation.arg(t.to_string()).arg(capacity.to_string());
}

/// The decision for the debt gcra.lua answered.
pub(crate) fn decision_from_debt(quota: Quota, debt: &str) -> Result<Decision, LimitError> {
    let debt: u64 = debt
        .parse()
        .map_err(|_| LimitError::Unavailable(format!("redis: unexpected debt {debt:?}")))?;
    // The script and `from_debt` apply the same rule to the same debt; the decision is
    // recomputed here so that every backend shares one formula for the headers.
    Ok(Decision::from_debt(quota, Duration::from_nanos(debt)))
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        let mut invocation = GCRA.prepare_invoke();
        invocation.key(self.key(key));
        gcra_args(&mut invocation, quota);
        let (_allowed, debt): (u8, String) = self.conn.run(&invocation).await?;
        decision_from_debt(quota, &debt)
    }
}
