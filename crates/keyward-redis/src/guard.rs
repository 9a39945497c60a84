//! [`RedisFailureGuard`]: per-client-IP lockout on Redis, one script per decision.

use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use async_trait::async_trait;
use keyward_limit::{FailureBudget, FailureGuard, GuardConfig, GuardDecision, IpGroup, LimitError};
use redis::Script;

use crate::connection::Connection;

static CHECK: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/guard_check.lua")));
static BUDGET: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/guard_budget.lua")));
static FAIL: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/guard_fail.lua")));

/// The per-IP lockout shared by every instance connected to one Redis and namespace:
/// [`GuardConfig::max_failures`] failures within [`GuardConfig::window`], counted across
/// all instances, lock the address (IPv6: its /64) out for [`GuardConfig::lockout`],
/// on the server's clock. The same answers as [`keyward_limit::MemoryFailureGuard`],
/// [`budget`](FailureGuard::budget) included: one read-only script answers the failures
/// left in the address's window, or its lockout. (Redis keeps every address on its
/// own: there is no table to fill, so no network ever counts for an address.)
///
/// Made by [`RedisLimits::failure_guard`](crate::RedisLimits::failure_guard).
#[derive(Clone)]
pub struct RedisFailureGuard {
    conn: Connection,
    config: GuardConfig,
}

impl RedisFailureGuard {
    pub(crate) fn new(conn: Connection, config: GuardConfig) -> Self {
        RedisFailureGuard { conn, config }
    }

    /// `<namespace>:fg:<ip group>`.
    pub(crate) fn key(&self, ip: IpAddr) -> String {
        self.conn.key("fg", IpGroup::of(ip))
    }
}

impl fmt::Debug for RedisFailureGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisFailureGuard")
            .field("namespace", &self.conn.namespace())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Microseconds left of a lockout (0: open) as a decision; `Retry-After` rounds up.
pub(crate) fn decision(micros_left: u64) -> GuardDecision {
    if micros_left == 0 {
        GuardDecision::Open
    } else {
        GuardDecision::Locked {
            retry_after: micros_left.div_ceil(1_000_000).max(1),
        }
    }
}

/// The budget script's answer: microseconds left of a lockout (0: open) and the failures
/// left while open.
fn budget_from_script(micros_left: u64, failures_left: u32) -> FailureBudget {
    match decision(micros_left) {
        GuardDecision::Locked { retry_after } => FailureBudget::Locked { retry_after },
        GuardDecision::Open => FailureBudget::Open {
            failures_left: failures_left.max(1),
        },
    }
}

/// Windows and lockouts longer than this (about 31 years) are cut to it: the script adds
/// them to the server's time in microseconds, which must stay exact in a Lua number (a
/// double, 53 bits) and printable as a 64-bit integer.
const MAX_MICROS: u128 = 1_000_000_000_000_000;

/// `d` in whole microseconds for the script: rounded up, so that a sub-microsecond
/// window or lockout is not zero, and at most [`MAX_MICROS`].
fn micros(d: std::time::Duration) -> String {
    d.as_nanos()
        .div_ceil(1_000)
        .clamp(1, MAX_MICROS)
        .to_string()
}

#[async_trait]
impl FailureGuard for RedisFailureGuard {
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        let mut invocation = CHECK.prepare_invoke();
        invocation.key(self.key(ip));
        Ok(decision(self.conn.run(&invocation).await?))
    }

    async fn budget(&self, ip: IpAddr) -> Result<FailureBudget, LimitError> {
        let mut invocation = BUDGET.prepare_invoke();
        invocation
            .key(self.key(ip))
            .arg(self.config.max_failures())
            .arg(micros(self.config.window()));
        let (micros_left, failures_left): (u64, u32) = self.conn.run(&invocation).await?;
        Ok(budget_from_script(micros_left, failures_left))
    }

    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        let mut invocation = FAIL.prepare_invoke();
        invocation
            .key(self.key(ip))
            .arg(self.config.max_failures())
            .arg(micros(self.config.window()))
            .arg(micros(self.config.lockout()));
        Ok(decision(self.conn.run(&invocation).await?))
    }

    /// The failure script with a limit of one failure: the address locks at once, in
    /// one round trip (an address already locked keeps its lockout, as a failure
    /// during a lockout does).
    async fn lock(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        let mut invocation = FAIL.prepare_invoke();
        invocation
            .key(self.key(ip))
            .arg(1)
            .arg(micros(self.config.window()))
            .arg(micros(self.config.lockout()));
        Ok(decision(self.conn.run(&invocation).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_lockouts_become_bounded_microseconds() {
        use std::time::Duration;
        assert_eq!(micros(Duration::from_secs(60)), "60000000");
        assert_eq!(micros(Duration::from_nanos(1)), "1");
        assert_eq!(micros(Duration::from_nanos(1_001)), "2");
        assert_eq!(micros(Duration::MAX), MAX_MICROS.to_string());
    }

    #[test]
    fn lockout_time_rounds_up_to_whole_seconds() {
        assert_eq!(decision(0), GuardDecision::Open);
        assert_eq!(decision(1), GuardDecision::Locked { retry_after: 1 });
        assert_eq!(
            decision(1_000_000),
            GuardDecision::Locked { retry_after: 1 }
        );
        assert_eq!(
            decision(59_000_001),
            GuardDecision::Locked { retry_after: 60 }
        );
    }

    #[test]
    fn a_budget_is_open_with_failures_left_or_locked() {
        assert_eq!(
            budget_from_script(0, 7),
            FailureBudget::Open { failures_left: 7 }
        );
        assert_eq!(
            budget_from_script(0, 0),
            FailureBudget::Open { failures_left: 1 }
        );
        assert_eq!(
            budget_from_script(1_500_000, 0),
            FailureBudget::Locked { retry_after: 2 }
        );
    }
}
