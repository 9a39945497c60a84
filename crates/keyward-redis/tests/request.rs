//! keyward on Redis limits given as one backend (`RedisLimits::request_limits`): a key
//! verified from the cache costs one command to Redis, and the answers are those of the
//! separate limiter and guard. Commands are counted by a proxy between keyward and
//! Redis that reads the RESP requests passing through. Skipped (with a printed line)
//! when Redis is unreachable, unless `KEYWARD_REQUIRE_SERVICES=1`.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use keyward::scope::Requirement;
use keyward::store::Tenant;
use keyward::{AuthError, Credential, KeywardBuilder, MintRequest, Principal};
use keyward_limit::{Budgets, GuardConfig, LimitScope, Quota, RateLimiter};
use keyward_redis::{RedisLimits, RedisOptions};
use keyward_testing::fault_proxy::FaultProxy;
use keyward_testing::rig::{Rig, ip};
use keyward_testing::services;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use common::namespace;

/// The test Redis's TCP address, or `None` after printing `skipped: …`.
async fn upstream(test: &str) -> Option<SocketAddr> {
    let url = services::redis_url();
    let direct = RedisLimits::connect(&url, &namespace(test)).await;
    services::reachable_or_skip("Redis", &url, direct)?;
    let client = redis::Client::open(url.as_str()).unwrap();
    match client.get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(host, port) => tokio::net::lookup_host((host.as_str(), *port))
            .await
            .unwrap()
            .next(),
        _ => {
            println!("skipped: these tests need a TCP Redis URL, not {url}");
            None
        }
    }
}

/// A TCP proxy to Redis counting the commands clients send through it.
struct CountingProxy {
    addr: SocketAddr,
    commands: Arc<AtomicUsize>,
}

impl CountingProxy {
    async fn start(upstream: SocketAddr) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let commands = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&commands);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(upstream).await.unwrap();
                tokio::spawn(relay(client, server, Arc::clone(&counter)));
            }
        });
        CountingProxy { addr, commands }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    fn commands(&self) -> usize {
        self.commands.load(Ordering::SeqCst)
    }
}

async fn relay(client: TcpStream, server: TcpStream, commands: Arc<AtomicUsize>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    let mut pending = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match client_read.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&chunk[..n]);
        // Counted before forwarding: a reply never arrives before its command is counted.
        while let Some(len) = command_len(&pending) {
            commands.fetch_add(1, Ordering::SeqCst);
            pending.drain(..len);
        }
        if server_write.write_all(&chunk[..n]).await.is_err() {
            return;
        }
    }
}

/// The length of the RESP command (`*<n>` then `n` bulk strings) at the start of `buf`,
/// once all of it has arrived.
fn command_len(buf: &[u8]) -> Option<usize> {
    fn line(buf: &[u8], at: usize) -> Option<(usize, usize)> {
        let end = at + buf.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        let value = std::str::from_utf8(&buf[at + 1..end]).ok()?.parse().ok()?;
        Some((value, end + 2))
    }
    assert_eq!(
        buf.first().copied().unwrap_or(b'*'),
        b'*',
        "not a RESP array"
    );
    let (parts, mut at) = line(buf, 0)?;
    for _ in 0..parts {
        let (len, start) = line(buf, at)?;
        at = start + len + 2;
        if at > buf.len() {
            return None;
        }
    }
    Some(at)
}

#[test]
fn the_counting_proxy_reads_whole_commands() {
    let get = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    assert_eq!(command_len(get), Some(get.len()));
    assert_eq!(command_len(&get[..get.len() - 1]), None);
    let two = [&get[..], &get[..]].concat();
    assert_eq!(command_len(&two), Some(get.len()));
}

async fn auth(rig: &Rig, key: &str, from: IpAddr) -> Result<Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), from)
        .await
}

/// keyward on `redis` given as one backend.
fn together(redis: &RedisLimits) -> impl FnOnce(KeywardBuilder) -> KeywardBuilder {
    let limits = redis.request_limits(GuardConfig::default());
    move |b| b.request_limits(limits)
}

