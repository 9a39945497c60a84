//! The request path: every refusal of the HTTP contract (`docs/http-contract.md`), and
//! the cache's promises.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Rig, auth, catalog, ip, mint, rig, rig_with};
use keyward::clock::Clock;
use keyward::scope::{CapabilitySet, Requirement};
use keyward::store::{KeyStore, Tenant};
use keyward::{AuthError, Config, Credential, InvalidKeyReason, MintRequest, NewKey};

fn any() -> Requirement {
    Requirement::none()
}

#[tokio::test]
async fn a_minted_key_authenticates_with_its_principal() {
    let rig = rig();
    let minted = mint(
        &rig,
        MintRequest::new("CI", "u_1")
            .tenant(Tenant::new("acme", "search"))
            .metadata("env", "prod"),
    )
    .await;
    let p = auth(&rig, minted.key.expose(), &any()).await.unwrap();
    assert_eq!(p.key_id(), minted.key.id());
    assert_eq!(p.name(), "CI");
    assert_eq!(p.owner(), "u_1");
    assert_eq!(p.tenant(), Some(&Tenant::new("acme", "search")));
    assert_eq!(p.granted(), ["desktop:chat", "desktop:read"]);
    assert_eq!(p.metadata().get("env").map(String::as_str), Some("prod"));
}

#[tokio::test]
async fn malformed_unknown_and_wrong_secret_are_one_invalid_key() {
    let rig = rig();
    let minted = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let key = minted.key.expose();

    let gets = rig.store.gets.load(Ordering::SeqCst);
    for malformed in [
        "",
        "sk_live_",
        "sk_test_abc",
        "Bearer x",
        &key[..key.len() - 1],
    ] {
        let e = auth(&rig, malformed, &any()).await.unwrap_err();
        assert!(
            matches!(e, AuthError::InvalidKey(InvalidKeyReason::Malformed(_))),
            "{e:?}"
        );
        assert_eq!(e.code().as_str(), "invalid_key");
    }
    assert_eq!(
        rig.store.gets.load(Ordering::SeqCst),
        gets,
        "malformed keys never reach the store"
    );

    let unknown = rig.keyward.format().mint().unwrap();
    let e = auth(&rig, unknown.expose(), &any()).await.unwrap_err();
    assert_eq!(e, AuthError::InvalidKey(InvalidKeyReason::UnknownKey));

    // A checksum-valid key whose id exists with another secret's hash.
    let wrong = wrong_secret_key(&rig, &minted).await;
    let e = auth(&rig, &wrong, &any()).await.unwrap_err();
    assert_eq!(e, AuthError::InvalidKey(InvalidKeyReason::WrongSecret));
    assert_eq!(
        e.code(),
        AuthError::InvalidKey(InvalidKeyReason::UnknownKey).code()
    );
}

/// A fresh checksum-valid key whose id is stored with `minted`'s hash, so presenting
/// it is "known id, wrong secret".
async fn wrong_secret_key(rig: &Rig, minted: &NewKey) -> String {
    let key = rig.keyward.format().mint().unwrap();
    let mut record = rig.store.inner.get(&minted.key.id()).await.unwrap();
    record.id = key.id();
    rig.store.inner.insert(&record).await.unwrap();
    key.expose().to_owned()
}

