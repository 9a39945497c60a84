//! The scale-out suite: example servers sharing one PostgreSQL and one Redis behave as
//! one (revocation reaches every instance, one budget per key, one lockout per IP), and
//! survive both services going away and coming back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::{Response, request, with_key};
use crate::fault_proxy::FaultProxy;
use crate::server::ServerProcess;
use crate::services::{self, unique_name};

/// PostgreSQL and Redis as the tests reach them.
#[derive(Debug, Clone)]
pub struct Services {
    /// `KEYWARD_TEST_DATABASE_URL`, or the loopback default.
    pub database_url: String,
    /// `KEYWARD_TEST_REDIS_URL`, or the loopback default.
    pub redis_url: String,
}

impl Services {
    /// The test services ([`services::database_url`], [`services::redis_url`]), or `None`
    /// (after printing `skipped: …`) when either is unreachable, unless
    /// `KEYWARD_REQUIRE_SERVICES=1`, which makes that a failure.
    ///
    /// # Panics
    ///
    /// When a service is unreachable and `KEYWARD_REQUIRE_SERVICES=1`.
    pub fn reachable() -> Option<Services> {
        let services = Services {
            database_url: services::database_url(),
            redis_url: services::redis_url(),
        };
        for (name, url) in [
            ("PostgreSQL", &services.database_url),
            ("Redis", &services.redis_url),
        ] {
            services::reachable_or_skip(name, url, services::tcp_probe(url))?;
        }
        Some(services)
    }

    /// The PostgreSQL server's address.
    ///
    /// # Panics
    ///
    /// When the URL has no host.
    pub fn database_addr(&self) -> SocketAddr {
        services::socket_addr(&self.database_url).expect("database host")
    }

    /// The Redis server's address.
    ///
    /// # Panics
    ///
    /// When the URL has no host.
    pub fn redis_addr(&self) -> SocketAddr {
        services::socket_addr(&self.redis_url).expect("redis host")
    }
}

fn args<'a>(
    database_url: &'a str,
    schema: &'a str,
    redis_url: &'a str,
    namespace: &'a str,
) -> Vec<&'a str> {
    vec![
        "--database-url",
        database_url,
        "--database-schema",
        schema,
        "--redis-url",
        redis_url,
        "--redis-namespace",
        namespace,
        "--rate-limit",
        "60/min",
        // The lockout part speaks for other clients through X-Forwarded-For.
        "--trusted-proxy",
        "127.0.0.1/32",
    ]
}

