//! `Authenticator::authenticate_now`: the same answers as `authenticate` for what the
//! cache and in-memory limits decide, and `None`, with nothing spent or counted, for
//! everything that would wait.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::{catalog, ip, mint, rig, rig_with};
use keyward::limit::{Decision, LimitError, MemoryRateLimiter, Quota, RateLimiter};
use keyward::scope::Requirement;
use keyward::{AuthError, Credential, MintRequest};

#[tokio::test]
async fn a_cached_key_is_decided_without_waiting() {
    let rig = rig();
    let key = mint(&rig, MintRequest::new("k", "u_1")).await;
    let authn = rig.keyward.authenticator();
    let read = catalog().all_of(["desktop:read"]).unwrap();
    let credential = Credential::Key(key.key.expose());

    // Not cached yet: it would wait for the store and the slow hash.
    assert!(
        authn
            .authenticate_now(credential, &read, ip("192.0.2.1"))
            .is_none()
    );
    assert_eq!(rig.verifications.load(Ordering::SeqCst), 0);
    let first = authn
        .authenticate(credential, &read, ip("192.0.2.1"))
        .await
        .unwrap();
    assert_eq!(first.rate_limit().unwrap().remaining(), 59);

    let now = authn
        .authenticate_now(credential, &read, ip("192.0.2.1"))
        .expect("cached")
        .unwrap();
    assert_eq!(now.key_id(), key.key.id());
    assert_eq!(now.rate_limit().unwrap().remaining(), 58);
    assert_eq!(rig.verifications.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refusals_match_authenticate_and_count_toward_lockout() {
    let rig = rig();
    let key = mint(&rig, MintRequest::new("k", "u_1")).await;
    let authn = rig.keyward.authenticator();
    let any = Requirement::none();
    let credential = Credential::Key(key.key.expose());
    authn
        .authenticate(credential, &any, ip("192.0.2.1"))
        .await
        .unwrap();

    // A capability the key lacks: 403, decided from the cache.
    let write = catalog().all_of(["jobs:write"]).unwrap();
    let denied = authn
        .authenticate_now(credential, &write, ip("192.0.2.1"))
        .expect("cached")
        .unwrap_err();
    assert!(matches!(denied, AuthError::InsufficientCapability(_)));

    // A malformed key needs no store: 401 at once, and each one counts.
    for _ in 0..10 {
        let e = authn
            .authenticate_now(Credential::Key("sk_live_nope"), &any, ip("192.0.2.9"))
            .expect("malformed keys need nothing")
            .unwrap_err();
        assert_eq!(e.code().as_str(), "invalid_key");
    }
    let locked = authn
        .authenticate_now(credential, &any, ip("192.0.2.9"))
        .expect("the in-memory guard answers at once")
        .unwrap_err();
    assert_eq!(locked.code().as_str(), "too_many_failed_attempts");
    // The same lockout through the waiting path.
    let locked = authn
        .authenticate(credential, &any, ip("192.0.2.9"))
        .await
        .unwrap_err();
    assert_eq!(locked.code().as_str(), "too_many_failed_attempts");
}

/// A limiter that only answers by waiting, as Redis does; it counts its decisions.
struct WaitingLimiter {
    inner: MemoryRateLimiter,
    decisions: Arc<AtomicUsize>,
}

#[async_trait]
impl RateLimiter for WaitingLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimitError> {
        self.decisions.fetch_add(1, Ordering::SeqCst);
        self.inner.check(key, quota).await
    }
}

#[tokio::test]
async fn with_a_limiter_that_waits_it_gives_up_at_once_and_spends_nothing() {
    let decisions = Arc::new(AtomicUsize::new(0));
    let limiter = WaitingLimiter {
        inner: MemoryRateLimiter::new(),
        decisions: Arc::clone(&decisions),
    };
    let rig = rig_with(|b| b.rate_limiter(limiter));
    let key = mint(&rig, MintRequest::new("k", "u_1")).await;
    let authn = rig.keyward.authenticator();
    let any = Requirement::none();
    let credential = Credential::Key(key.key.expose());
    authn
        .authenticate(credential, &any, ip("192.0.2.1"))
        .await
        .unwrap();
    assert_eq!(decisions.load(Ordering::SeqCst), 1);

    // It gives up before verifying anything (even a malformed key, which the default
    // limits would refuse at once), so `authenticate` does not verify twice.
    for credential in [credential, Credential::Key("sk_live_nope")] {
        assert!(
            authn
                .authenticate_now(credential, &any, ip("192.0.2.1"))
                .is_none()
        );
    }
    assert_eq!(decisions.load(Ordering::SeqCst), 1, "nothing spent");
    let p = authn
        .authenticate(credential, &any, ip("192.0.2.1"))
        .await
        .unwrap();
    assert_eq!(p.rate_limit().unwrap().remaining(), 58);
}
