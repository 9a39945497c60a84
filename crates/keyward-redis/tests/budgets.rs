//! Owner-wide and tenant-wide budgets on Redis, each test in its own namespace: one
//! script decides all of a request's budgets, all or nothing, with the lockout when
//! asked through `RedisRequestLimits`. Skipped (with a printed line) when Redis is
//! unreachable, unless `KEYWARD_REQUIRE_SERVICES=1`.

mod common;

use std::net::IpAddr;

use keyward_limit::{
    Budgets, FailureGuard, GuardConfig, LimitScope, MemoryRateLimiter, Quota, RateLimiter,
    RequestDecision, RequestLimits,
};

use common::{connect, raw};

const KEY: Quota = Quota::per_minute(60);

#[tokio::test]
async fn keys_of_one_owner_share_its_budget_and_refusals_spend_nothing() {
    let Some(redis) = connect("owner").await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let owner = Quota::per_minute(3);
    for key in ["k1", "k2", "k3"] {
        let d = limiter
            .check_budgets(&Budgets::key(key, KEY).with_owner("alice", owner))
            .await
            .unwrap();
        assert!(d.is_allowed(), "{key}: {d:?}");
    }
    for _ in 0..5 {
        let refused = limiter
            .check_budgets(&Budgets::key("k4", KEY).with_owner("alice", owner))
            .await
            .unwrap();
        assert_eq!(refused.scope, LimitScope::Owner);
        assert_eq!(refused.quota, owner);
        assert_eq!(refused.decision.retry_after_secs(), Some(20));
    }
    // k4 spent nothing: its own key is untouched, so nothing of it was written.
    let mut conn = raw().await;
    let k4: Option<String> = redis::cmd("GET")
        .arg(format!("{}:rl:k4", redis.namespace()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(k4, None);
    // The owner's budget lives in its own namespace.
    let owner_tat: Option<String> = redis::cmd("GET")
        .arg(format!("{}:rl:owner:alice", redis.namespace()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(owner_tat.is_some());
    // Another owner has its own budget.
    assert!(
        limiter
            .check_budgets(&Budgets::key("k5", KEY).with_owner("bob", owner))
            .await
            .unwrap()
            .is_allowed()
    );
}

#[tokio::test]
async fn the_tenant_refuses_last_and_gives_back_key_and_owner() {
    let Some(redis) = connect("tenant").await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let five = Quota::per_minute(5);
    let all = Budgets::key("k1", five)
        .with_owner("alice", five)
        .with_tenant("acme", "search", Quota::per_minute(1));
    let first = limiter.check_budgets(&all).await.unwrap();
    assert_eq!(
        (first.scope, first.decision.remaining()),
        (LimitScope::Tenant, 0)
    );
    for _ in 0..5 {
        let refused = limiter.check_budgets(&all).await.unwrap();
        assert_eq!(refused.scope, LimitScope::Tenant);
        assert!(!refused.is_allowed());
    }
    // Key and owner spent only the first request: three more fit after this one.
    assert!(limiter.check("k1", five).await.unwrap().remaining() >= 3);
    let owner = Budgets::key("k9", KEY).with_owner("alice", five);
    let d = limiter.check_budgets(&owner).await.unwrap();
    assert_eq!(d.scope, LimitScope::Owner);
    assert!(d.decision.remaining() >= 3, "{d:?}");
}

#[tokio::test]
async fn answers_match_the_memory_limiter() {
    let Some(redis) = connect("budgets_memory").await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let memory = MemoryRateLimiter::new();
    let budgets = Budgets::key("k", Quota::per_hour(5))
        .with_owner("o", Quota::per_hour(3))
        .with_tenant("t", "p", Quota::per_hour(4));
    for n in 0..6 {
        let from_redis = limiter.check_budgets(&budgets).await.unwrap();
        let from_memory = memory.check_budgets(&budgets).await.unwrap();
        assert_eq!(from_redis.scope, from_memory.scope, "request {n}");
        assert_eq!(from_redis.quota, from_memory.quota, "request {n}");
        assert_eq!(
            from_redis.decision.remaining(),
            from_memory.decision.remaining(),
            "request {n}"
        );
        assert_eq!(
            from_redis.decision.retry_after_secs(),
            from_memory.decision.retry_after_secs(),
            "request {n}"
        );
    }
}

#[tokio::test]
async fn one_script_answers_the_lockout_and_every_budget() {
    let Some(redis) = connect("request_budgets").await else {
        return;
    };
    let both = redis.request_limits(GuardConfig::default());
    let ip: IpAddr = "192.0.2.9".parse().unwrap();
    let owner = Quota::per_minute(1);
    let budgets = Budgets::key("k1", KEY).with_owner("alice", owner);
    let first = both.check_request_budgets(ip, &budgets).await.unwrap();
    assert_eq!(
        first.rate().map(|d| (d.scope, d.is_allowed())),
        Some((LimitScope::Owner, true))
    );
    let refused = both.check_request_budgets(ip, &budgets).await.unwrap();
    assert_eq!(
        refused.rate().map(|d| (d.scope, d.is_allowed())),
        Some((LimitScope::Owner, false))
    );
    for _ in 0..10 {
        FailureGuard::record_failure(&both, ip).await.unwrap();
    }
    let locked = both.check_request_budgets(ip, &budgets).await.unwrap();
    assert!(matches!(locked, RequestDecision::Locked { retry_after } if retry_after >= 59));
    // Neither the refusal nor the lockout spent the key's budget: one request of 60.
    let key = RateLimiter::check(&both, "k1", KEY).await.unwrap();
    assert_eq!(key.remaining(), 58);
}
