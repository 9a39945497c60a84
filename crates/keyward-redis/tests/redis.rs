//! The Redis limiter and guard against a real server on loopback, each test in its own
//! namespace. Skipped (with a printed line) when Redis is unreachable, unless
//! `KEYWARD_REQUIRE_SERVICES=1`.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use keyward_limit::{
    Decision, FailureBudget, FailureGuard, GuardConfig, GuardDecision, LimitError,
    MemoryFailureGuard, MemoryRateLimiter, Quota, RateLimiter,
};
use keyward_redis::{RedisError, RedisLimits, RedisOptions};
use keyward_testing::fault_proxy::FaultProxy;
use keyward_testing::services;

use common::{connect, raw};

fn url() -> String {
    services::redis_url()
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

// ---------------------------------------------------------------------------------------
// Atomicity, lockout details, outages after connecting
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn concurrent_decisions_never_overspend() {
    let Some(redis) = connect("concurrent").await else {
        return;
    };
    let other = RedisLimits::connect(&url(), redis.namespace())
        .await
        .unwrap();
    // 50 per minute: one more every 1.2 s, far longer than the burst takes.
    let quota = Quota::per_minute(50);
    let limiters = [
        std::sync::Arc::new(redis.rate_limiter()),
        std::sync::Arc::new(other.rate_limiter()),
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200 {
        let limiter = std::sync::Arc::clone(&limiters[n % 2]);
        tasks.spawn(async move { limiter.check("hot", quota).await });
    }
    let mut allowed = 0;
    while let Some(result) = tasks.join_next().await {
        if result.unwrap().unwrap().is_allowed() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 50, "exactly the burst, across two connections");
}

#[tokio::test]
async fn failures_during_a_lockout_neither_extend_it_nor_count() {
    let Some(redis) = connect("no_extend").await else {
        return;
    };
    let lockout = Duration::from_millis(600);
    let guard = redis.failure_guard(GuardConfig::new(3, Duration::from_secs(30), lockout).unwrap());
    let client = ip("198.51.100.2");
    for _ in 0..2 {
        assert_eq!(
            guard.record_failure(client).await.unwrap(),
            GuardDecision::Open
        );
    }
    let locked_at = Instant::now();
    assert_eq!(
        guard.record_failure(client).await.unwrap(),
        GuardDecision::Locked { retry_after: 1 }
    );
    // The lockout key expires with the lockout, not with the (longer) window.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{}:fg:198.51.100.2", redis.namespace()))
        .query_async(&mut raw().await)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 600, "PTTL {ttl}");
    // Keep failing all through the lockout: it still ends on time.
    loop {
        let during = guard.record_failure(client).await.unwrap();
        if !during.is_locked() {
            break;
        }
        assert_eq!(during, GuardDecision::Locked { retry_after: 1 });
        assert!(
            locked_at.elapsed() < Duration::from_secs(3),
            "the lockout was extended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(locked_at.elapsed() >= Duration::from_millis(550));
    // The failure that found the address open was the first of a new window.
    assert_eq!(guard.check(client).await.unwrap(), GuardDecision::Open);
    assert_eq!(
        guard.record_failure(client).await.unwrap(),
        GuardDecision::Open
    );
    assert!(guard.record_failure(client).await.unwrap().is_locked());
}

#[tokio::test]
async fn a_window_that_closes_below_the_limit_is_forgotten() {
    let Some(redis) = connect("window").await else {
        return;
    };
    let config = GuardConfig::new(3, Duration::from_millis(300), Duration::from_secs(60)).unwrap();
    let guard = redis.failure_guard(config);
    let client = ip("198.51.100.3");
    assert_eq!(
        guard.record_failure(client).await.unwrap(),
        GuardDecision::Open
    );
    assert_eq!(
        guard.record_failure(client).await.unwrap(),
        GuardDecision::Open
    );
    // The window's key expires when the window closes.
    let key = format!("{}:fg:198.51.100.3", redis.namespace());
    let mut conn = raw().await;
    let start = Instant::now();
    loop {
        let exists: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if !exists {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "window never closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Two forgotten failures: three new ones are needed.
    assert_eq!(
        guard.record_failure(client).await.unwrap(),
        GuardDecision::Open
    );
    assert_eq!(
        guard.record_failure(client).await.unwrap(),
        GuardDecision::Open
    );
    assert!(guard.record_failure(client).await.unwrap().is_locked());
}

#[tokio::test]
async fn the_budget_counts_down_and_matches_memory() {
    let Some(redis) = connect("budget").await else {
        return;
    };
    let config = GuardConfig::default();
    let guard = redis.failure_guard(config);
    let memory = MemoryFailureGuard::new(config);
    let client = ip("198.51.100.4");
    for k in 0..10 {
        let expected = FailureBudget::Open {
            failures_left: 10 - k,
        };
        assert_eq!(guard.budget(client).await.unwrap(), expected, "after {k}");
        assert_eq!(memory.budget(client).await.unwrap(), expected, "after {k}");
        let (from_redis, from_memory) = (
            guard.record_failure(client).await.unwrap(),
            memory.record_failure(client).await.unwrap(),
        );
        assert_eq!(from_redis, from_memory, "failure {}", k + 1);
    }
    assert_eq!(
        memory.budget(client).await.unwrap(),
        FailureBudget::Locked { retry_after: 60 }
    );
    let locked = guard.budget(client).await.unwrap();
    assert!(
        matches!(locked, FailureBudget::Locked { retry_after } if (59..=60).contains(&retry_after)),
        "{locked:?}"
    );
    // Reading the budget counts nothing.
    let other = ip("2001:db8:7:7::1");
    for _ in 0..20 {
        assert_eq!(
            guard.budget(other).await.unwrap(),
            FailureBudget::Open { failures_left: 10 }
        );
    }
    guard.record_failure(other).await.unwrap();
    assert_eq!(
        guard.budget(ip("2001:db8:7:7:ffff::2")).await.unwrap(),
        FailureBudget::Open { failures_left: 9 },
        "the same /64"
    );
}

#[tokio::test]
async fn the_whole_budget_comes_back_when_the_window_or_the_lockout_ends() {
    let Some(redis) = connect("budget_ends").await else {
        return;
    };
    let config =
        GuardConfig::new(3, Duration::from_millis(300), Duration::from_millis(1_500)).unwrap();
    let guard = redis.failure_guard(config);
    let full = FailureBudget::Open { failures_left: 3 };

    // Two failures, then the window closes below the limit.
    let client = ip("198.51.100.5");
    guard.record_failure(client).await.unwrap();
    guard.record_failure(client).await.unwrap();
    assert_eq!(
        guard.budget(client).await.unwrap(),
        FailureBudget::Open { failures_left: 1 }
    );
    let start = Instant::now();
    while guard.budget(client).await.unwrap() != full {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "window never closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(start.elapsed() < Duration::from_millis(400));

    // A lockout of 1.5 s: Retry-After 2, then 1, then the whole budget.
    for _ in 0..3 {
        guard.record_failure(client).await.unwrap();
    }
    let locked_at = Instant::now();
    assert_eq!(
        guard.budget(client).await.unwrap(),
        FailureBudget::Locked { retry_after: 2 }
    );
    let mut seen_one = false;
    loop {
        match guard.budget(client).await.unwrap() {
            FailureBudget::Locked { retry_after: 2 } => assert!(!seen_one),
            FailureBudget::Locked { retry_after: 1 } => seen_one = true,
            budget => {
                assert_eq!(budget, full);
                break;
            }
        }
        assert!(
            locked_at.elapsed() < Duration::from_secs(4),
            "lockout never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen_one);
    assert!(locked_at.elapsed() >= Duration::from_millis(1_400));
}

/// The test Redis's TCP address (`None`, printed, for a Unix-socket URL).
async fn upstream() -> Option<std::net::SocketAddr> {
    let client = redis::Client::open(url().as_str()).unwrap();
    match client.get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(host, port) => tokio::net::lookup_host((host.as_str(), *port))
            .await
            .unwrap()
            .next(),
        _ => {
            println!(
                "skipped: the proxy tests need a TCP Redis URL, not {}",
                url()
            );
            None
        }
    }
}

/// Limits connected to the test Redis through a [`FaultProxy`] (`None`, printed, when
/// the tests cannot run here), under the namespace of `test`.
async fn through_proxy(test: &str, options: RedisOptions) -> Option<(FaultProxy, RedisLimits)> {
    let direct = connect(test).await?;
    let proxy = FaultProxy::start(upstream().await?).await;
    let redis = RedisLimits::connect_with(&proxy.url(&url()), direct.namespace(), options)
        .await
        .unwrap();
    Some((proxy, redis))
}

#[track_caller]
fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, LimitError>) {
    assert!(
        matches!(result, Err(LimitError::Unavailable(_))),
        "{result:?}"
    );
}

async fn until_ok<T>(limit: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(start.elapsed() < limit, "no recovery within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_outage_is_unavailable_quickly_and_recovery_needs_no_restart() {
    let options = RedisOptions::new()
        .with_response_timeout(Duration::from_millis(300))
        .with_max_reconnect_delay(Duration::from_millis(200));
    let Some((proxy, redis)) = through_proxy("outage", options).await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let guard = redis.failure_guard(GuardConfig::default());
    // One request per minute refills: the budget must outlive the outage.
    let quota = Quota::per_hour(60);
    assert!(limiter.check("k", quota).await.unwrap().is_allowed());

    // Redis goes away: every decision fails fast and typed; none hangs or panics.
    proxy.cut();
    for _ in 0..5 {
        let start = Instant::now();
        assert_unavailable(limiter.check("k", quota).await);
        assert_unavailable(guard.check(ip("192.0.2.50")).await);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    // Redis is back: the same limiter and guard work again by themselves.
    proxy.restore();
    let decision = until_ok(Duration::from_secs(10), async || {
        limiter.check("k", quota).await.ok()
    })
    .await;
    assert!(decision.is_allowed());
    assert_eq!(decision.remaining(), 58, "the budget outlived the outage");
    assert_eq!(
        guard.check(ip("192.0.2.50")).await.unwrap(),
        GuardDecision::Open
    );
}

#[tokio::test]
async fn a_hanging_redis_is_unavailable_within_the_response_timeout() {
    let options = RedisOptions::new().with_response_timeout(Duration::from_millis(300));
    let Some((proxy, redis)) = through_proxy("hang", options).await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let guard = redis.failure_guard(GuardConfig::default());
    let quota = Quota::per_minute(60);
    assert!(limiter.check("k", quota).await.unwrap().is_allowed());

    proxy.stall(true);
    let start = Instant::now();
    assert_unavailable(limiter.check("k", quota).await);
    assert_unavailable(guard.record_failure(ip("192.0.2.60")).await);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(2),
        "two decisions of at most 300 ms each took {elapsed:?}"
    );

    proxy.stall(false);
    let decision = until_ok(Duration::from_secs(10), async || {
        limiter.check("k", quota).await.ok()
    })
    .await;
    assert!(decision.is_allowed());
}

#[tokio::test]
async fn a_connection_that_stops_answering_is_replaced() {
    let options = RedisOptions::new().with_response_timeout(Duration::from_millis(200));
    let Some((proxy, redis)) = through_proxy("frozen", options).await else {
        return;
    };
    let limiter = redis.rate_limiter();
    let quota = Quota::per_hour(60);
    assert!(limiter.check("k", quota).await.unwrap().is_allowed());

    // The open connection goes silent for good; Redis itself is fine.
    proxy.freeze_open_connections();
    for _ in 0..3 {
        assert_unavailable(limiter.check("k", quota).await);
    }
    // Three timeouts in a row: a new connection answers, with the same budget.
    let decision = until_ok(Duration::from_secs(10), async || {
        limiter.check("k", quota).await.ok()
    })
    .await;
    assert!(decision.is_allowed());
    assert!(decision.remaining() <= 58, "{decision:?}");
}