#[tokio::test]
async fn revoked_disabled_and_expired_keys_get_their_own_codes() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let revoked = mint(&rig, MintRequest::new("r", "u_1")).await;
    let disabled = mint(&rig, MintRequest::new("d", "u_1")).await;
    let expiring = mint(
        &rig,
        MintRequest::new("e", "u_1").expires_in(Duration::from_secs(60)),
    )
    .await;
    for k in [&revoked, &disabled, &expiring] {
        auth(&rig, k.key.expose(), &any()).await.unwrap(); // cached now
    }

    keys.revoke(&revoked.key.id()).await.unwrap();
    assert_eq!(
        auth(&rig, revoked.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyRevoked
    );

    keys.disable(&disabled.key.id()).await.unwrap();
    assert_eq!(
        auth(&rig, disabled.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyDisabled
    );
    keys.enable(&disabled.key.id()).await.unwrap();
    auth(&rig, disabled.key.expose(), &any()).await.unwrap();

    rig.clock.advance(Duration::from_secs(59));
    auth(&rig, expiring.key.expose(), &any()).await.unwrap();
    rig.clock.advance(Duration::from_secs(1));
    assert_eq!(
        auth(&rig, expiring.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyExpired
    );

    // A wrong secret for a revoked key says nothing about the key's state.
    let wrong = wrong_secret_key(&rig, &revoked).await;
    assert!(matches!(
        auth(&rig, &wrong, &any()).await.unwrap_err(),
        AuthError::InvalidKey(_)
    ));
}

#[tokio::test]
async fn missing_capability_is_403_with_required_and_held() {
    let rig = rig();
    let c = catalog();
    let writer = mint(
        &rig,
        MintRequest::new("w", "u_1").capabilities(["jobs:write"]),
    )
    .await;
    auth(&rig, writer.key.expose(), &c.all_of(["jobs:read"]).unwrap())
        .await
        .unwrap();
    let e = auth(
        &rig,
        writer.key.expose(),
        &c.all_of(["kb:read", "jobs:read"]).unwrap(),
    )
    .await
    .unwrap_err();
    let AuthError::InsufficientCapability(denied) = e else {
        panic!("{e:?}")
    };
    assert_eq!(denied.required, ["jobs:read", "kb:read"]);
    assert_eq!(denied.held, ["jobs:read", "jobs:write"]);
}

#[tokio::test]
async fn ip_allowlist_is_checked_after_the_secret() {
    let rig = rig();
    let k = mint(
        &rig,
        MintRequest::new("office", "u_1").ip_allowlist(["10.0.0.0/8".parse().unwrap()]),
    )
    .await;
    let authn = rig.keyward.authenticator();
    authn
        .authenticate(Credential::Key(k.key.expose()), &any(), ip("10.1.2.3"))
        .await
        .unwrap();
    authn
        .authenticate(
            Credential::Key(k.key.expose()),
            &any(),
            ip("::ffff:10.1.2.3"),
        )
        .await
        .unwrap();
    let e = authn
        .authenticate(Credential::Key(k.key.expose()), &any(), ip("192.0.2.1"))
        .await
        .unwrap_err();
    assert_eq!(e, AuthError::IpNotAllowed);
    assert_eq!(e.code().status(), 403);
    // A guesser from outside learns nothing: a wrong secret is still invalid_key.
    let wrong = wrong_secret_key(&rig, &k).await;
    let e = authn
        .authenticate(Credential::Key(&wrong), &any(), ip("192.0.2.1"))
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::InvalidKey(_)));
}

