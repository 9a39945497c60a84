//! Per-key rate limits and per-IP lockout, wired into the request path.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use common::{Rig, catalog, ip, mint, rig, rig_with};
use keyward::limit::{Decision, LimitError, LimitScope, Quota, RateLimiter};
use keyward::scope::Requirement;
use keyward::{AuthError, Credential, MintRequest};

async fn auth_from(rig: &Rig, key: &str, from: &str) -> Result<keyward::Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), ip(from))
        .await
}

#[tokio::test]
async fn sixty_per_minute_then_429_with_retry_after() {
    let rig = rig();
    let a = mint(&rig, MintRequest::new("a", "u_1")).await;
    let b = mint(&rig, MintRequest::new("b", "u_1")).await;
    for i in 0..60 {
        let p = auth_from(&rig, a.key.expose(), "192.0.2.1").await.unwrap();
        let d = p.rate_limit().unwrap();
        assert_eq!((d.limit(), d.remaining()), (60, 59 - i));
    }
    let e = auth_from(&rig, a.key.expose(), "192.0.2.1")
        .await
        .unwrap_err();
    // `reset` is when the bucket is full again: a minute after the burst.
    assert_eq!(
        e,
        AuthError::RateLimited {
            retry_after: 1,
            limit: 60,
            reset: 60,
            scope: LimitScope::Key,
            period: Duration::from_secs(60),
        }
    );
    assert_eq!(
        (e.code().status(), e.code().as_str()),
        (429, "rate_limited")
    );
    // Buckets are per key, not per IP.
    auth_from(&rig, b.key.expose(), "192.0.2.1").await.unwrap();
    rig.clock.advance(Duration::from_secs(1));
    auth_from(&rig, a.key.expose(), "192.0.2.1").await.unwrap();
    assert!(auth_from(&rig, a.key.expose(), "192.0.2.1").await.is_err());
    // 429s never lock anyone out.
    for _ in 0..20 {
        assert!(auth_from(&rig, a.key.expose(), "192.0.2.1").await.is_err());
    }
    auth_from(&rig, b.key.expose(), "192.0.2.1").await.unwrap();
}

#[tokio::test]
async fn a_key_record_can_override_the_default_quota() {
    let rig = rig();
    let k = mint(
        &rig,
        MintRequest::new("batch", "u_1").rate_limit(3, Duration::from_secs(10)),
    )
    .await;
    for _ in 0..3 {
        auth_from(&rig, k.key.expose(), "192.0.2.1").await.unwrap();
    }
    let e = auth_from(&rig, k.key.expose(), "192.0.2.1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AuthError::RateLimited {
                retry_after: 4,
                limit: 3,
                ..
            }
        ),
        "{e:?}"
    );
    let bad = rig
        .keyward
        .keys()
        .mint(MintRequest::new("x", "u_1").rate_limit(0, Duration::from_secs(1)))
        .await;
    assert!(matches!(bad, Err(keyward::ServiceError::InvalidRequest(_))));
}

#[tokio::test]
async fn ten_failures_lock_the_ip_out_even_for_a_valid_key() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("k", "u_1")).await;
    // The last character changed (to one it is not: a no-op "typo" would be the key).
    let key = k.key.expose();
    let other = if key.ends_with('0') { '1' } else { '0' };
    let typo = format!("{}{other}", &key[..key.len() - 1]);
    for _ in 0..10 {
        let e = auth_from(&rig, &typo, "198.51.100.7").await.unwrap_err();
        assert_eq!(
            e.code().as_str(),
            "invalid_key",
            "the 10th failure is still a 401"
        );
    }
    let gets = rig.store.gets.load(Ordering::SeqCst);
    let e = auth_from(&rig, k.key.expose(), "198.51.100.7")
        .await
        .unwrap_err();
    assert_eq!(e, AuthError::TooManyFailedAttempts { retry_after: 60 });
    assert_eq!(
        (e.code().status(), e.code().as_str()),
        (429, "too_many_failed_attempts")
    );
    assert_eq!(
        rig.store.gets.load(Ordering::SeqCst),
        gets,
        "a locked-out request touches no store"
    );
    // Another address is unaffected; the lockout ends after the cool-down.
    auth_from(&rig, k.key.expose(), "198.51.100.8")
        .await
        .unwrap();
    rig.clock.advance(Duration::from_secs(60));
    auth_from(&rig, k.key.expose(), "198.51.100.7")
        .await
        .unwrap();
}

