//! [`RedisRateLimiter`]: per-key GCRA on Redis, one script per decision.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use keyward_limit::{
    Budget, BudgetDecision, Budgets, Decision, LimitError, Quota, RateLimiter, Subject,
};
use redis::{Script, ScriptInvocation};

use crate::connection::Connection;

/// gcra.lua's text: the GCRA functions every script ends with.
pub(crate) const GCRA_LUA: &str = include_str!("scripts/gcra.lua");

/// The limiter's script: the request's budgets from KEYS[1] on.
static GCRA: LazyLock<Script> =
    LazyLock::new(|| Script::new(&[GCRA_LUA, "\nreturn gcra_budgets(1)\n"].concat()));

/// Per-key rate limits shared by every instance connected to one Redis and namespace:
/// one budget per key (and per owner and tenant, when those are limited), decided
/// atomically on the server's clock (so instance clocks do not matter), with the same
/// answers as [`keyward_limit::MemoryRateLimiter`].
///
/// [`check_budgets`](RateLimiter::check_budgets) is one script, all or nothing: each
/// budget is read first and spent only if all of them allow the request.
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
    /// `<namespace>:rl:<subject>`: `<namespace>:rl:<key id>`, `…:rl:owner:<owner>`,
    /// `…:rl:tenant:<team length>:<team>/<project>`.
    pub(crate) fn key(&self, subject: &Subject<'_>) -> String {
        self.conn.key("rl", subject)
    }

    /// The connection this limiter runs its scripts on.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Adds every budget's key and GCRA arguments to `invocation`, after any keys it
    /// already has.
    pub(crate) fn add_budgets(&self, invocation: &mut ScriptInvocation<'_>, budgets: &Budgets<'_>) {
        for budget in budgets.iter() {
            invocation.key(self.key(&budget.subject));
            gcra_args(invocation, budget.quota);
        }
    }
}

/// Adds the GCRA arguments of one budget under `quota` (gcra.lua's `ARGV` pair).
fn gcra_args(invocation: &mut ScriptInvocation<'_>, quota: Quota) {
    let t = quota.emission_interval().as_nanos();
    let capacity = t.saturating_mul(u128::from(quota.limit()));
    invocation.arg(t.to_string()).arg(capacity.to_string());
}

fn unexpected(reply: &[String]) -> LimitError {
    LimitError::Unavailable(format!("redis: unexpected answer {reply:?}"))
}

/// The decision for a debt gcra.lua answered.
fn decision_from_debt(quota: Quota, debt: &str) -> Result<Decision, LimitError> {
    let debt: u64 = debt
        .parse()
        .map_err(|_| LimitError::Unavailable(format!("redis: unexpected debt {debt:?}")))?;
    // The script and `from_debt` apply the same rule to the same debt; the decision is
    // recomputed here so that every backend shares one formula for the headers.
    Ok(Decision::from_debt(quota, Duration::from_nanos(debt)))
}

fn budget_decision(budget: Budget<'_>, debt: &str) -> Result<BudgetDecision, LimitError> {
    Ok(BudgetDecision {
        scope: budget.subject.scope(),
        quota: budget.quota,
        decision: decision_from_debt(budget.quota, debt)?,
    })
}

/// The decision gcra_budgets answered for `budgets` (`reply` without the lockout's
/// status, which the caller has looked at).
pub(crate) fn budgets_from_reply(
    budgets: &Budgets<'_>,
    reply: &[String],
) -> Result<BudgetDecision, LimitError> {
    match reply.first().map(String::as_str) {
        Some("1") if reply.len() == budgets.len() + 1 => {
            let mut decided = budgets.iter().zip(&reply[1..]);
            let (first, debt) = decided.next().ok_or_else(|| unexpected(reply))?;
            let mut binding = budget_decision(first, debt)?;
            for (budget, debt) in decided {
                let this = budget_decision(budget, debt)?;
                if this.decision.remaining() < binding.decision.remaining() {
                    binding = this;
                }
            }
            Ok(binding)
        }
        Some("0") if reply.len() == 3 => {
            let index: usize = reply[1].parse().map_err(|_| unexpected(reply))?;
            let budget = index
                .checked_sub(1)
                .and_then(|i| budgets.iter().nth(i))
                .ok_or_else(|| unexpected(reply))?;
            budget_decision(budget, &reply[2])
        }
        _ => Err(unexpected(reply)),
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        Ok(self
            .check_budgets(&Budgets::key(key, quota))
            .await?
            .decision)
    }

    async fn check_budgets(&self, budgets: &Budgets<'_>) -> Result<BudgetDecision, LimitError> {
        let mut invocation = GCRA.prepare_invoke();
        self.add_budgets(&mut invocation, budgets);
        let reply: Vec<String> = self.conn.run(&invocation).await?;
        budgets_from_reply(budgets, &reply)
    }
}