#[tokio::test]
async fn credential_pair_and_basic_user_forms_authenticate() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("pair", "u_1")).await;
    let authn = rig.keyward.authenticator();
    let pair = Credential::Pair {
        id: k.key.credential_id(),
        secret: k.key.credential_secret(),
    };
    assert_eq!(
        authn
            .authenticate(pair, &any(), ip("192.0.2.1"))
            .await
            .unwrap()
            .key_id(),
        k.key.id()
    );
    let stripe_style = Credential::Pair {
        id: k.key.expose(),
        secret: "",
    };
    authn
        .authenticate(stripe_style, &any(), ip("192.0.2.1"))
        .await
        .unwrap();
    let bad = Credential::Pair {
        id: k.key.credential_id(),
        secret: "nope",
    };
    assert!(matches!(
        authn
            .authenticate(bad, &any(), ip("192.0.2.1"))
            .await
            .unwrap_err(),
        AuthError::InvalidKey(InvalidKeyReason::Malformed(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_run_the_slow_hash_once() {
    let rig = rig_with(|b| b.default_quota(keyward::limit::Quota::per_minute(1000)));
    let k = mint(&rig, MintRequest::new("hot", "u_1")).await;
    let key = k.key.expose().to_owned();
    let before = rig.verifications.load(Ordering::SeqCst);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let authn = rig.keyward.authenticator();
            let key = key.clone();
            tokio::spawn(async move {
                authn
                    .authenticate(Credential::Key(&key), &Requirement::none(), ip("192.0.2.1"))
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(rig.verifications.load(Ordering::SeqCst) - before, 1);
}

#[tokio::test]
async fn cached_hits_skip_the_store_and_wrong_secrets_are_never_cached() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("c", "u_1")).await;
    let wrong = wrong_secret_key(&rig, &k).await;
    // Wrong secret first: verified slowly, refused, not cached.
    assert!(auth(&rig, &wrong, &any()).await.is_err());
    assert!(auth(&rig, &wrong, &any()).await.is_err());
    assert_eq!(rig.keyward.authenticator().cached_keys(), 0);

    auth(&rig, k.key.expose(), &any()).await.unwrap();
    let gets = rig.store.gets.load(Ordering::SeqCst);
    let hashes = rig.verifications.load(Ordering::SeqCst);
    for _ in 0..50 {
        auth(&rig, k.key.expose(), &any()).await.unwrap();
    }
    assert_eq!(rig.store.gets.load(Ordering::SeqCst), gets);
    assert_eq!(rig.verifications.load(Ordering::SeqCst), hashes);
    assert_eq!(rig.keyward.authenticator().cached_keys(), 1);
}

#[tokio::test]
async fn unknown_ids_do_not_grow_the_cache_and_the_cache_is_bounded() {
    let rig = rig_with(|b| {
        b.config(Config {
            cache_capacity: 64,
            ..Config::default()
        })
        .without_lockout()
    });
    for _ in 0..200 {
        let stranger = rig.keyward.format().mint().unwrap();
        assert!(auth(&rig, stranger.expose(), &any()).await.is_err());
    }
    assert_eq!(rig.keyward.authenticator().cached_keys(), 0);

    let mut keys = Vec::new();
    for i in 0..100 {
        let k = mint(&rig, MintRequest::new(format!("k{i}"), "u_1")).await;
        auth(&rig, k.key.expose(), &any()).await.unwrap();
        keys.push(k);
    }
    assert!(rig.keyward.authenticator().cached_keys() <= 64);
    // Evicted keys still authenticate, from the store.
    for k in &keys {
        auth(&rig, k.key.expose(), &any()).await.unwrap();
    }
}

#[tokio::test]
async fn a_change_made_elsewhere_is_seen_at_the_next_refresh() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("x", "u_1")).await;
    auth(&rig, k.key.expose(), &any()).await.unwrap();
    // Another process (the CLI) revokes the key in the shared store.
    rig.store
        .inner
        .revoke(&k.key.id(), rig.clock.now())
        .await
        .unwrap();
    auth(&rig, k.key.expose(), &any()).await.unwrap(); // still cached
    rig.clock.advance(Config::default().cache_refresh);
    assert_eq!(
        auth(&rig, k.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyRevoked
    );
}

#[tokio::test]
async fn an_invalidated_key_rereads_its_record_without_a_slow_hash() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("x", "u_1")).await;
    let other = mint(&rig, MintRequest::new("y", "u_1")).await;
    auth(&rig, k.key.expose(), &any()).await.unwrap();
    auth(&rig, other.key.expose(), &any()).await.unwrap();
    let slow_hashes = rig.verifications.load(Ordering::SeqCst);
    // Another instance revokes the key; its listener tells this one.
    rig.store
        .inner
        .revoke(&k.key.id(), rig.clock.now())
        .await
        .unwrap();
    let authenticator = rig.keyward.authenticator();
    authenticator.invalidate(&k.key.id());
    assert_eq!(
        auth(&rig, k.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyRevoked
    );
    // Unchanged keys stay cached; invalidating an uncached id is a no-op.
    authenticator.invalidate(&other.key.id());
    auth(&rig, other.key.expose(), &any()).await.unwrap();
    authenticator.invalidate(&keyward::format::KeyId::parse("AAAAAAAAAAAA").unwrap());
    assert_eq!(rig.verifications.load(Ordering::SeqCst), slow_hashes);
}

#[tokio::test]
async fn store_outage_is_503_for_uncached_keys_and_cached_keys_keep_working() {
    let rig = rig();
    let cached = mint(&rig, MintRequest::new("cached", "u_1")).await;
    let uncached = mint(&rig, MintRequest::new("uncached", "u_1")).await;
    auth(&rig, cached.key.expose(), &any()).await.unwrap();

    rig.store.down.store(true, Ordering::SeqCst);
    let e = auth(&rig, uncached.key.expose(), &any()).await.unwrap_err();
    assert_eq!(e.code().as_str(), "auth_unavailable");
    assert_eq!(e.code().status(), 503);
    auth(&rig, cached.key.expose(), &any()).await.unwrap();
    rig.clock.advance(Config::default().cache_refresh * 2);
    auth(&rig, cached.key.expose(), &any()).await.unwrap(); // refresh fails, entry serves

    rig.store.down.store(false, Ordering::SeqCst);
    auth(&rig, uncached.key.expose(), &any()).await.unwrap();
}

#[tokio::test]
async fn an_invalidated_key_waits_for_the_store_during_an_outage() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("x", "u_1")).await;
    auth(&rig, k.key.expose(), &any()).await.unwrap();
    // Another instance revoked it and said so; then the store went away.
    rig.store
        .inner
        .revoke(&k.key.id(), rig.clock.now())
        .await
        .unwrap();
    rig.keyward.authenticator().invalidate(&k.key.id());
    rig.store.down.store(true, Ordering::SeqCst);
    let e = auth(&rig, k.key.expose(), &any()).await.unwrap_err();
    assert_eq!(e.code().as_str(), "auth_unavailable");
    rig.store.down.store(false, Ordering::SeqCst);
    assert_eq!(
        auth(&rig, k.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyRevoked
    );
}

#[tokio::test]
async fn owner_permissions_narrow_keys_and_a_demotion_applies_at_once() {
    use std::sync::{Arc, Mutex};

    use keyward::{OwnerLookupError, OwnerPermissions};

    struct Roles(Arc<Mutex<Vec<&'static str>>>);

    #[async_trait::async_trait]
    impl OwnerPermissions for Roles {
        async fn capabilities(&self, _owner: &str) -> Result<CapabilitySet, OwnerLookupError> {
            let names = self.0.lock().unwrap().clone();
            catalog().set(names).map_err(OwnerLookupError::new)
        }
    }

    let role = Arc::new(Mutex::new(vec!["jobs:write", "kb:read"]));
    let rig = rig_with(|b| b.owner_permissions(Roles(Arc::clone(&role))));
    let c = catalog();
    let k = mint(
        &rig,
        MintRequest::new("k", "u_1").capabilities(["jobs:write", "desktop:read"]),
    )
    .await;
    let p = auth(&rig, k.key.expose(), &c.all_of(["jobs:write"]).unwrap())
        .await
        .unwrap();
    // desktop:read is granted to the key but not held by its owner.
    assert_eq!(c.names(p.capabilities()), ["jobs:read", "jobs:write"]);

    *role.lock().unwrap() = vec!["jobs:read"];
    rig.keyward.authenticator().owner_changed("u_1");
    let e = auth(&rig, k.key.expose(), &c.all_of(["jobs:write"]).unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "insufficient_capability");
    auth(&rig, k.key.expose(), &c.all_of(["jobs:read"]).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn last_used_is_flushed_in_batches() {
    let rig = rig();
    let a = mint(&rig, MintRequest::new("a", "u_1")).await;
    let b = mint(&rig, MintRequest::new("b", "u_1")).await;
    let authn = rig.keyward.authenticator();
    assert_eq!(authn.flush_usage().await.unwrap(), 0);
    auth(&rig, a.key.expose(), &any()).await.unwrap();
    auth(&rig, b.key.expose(), &any()).await.unwrap();
    assert_eq!(
        rig.store.inner.get(&a.key.id()).await.unwrap().last_used_at,
        None
    );
    assert_eq!(authn.flush_usage().await.unwrap(), 2);
    let used = rig.store.inner.get(&a.key.id()).await.unwrap().last_used_at;
    assert_eq!(used, Some(rig.clock.now()));
    assert_eq!(
        authn.flush_usage().await.unwrap(),
        0,
        "nothing new to flush"
    );

    // A failed flush keeps the batch for the next one.
    rig.clock.advance(Duration::from_secs(5));
    auth(&rig, a.key.expose(), &any()).await.unwrap();
    rig.store.down.store(true, Ordering::SeqCst);
    assert!(authn.flush_usage().await.is_err());
    rig.store.down.store(false, Ordering::SeqCst);
    assert_eq!(authn.flush_usage().await.unwrap(), 1);
    let used = rig.store.inner.get(&a.key.id()).await.unwrap().last_used_at;
    assert_eq!(used, Some(rig.clock.now()));
}

/// Has the rig's store revoke `id` through the key service (store write, then cache
/// eviction) inside its next `get`, after the read: the revoke lands between a
/// verification's store read and its cache insert.
fn revoke_during_next_read(rig: &Rig, id: keyward::format::KeyId) {
    let keys = rig.keyward.keys();
    let step: keyward_testing::AfterGet = Box::new(move || {
        Box::pin(async move {
            keys.revoke(&id).await.expect("revoke");
        })
    });
    *rig.store.after_get.lock().unwrap() = Some(step);
}

#[tokio::test]
async fn a_revoke_during_a_first_verification_is_not_cached_away() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("x", "u_1")).await;
    revoke_during_next_read(&rig, k.key.id());
    // The request that read the record before the revoke may pass: it started first.
    auth(&rig, k.key.expose(), &any()).await.unwrap();
    // Its pre-revoke record must not go on serving from the cache.
    assert_eq!(
        auth(&rig, k.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyRevoked
    );
}

#[tokio::test]
async fn a_revoke_during_a_refresh_is_not_cached_away() {
    let rig = rig();
    let k = mint(&rig, MintRequest::new("x", "u_1")).await;
    auth(&rig, k.key.expose(), &any()).await.unwrap();
    rig.keyward.authenticator().invalidate(&k.key.id());
    revoke_during_next_read(&rig, k.key.id());
    auth(&rig, k.key.expose(), &any()).await.unwrap();
    assert_eq!(
        auth(&rig, k.key.expose(), &any()).await.unwrap_err(),
        AuthError::KeyRevoked
    );
}