async fn create_key(server: &ServerProcess, admin: &str, name: &str) -> (String, String) {
    let created = with_key(
        server.addr,
        "POST",
        "/v1/api_keys",
        admin,
        &json!({"name": name}).to_string(),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let body = created.json();
    (
        body["id"].as_str().expect("id").to_owned(),
        body["key"].as_str().expect("key").to_owned(),
    )
}

/// Polls `GET /v1/me` on `server` with `key` until `done` holds, for at most `limit`;
/// returns how long it took.
async fn until(
    server: &ServerProcess,
    key: &str,
    limit: Duration,
    done: impl Fn(&Response) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let answer = with_key(server.addr, "GET", "/v1/me", key, "").await;
        if done(&answer) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "not within {limit:?}; last answer {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Two instances of `binary` on one PostgreSQL schema and one Redis namespace: a key
/// revoked or rolled through A is refused by B within a second; 61 requests of one key
/// spread over both get exactly one 429; ten failures spread over both lock the IP out
/// on both. Returns the measured revocation propagation times.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn two_instances(binary: &str, services: &Services) -> Vec<Duration> {
    let schema = unique_name("kw_e2e");
    let args = args(
        &services.database_url,
        &schema,
        &services.redis_url,
        &schema,
    );
    let a = ServerProcess::start(binary, &args).await;
    let b = ServerProcess::start(binary, &args).await;
    let admin = a
        .bootstrap_key
        .clone()
        .expect("the first instance bootstraps");
    assert_eq!(b.bootstrap_key, None, "the second instance finds the keys");

    // Revocation: B has the key cached, A revokes it.
    let mut propagation = Vec::new();
    for round in 0..3 {
        let (id, key) = create_key(&a, &admin, &format!("revoked {round}")).await;
        assert_eq!(
            with_key(b.addr, "GET", "/v1/me", &key, "").await.status,
            200
        );
        let revoked = with_key(a.addr, "DELETE", &format!("/v1/api_keys/{id}"), &admin, "").await;
        assert_eq!(revoked.status, 204, "{revoked:?}");
        propagation.push(
            until(&b, &key, Duration::from_secs(1), |r| {
                r.status == 401 && r.error() == "key_revoked"
            })
            .await,
        );
    }
    // A roll without grace through A expires the old key on B.
    let (id, key) = create_key(&a, &admin, "rolled").await;
    assert_eq!(
        with_key(b.addr, "GET", "/v1/me", &key, "").await.status,
        200
    );
    let rolled = with_key(
        a.addr,
        "POST",
        &format!("/v1/api_keys/{id}/roll"),
        &admin,
        "",
    )
    .await;
    assert_eq!(rolled.status, 201, "{rolled:?}");
    propagation.push(
        until(&b, &key, Duration::from_secs(1), |r| {
            r.error() == "key_expired"
        })
        .await,
    );

    // One budget: 61 requests alternating between the instances, exactly one 429.
    let (_, budget) = create_key(&a, &admin, "budget").await;
    let mut limited = Vec::new();
    for n in 0..61 {
        let server = if n % 2 == 0 { &a } else { &b };
        let answer = with_key(server.addr, "GET", "/v1/me", &budget, "").await;
        if answer.status == 429 {
            assert_eq!(answer.error(), "rate_limited");
            limited.push(n);
        } else {
            assert_eq!(answer.status, 200, "{answer:?}");
        }
    }
    assert_eq!(limited, [60], "only the 61st request is refused");

    // One lockout: ten failures from one client, five through each instance, lock that
    // client out on both; the proxy's own address is not locked.
    let client = [("x-forwarded-for", "203.0.113.7")];
    for n in 0..10 {
        let server = if n % 2 == 0 { &a } else { &b };
        let bearer = format!("Bearer sk_live_{n:0>50}");
        let wrong = request(
            server.addr,
            "GET",
            "/v1/me",
            &[client[0], ("authorization", &bearer)],
            "",
        )
        .await;
        assert_eq!(wrong.status, 401, "failure {n}: {wrong:?}");
    }
    let bearer = format!("Bearer {admin}");
    for server in [&a, &b] {
        let locked = request(
            server.addr,
            "GET",
            "/v1/me",
            &[client[0], ("authorization", &bearer)],
            "",
        )
        .await;
        assert_eq!(locked.status, 429, "{locked:?}");
        assert_eq!(locked.error(), "too_many_failed_attempts");
        assert_eq!(
            with_key(server.addr, "GET", "/v1/me", &admin, "")
                .await
                .status,
            200
        );
    }
    a.stop().await;
    b.stop().await;
    propagation
}

/// One instance of `binary` whose PostgreSQL and Redis connections run through
/// [`FaultProxy`]s: while PostgreSQL is away an uncached key is 503 `auth_unavailable`
/// with `Retry-After` (a cached one still works); while Redis is away requests are 503
/// (limits fail closed); both recover without a restart, and the invalidation listener
/// reconnects so revocations made elsewhere arrive again.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn outage(binary: &str, services: &Services) {
    let schema = unique_name("kw_fault");
    let pg = FaultProxy::start(services.database_addr()).await;
    let redis = FaultProxy::start(services.redis_addr()).await;
    let (pg_url, redis_url) = (
        pg.url(&services.database_url),
        redis.url(&services.redis_url),
    );
    let server = ServerProcess::start(binary, &args(&pg_url, &schema, &redis_url, &schema)).await;
    // A second instance straight to the services, to make changes the first must hear of.
    let direct = ServerProcess::start(
        binary,
        &args(
            &services.database_url,
            &schema,
            &services.redis_url,
            &schema,
        ),
    )
    .await;
    let admin = server.bootstrap_key.clone().expect("bootstrap key");
    assert_eq!(
        with_key(server.addr, "GET", "/v1/me", &admin, "")
            .await
            .status,
        200
    );
    let (uncached_id, uncached) = create_key(&server, &admin, "uncached").await;

    // PostgreSQL away: the cached key works, the uncached one is 503 with Retry-After.
    pg.cut();
    assert_eq!(
        with_key(server.addr, "GET", "/v1/me", &admin, "")
            .await
            .status,
        200
    );
    let refused = with_key(server.addr, "GET", "/v1/me", &uncached, "").await;
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.error(), "auth_unavailable");
    assert!(
        refused
            .header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1))
    );
    pg.restore();
    until(&server, &uncached, Duration::from_secs(15), |r| {
        r.status == 200
    })
    .await;

    // The listener came back (it dropped the cache on reconnect): a revocation made on
    // the other instance reaches this one again.
    assert_eq!(
        with_key(server.addr, "GET", "/v1/me", &uncached, "")
            .await
            .status,
        200
    );
    let revoked = with_key(
        direct.addr,
        "DELETE",
        &format!("/v1/api_keys/{uncached_id}"),
        &admin,
        "",
    )
    .await;
    assert_eq!(revoked.status, 204, "{revoked:?}");
    until(&server, &uncached, Duration::from_secs(15), |r| {
        r.error() == "key_revoked"
    })
    .await;

    // Redis away: limits fail closed, 503 with Retry-After; back without a restart.
    redis.cut();
    let refused = with_key(server.addr, "GET", "/v1/me", &admin, "").await;
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.error(), "auth_unavailable");
    assert!(refused.header("retry-after").is_some());
    redis.restore();
    until(&server, &admin, Duration::from_secs(15), |r| {
        r.status == 200
    })
    .await;
    server.stop().await;
    direct.stop().await;
}
