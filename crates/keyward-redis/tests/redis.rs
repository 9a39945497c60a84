//! The Redis limiter and guard against a real server on loopback, each test in its own
//! namespace. Skipped (with a printed line) when Redis is unreachable, unless
//! `KEYWARD_REQUIRE_SERVICES=1`.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use keyward_limit::{
    Decision, FailureGuard, GuardConfig, GuardDecision, MemoryRateLimiter, Quota, RateLimiter,
};
use keyward_redis::{RedisError, RedisLimits, RedisOptions};

fn url() -> String {
    std::env::var("KEYWARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn namespace(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("kw_test:{test}:{}:{nanos}", std::process::id())
}

/// A connection in a fresh namespace, or `None` after printing `skipped: …`.
async fn connect(test: &str) -> Option<RedisLimits> {
    match RedisLimits::connect(&url(), &namespace(test)).await {
        Ok(redis) => Some(redis),
        Err(e) => {
            let required = std::env::var("KEYWARD_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "Redis unreachable at {} ({e}) and KEYWARD_REQUIRE_SERVICES=1",
                url()
            );
            println!("skipped: Redis unreachable at {}: {e}", url());
            None
        }
    }
}

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(url().as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn sixty_pass_and_the_sixty_first_is_limited() {
    let Some(redis) = connect("sixty").await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let quota = Quota::per_minute(60);
    for n in 0..60u32 {
        let decision = limiter.check("key_1", quota).await.unwrap();
        assert!(decision.is_allowed(), "request {n}: {decision:?}");
        // Requests this close together leave 59, 58, ... (allowing for server time
        // passing between them, which can only refill).
        assert!(decision.remaining() >= 59 - n, "request {n}: {decision:?}");
    }
    let limited = limiter.check("key_1", quota).await.unwrap();
    assert!(!limited.is_allowed());
    assert_eq!(limited.retry_after_secs(), Some(1));
    assert_eq!(limited.limit(), 60);
    // Another key has its own budget.
    assert!(limiter.check("key_2", quota).await.unwrap().is_allowed());
}

#[tokio::test]
async fn two_connections_share_one_budget() {
    let Some(redis) = connect("shared").await else {
        return;
    };
    let other = RedisLimits::connect(&url(), redis.namespace())
        .await
        .unwrap();
    let (a, b) = (redis.rate_limiter(), other.rate_limiter());
    let quota = Quota::per_minute(60);
    for _ in 0..30 {
        assert!(a.check("k", quota).await.unwrap().is_allowed());
        assert!(b.check("k", quota).await.unwrap().is_allowed());
    }
    assert!(!a.check("k", quota).await.unwrap().is_allowed());
    assert!(!b.check("k", quota).await.unwrap().is_allowed());
}

#[tokio::test]
async fn a_per_key_quota_and_refill_on_server_time() {
    let Some(redis) = connect("override").await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let quota = Quota::new(2, Duration::from_millis(400)).unwrap();
    assert!(limiter.check("k", quota).await.unwrap().is_allowed());
    assert!(limiter.check("k", quota).await.unwrap().is_allowed());
    assert!(!limiter.check("k", quota).await.unwrap().is_allowed());
    // One emission interval (200 ms) later one more request fits.
    let start = Instant::now();
    while !limiter.check("k", quota).await.unwrap().is_allowed() {
        assert!(start.elapsed() < Duration::from_secs(2), "no refill");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_key_written_expires() {
    let Some(redis) = connect("ttl").await else {
        return;
    };
    redis
        .rate_limiter()
        .check("k", Quota::per_minute(60))
        .await
        .unwrap();
    redis
        .failure_guard(GuardConfig::default())
        .record_failure(ip("192.0.2.9"))
        .await
        .unwrap();
    let mut conn = raw().await;
    for key in [
        format!("{}:rl:k", redis.namespace()),
        format!("{}:fg:192.0.2.9", redis.namespace()),
    ] {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= 60_000, "{key}: PTTL {ttl}");
    }
    // A full bucket after one request of 60/min: the TTL is one emission interval.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{}:rl:k", redis.namespace()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl <= 1_000, "rl TTL {ttl}");
}

#[tokio::test]
async fn answers_match_the_memory_limiter() {
    let Some(redis) = connect("memory").await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let memory = MemoryRateLimiter::new();
    let quota = Quota::per_hour(5);
    for n in 0..7 {
        let from_redis = limiter.check("k", quota).await.unwrap();
        let from_memory = memory.check("k", quota).await.unwrap();
        // Same decision; reset may differ by the time that passed between the two.
        assert_eq!(
            from_redis.is_allowed(),
            from_memory.is_allowed(),
            "request {n}"
        );
        assert_eq!(
            from_redis.remaining(),
            from_memory.remaining(),
            "request {n}"
        );
        assert_eq!(
            from_redis.retry_after_secs(),
            from_memory.retry_after_secs(),
            "request {n}"
        );
        assert!(from_redis.reset().abs_diff(from_memory.reset()) < Duration::from_secs(1));
    }
    assert!(matches!(
        limiter.check("k", quota).await.unwrap(),
        Decision::Limited {
            retry_after: 720,
            ..
        }
    ));
}

#[tokio::test]
async fn ten_failures_lock_an_address_out_and_only_that_one() {
    let Some(redis) = connect("guard").await else {
        return;
    };
    let guard = redis.failure_guard(GuardConfig::default());
    let attacker = ip("203.0.113.7");
    for n in 1..10 {
        assert_eq!(
            guard.record_failure(attacker).await.unwrap(),
            GuardDecision::Open,
            "failure {n}"
        );
    }
    assert_eq!(guard.check(attacker).await.unwrap(), GuardDecision::Open);
    assert_eq!(
        guard.record_failure(attacker).await.unwrap(),
        GuardDecision::Locked { retry_after: 60 }
    );
    let locked = guard.check(attacker).await.unwrap();
    assert!(
        matches!(locked, GuardDecision::Locked { retry_after } if (59..=60).contains(&retry_after))
    );
    assert_eq!(
        guard.check(ip("203.0.113.8")).await.unwrap(),
        GuardDecision::Open
    );
}

#[tokio::test]
async fn ipv6_counts_by_slash_64_across_instances() {
    let Some(redis) = connect("ipv6").await else {
        return;
    };
    let other = RedisLimits::connect(&url(), redis.namespace())
        .await
        .unwrap();
    let config = GuardConfig::default();
    let (a, b) = (redis.failure_guard(config), other.failure_guard(config));
    for n in 0..10u16 {
        // Ten different addresses of one /64, alternating instances.
        let address: IpAddr = format!("2001:db8:1:2::{:x}", n + 1).parse().unwrap();
        let guard = if n % 2 == 0 { &a } else { &b };
        guard.record_failure(address).await.unwrap();
    }
    assert!(a.check(ip("2001:db8:1:2::ffff")).await.unwrap().is_locked());
    assert!(
        b.check(ip("2001:db8:1:2:aaaa::1"))
            .await
            .unwrap()
            .is_locked()
    );
    assert!(!a.check(ip("2001:db8:1:3::1")).await.unwrap().is_locked());
}

#[tokio::test]
async fn the_lockout_ends_and_the_window_slides() {
    let Some(redis) = connect("ends").await else {
        return;
    };
    let config =
        GuardConfig::new(2, Duration::from_millis(300), Duration::from_millis(300)).unwrap();
    let guard = redis.failure_guard(config);
    let client = ip("198.51.100.1");
    assert!(!guard.record_failure(client).await.unwrap().is_locked());
    assert!(guard.record_failure(client).await.unwrap().is_locked());
    let start = Instant::now();
    while guard.check(client).await.unwrap().is_locked() {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "lockout never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A failure after the window has closed starts a new window.
    assert!(!guard.record_failure(client).await.unwrap().is_locked());
}

#[tokio::test]
async fn bad_setup_is_a_typed_error_and_an_outage_is_unavailable() {
    assert!(matches!(
        RedisLimits::connect("http://127.0.0.1:6379", "ns").await,
        Err(RedisError::InvalidUrl(_))
    ));
    assert!(matches!(
        RedisLimits::connect(&url(), "has space").await,
        Err(RedisError::InvalidNamespace { .. })
    ));
    let start = Instant::now();
    let unreachable = RedisLimits::connect_with(
        "redis://127.0.0.1:1",
        "ns",
        RedisOptions::new().with_connection_timeout(Duration::from_millis(500)),
    )
    .await;
    assert!(
        matches!(
            unreachable,
            Err(RedisError::Connect(_) | RedisError::ConnectTimeout(_))
        ),
        "{unreachable:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    let password = RedisLimits::connect("redis://:hunter2@127.0.0.1:1", "ns")
        .await
        .unwrap_err();
    assert!(!password.to_string().contains("hunter2"), "{password}");
}
