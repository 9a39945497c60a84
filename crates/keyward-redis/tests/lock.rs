//! `FailureGuard::lock` on Redis: one call locks an address out at once, for every
//! instance sharing the namespace. Skipped (with a printed line) when Redis is
//! unreachable, unless `KEYWARD_REQUIRE_SERVICES=1`.

mod common;

use std::net::IpAddr;

use keyward_limit::{FailureGuard, GuardConfig, GuardDecision};
use keyward_redis::RedisLimits;
use keyward_testing::services;

use common::namespace;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn locked_for_the_lockout(decision: GuardDecision) -> bool {
    matches!(decision, GuardDecision::Locked { retry_after } if (59..=60).contains(&retry_after))
}

#[tokio::test]
async fn one_lock_locks_an_address_out_everywhere_and_only_that_one() {
    let url = services::redis_url();
    let connected = RedisLimits::connect(&url, &namespace("lock")).await;
    let Some(redis) = services::reachable_or_skip("Redis", &url, connected) else {
        return;
    };
    let other = RedisLimits::connect(&url, redis.namespace()).await.unwrap();
    let config = GuardConfig::default();
    let (a, b) = (redis.failure_guard(config), other.failure_guard(config));

    // An address that never failed: locked by one call.
    let fresh = ip("203.0.113.7");
    assert!(locked_for_the_lockout(a.lock(fresh).await.unwrap()));
    assert!(locked_for_the_lockout(b.check(fresh).await.unwrap()));
    // An address with failures in its window: locked too.
    let failing = ip("203.0.113.8");
    b.record_failure(failing).await.unwrap();
    assert!(locked_for_the_lockout(b.lock(failing).await.unwrap()));
    assert!(a.check(failing).await.unwrap().is_locked());
    // Nobody else.
    assert_eq!(
        a.check(ip("203.0.113.9")).await.unwrap(),
        GuardDecision::Open
    );
    // Through the combined backend as well.
    let both = redis.request_limits(config);
    let third = ip("2001:db8:1:2::1");
    assert!(locked_for_the_lockout(both.lock(third).await.unwrap()));
    assert!(
        b.check(ip("2001:db8:1:2::ff")).await.unwrap().is_locked(),
        "its /64"
    );
}