/// The commands `n` authentications of `key` cost, once its first (cold) ones are done.
async fn commands_per(rig: &Rig, proxy: &CountingProxy, key: &str, n: usize) -> usize {
    // Cold, then warm: the scripts are loaded and the key is cached.
    for _ in 0..2 {
        auth(rig, key, ip("192.0.2.1")).await.unwrap();
    }
    let before = proxy.commands();
    for _ in 0..n {
        let principal = auth(rig, key, ip("192.0.2.1")).await.unwrap();
        assert!(principal.rate_limit().is_some());
    }
    proxy.commands() - before
}

#[tokio::test]
async fn a_cached_request_is_one_round_trip() {
    let Some(upstream) = upstream("one_trip").await else {
        return;
    };
    let proxy = CountingProxy::start(upstream).await;
    let redis = RedisLimits::connect(&proxy.url(), &namespace("one_trip"))
        .await
        .unwrap();
    let rig = Rig::with(together(&redis));
    let key = rig.mint(MintRequest::new("a", "u_1")).await;
    assert_eq!(commands_per(&rig, &proxy, key.key.expose(), 20).await, 20);

    // The same backends given separately: a lockout check and a rate decision each.
    let rig = Rig::with(|b| {
        b.rate_limiter(redis.rate_limiter())
            .failure_guard(redis.failure_guard(GuardConfig::default()))
    });
    let key = rig.mint(MintRequest::new("b", "u_1")).await;
    assert_eq!(commands_per(&rig, &proxy, key.key.expose(), 20).await, 40);

    // Asking for them separately after `request_limits` goes back to two calls.
    let limits = redis.request_limits(GuardConfig::default());
    let rig = Rig::with(|b| b.request_limits(limits).rate_limiter(redis.rate_limiter()));
    let key = rig.mint(MintRequest::new("c", "u_1")).await;
    assert_eq!(commands_per(&rig, &proxy, key.key.expose(), 5).await, 10);
}

#[tokio::test]
async fn owner_and_tenant_budgets_cost_no_extra_round_trip() {
    let Some(upstream) = upstream("shared").await else {
        return;
    };
    let proxy = CountingProxy::start(upstream).await;
    let redis = RedisLimits::connect(&proxy.url(), &namespace("shared"))
        .await
        .unwrap();
    let configure = together(&redis);
    let rig = Rig::with(|b| {
        configure(b)
            .owner_quota(Quota::per_minute(30))
            .tenant_quota(Quota::per_minute(100))
    });
    let acme = || Tenant::new("acme", "search");
    let a = rig
        .mint(MintRequest::new("a", "alice").tenant(acme()))
        .await;
    let b = rig
        .mint(MintRequest::new("b", "alice").tenant(acme()))
        .await;
    // Each cached request: one script for the lockout and all three budgets.
    assert_eq!(commands_per(&rig, &proxy, a.key.expose(), 10).await, 10);
    // The two keys share alice's 30 a minute: 12 spent by `a` (two cold), so `b`
    // gets 18, spending three budgets each time.
    let mut allowed = 0;
    let before = proxy.commands();
    let refusal = loop {
        match auth(&rig, b.key.expose(), ip("192.0.2.1")).await {
            Ok(p) => {
                allowed += 1;
                assert_eq!(
                    p.rate_limit_budget().map(|d| d.scope),
                    Some(LimitScope::Owner)
                );
            }
            Err(e) => break e,
        }
        assert!(allowed <= 30, "the owner's budget never ran out");
    };
    assert_eq!(allowed, 18);
    assert!(
        matches!(
            refusal,
            AuthError::RateLimited {
                scope: LimitScope::Owner,
                limit: 30,
                ..
            }
        ),
        "{refusal:?}"
    );
    // One command per request, the refusal's included, except b's first, which was
    // cold: the lockout, the client's failure budget, then the budgets.
    assert_eq!(proxy.commands() - before, allowed + 1 + 2);
    // The refused request spent nothing of the tenant's budget: 30 of 100 are gone.
    let c = rig.mint(MintRequest::new("c", "bob").tenant(acme())).await;
    let p = auth(&rig, c.key.expose(), ip("192.0.2.1")).await.unwrap();
    let budget = p.rate_limit_budget().unwrap();
    assert_eq!(
        (budget.scope, budget.decision.remaining()),
        (LimitScope::Owner, 29)
    );
    let tenant = redis
        .rate_limiter()
        .check_budgets(&Budgets::key("probe", Quota::per_minute(100)).with_tenant(
            "acme",
            "search",
            Quota::per_minute(100),
        ))
        .await
        .unwrap();
    assert_eq!(tenant.scope, LimitScope::Tenant);
    assert!(
        (67..=68).contains(&tenant.decision.remaining()),
        "{tenant:?}"
    );
}