#[tokio::test]
async fn ipv6_clients_count_by_slash_64_and_403s_do_not_count() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("k", "u_1")).await;
    let stranger = rig.keyward.format().mint().unwrap();
    for i in 0..10 {
        let from = format!("2001:db8:1:2::{i:x}");
        assert!(auth_from(&rig, stranger.expose(), &from).await.is_err());
    }
    let e = auth_from(&rig, k.key.expose(), "2001:db8:1:2::ffff")
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "too_many_failed_attempts");
    auth_from(&rig, k.key.expose(), "2001:db8:1:3::1")
        .await
        .unwrap();

    let gated = catalog().all_of(["kb:read"]).unwrap();
    for _ in 0..15 {
        let e = rig
            .keyward
            .authenticator()
            .authenticate(Credential::Key(k.key.expose()), &gated, ip("192.0.2.50"))
            .await
            .unwrap_err();
        assert_eq!(e.code().status(), 403);
    }
    auth_from(&rig, k.key.expose(), "192.0.2.50").await.unwrap();
}

struct BrokenLimiter;

#[async_trait]
impl RateLimiter for BrokenLimiter {
    async fn check(&self, _key: &str, _quota: Quota) -> Result<Decision, LimitError> {
        Err(LimitError::Unavailable("connection refused".into()))
    }
}

#[tokio::test]
async fn a_failed_limiter_refuses_by_default_and_fails_open_only_when_asked() {
    let closed = rig_with(|b| b.rate_limiter(BrokenLimiter));
    let k = mint(&closed, MintRequest::new("k", "u_1")).await;
    let e = auth_from(&closed, k.key.expose(), "192.0.2.1")
        .await
        .unwrap_err();
    assert_eq!(
        (e.code().status(), e.code().as_str()),
        (503, "auth_unavailable")
    );

    let open = rig_with(|b| {
        b.rate_limiter(Arc::new(BrokenLimiter))
            .fail_open_on_limit_errors()
    });
    let k = mint(&open, MintRequest::new("k", "u_1")).await;
    let p = auth_from(&open, k.key.expose(), "192.0.2.1").await.unwrap();
    assert!(p.rate_limit().is_none());
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let rig = rig_with(|b| b.without_rate_limits().without_lockout());
    let k = mint(&rig, MintRequest::new("k", "u_1")).await;
    for _ in 0..100 {
        assert!(
            auth_from(&rig, k.key.expose(), "192.0.2.1")
                .await
                .unwrap()
                .rate_limit()
                .is_none()
        );
    }
    let stranger = rig.keyward.format().mint().unwrap();
    for _ in 0..20 {
        assert!(
            auth_from(&rig, stranger.expose(), "192.0.2.1")
                .await
                .is_err()
        );
    }
    auth_from(&rig, k.key.expose(), "192.0.2.1").await.unwrap();
}

/// Under a flood that fills the lockout table, a locked network refuses its members'
/// guesses, but a member that never failed keeps its cached key.
#[tokio::test]
async fn a_locked_network_refuses_guesses_but_not_a_cached_key_that_never_failed() {
    use keyward::limit::GuardConfig;
    let config = GuardConfig::new(3, Duration::from_secs(60), Duration::from_secs(60))
        .unwrap()
        .with_max_tracked(10)
        .unwrap();
    let rig = rig_with(|b| b.lockout(config));
    let cached = mint(&rig, MintRequest::new("cached", "u_1")).await;
    let cold = mint(&rig, MintRequest::new("cold", "u_1")).await;
    let neighbour = "198.51.100.200";
    auth_from(&rig, cached.key.expose(), neighbour)
        .await
        .unwrap();

    // Ten addresses elsewhere fill the table; then three failures from 198.51.100.0/24
    // lock that network.
    for n in 0..10 {
        let _ = auth_from(&rig, "sk_live_garbage", &format!("203.0.113.{n}")).await;
    }
    for n in 1..=3 {
        let refused = auth_from(&rig, "sk_live_garbage", &format!("198.51.100.{n}"))
            .await
            .unwrap_err();
        assert_eq!(refused.code().as_str(), "invalid_key", "failure {n} counts");
    }

    // The neighbour never failed: its cached key works ...
    auth_from(&rig, cached.key.expose(), neighbour)
        .await
        .unwrap();
    // ... but its guesses, and anything needing a slow hash, are refused.
    for key in ["sk_live_garbage", cold.key.expose()] {
        let refused = auth_from(&rig, key, neighbour).await.unwrap_err();
        assert_eq!(
            refused.code().as_str(),
            "too_many_failed_attempts",
            "{key:.12}"
        );
    }
    let verified = rig.verifications.load(Ordering::SeqCst);
    assert_eq!(
        verified, 1,
        "only the cached key's first request was hashed"
    );
}