#[tokio::test]
async fn lockout_then_rate_limit_answer_as_before() {
    let Some(upstream) = upstream("answers").await else {
        return;
    };
    let proxy = CountingProxy::start(upstream).await;
    let redis = RedisLimits::connect(&proxy.url(), &namespace("answers"))
        .await
        .unwrap();
    let rig = Rig::with(together(&redis));
    let key = rig
        .mint(MintRequest::new("a", "u_1").rate_limit(3, Duration::from_secs(3600)))
        .await;
    let key = key.key.expose();
    let (locked, open) = (ip("192.0.2.10"), ip("192.0.2.11"));

    // One request from the address that will be locked, cached from then on.
    let first = auth(&rig, key, locked).await.unwrap();
    assert_eq!(first.rate_limit().map(|d| d.remaining()), Some(2));

    // Ten wrong keys from it: the tenth is still a 401, every later request a 429,
    // the valid key's included, decided in one command.
    let last = if key.ends_with('x') { "y" } else { "x" };
    let wrong = format!("{}{last}", &key[..key.len() - 1]);
    for n in 0..10 {
        let e = auth(&rig, &wrong, locked).await.unwrap_err();
        assert_eq!(e.code().status(), 401, "failure {n}: {e:?}");
    }
    let before = proxy.commands();
    let e = auth(&rig, key, locked).await.unwrap_err();
    assert_eq!(proxy.commands() - before, 1);
    assert!(
        matches!(e, AuthError::TooManyFailedAttempts { retry_after } if (59..=60).contains(&retry_after)),
        "{e:?}"
    );
    assert_eq!(
        (e.code().status(), e.code().as_str()),
        (429, "too_many_failed_attempts")
    );

    // The locked-out request spent nothing of the key's budget: two are left.
    for remaining in [1, 0] {
        let p = auth(&rig, key, open).await.unwrap();
        assert_eq!(p.rate_limit().map(|d| d.remaining()), Some(remaining));
    }
    let e = auth(&rig, key, open).await.unwrap_err();
    assert!(
        matches!(e, AuthError::RateLimited { limit: 3, .. }),
        "{e:?}"
    );
    assert_eq!(
        (e.code().status(), e.code().as_str()),
        (429, "rate_limited")
    );
    // Still locked out, and told so rather than about the rate limit.
    assert!(matches!(
        auth(&rig, key, locked).await,
        Err(AuthError::TooManyFailedAttempts { .. })
    ));
}

/// keyward on limits reached through a proxy the test can cut.
async fn through_fault_proxy(test: &str, fail_open: bool) -> Option<(FaultProxy, Rig, String)> {
    let proxy = FaultProxy::start(upstream(test).await?).await;
    let options = RedisOptions::new().with_response_timeout(Duration::from_millis(300));
    let redis = RedisLimits::connect_with(
        &proxy.url(&services::redis_url()),
        &namespace(test),
        options,
    )
    .await
    .unwrap();
    let configure = together(&redis);
    let rig = Rig::with(|b| {
        let b = configure(b);
        if fail_open {
            b.fail_open_on_limit_errors()
        } else {
            b
        }
    });
    let key = rig.mint(MintRequest::new("a", "u_1")).await;
    let key = key.key.expose().to_owned();
    auth(&rig, &key, ip("192.0.2.1")).await.unwrap();
    Some((proxy, rig, key))
}

#[tokio::test]
async fn an_outage_fails_closed_by_default() {
    let Some((proxy, rig, key)) = through_fault_proxy("closed", false).await else {
        return;
    };
    proxy.cut();
    let e = auth(&rig, &key, ip("192.0.2.1")).await.unwrap_err();
    assert!(matches!(e, AuthError::Unavailable { .. }), "{e:?}");
    assert_eq!(e.code().status(), 503);
}

#[tokio::test]
async fn an_outage_fails_open_when_asked_to() {
    let Some((proxy, rig, key)) = through_fault_proxy("open", true).await else {
        return;
    };
    proxy.cut();
    let p = auth(&rig, &key, ip("192.0.2.1")).await.unwrap();
    assert_eq!(p.rate_limit(), None, "let through unmetered");
}
