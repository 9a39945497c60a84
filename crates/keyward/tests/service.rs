//! Key management: mint, list, roll, expire, and the errors of each.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Rig, START, ip, rig};
use keyward::clock::{Clock, Timestamp};
use keyward::scope::Requirement;
use keyward::store::{KeyState, KeyStore, ListFilter, PageRequest, Tenant};
use keyward::{AuthError, Credential, MintRequest, ServiceError};

async fn auth(rig: &Rig, key: &str) -> Result<keyward::Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), ip("192.0.2.1"))
        .await
}

#[tokio::test]
async fn mint_defaults_validates_and_stores_only_a_hash() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let k = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    assert_eq!(k.summary.capabilities, ["desktop:chat", "desktop:read"]);
    assert_eq!(
        k.summary.key_prefix,
        format!("sk_live_{}", &k.key.id().as_str()[..4])
    );
    assert_eq!(k.summary.last4, &k.key.expose()[k.key.expose().len() - 4..]);
    assert_eq!(k.summary.state, KeyState::Active);

    let record = rig.store.inner.get(&k.key.id()).await.unwrap();
    assert!(record.hash.starts_with("$2b$"), "bcrypt hash stored");
    let secret = std::str::from_utf8(k.key.secret()).unwrap();
    assert!(!record.hash.contains(secret));
    assert!(!format!("{record:?}").contains(secret));

    let e = keys
        .mint(MintRequest::new("x", "u_1").capabilities(["jobs:read", "nope:x", "bad"]))
        .await
        .unwrap_err();
    let ServiceError::UnknownCapabilities(unknown) = e else {
        panic!("{e:?}")
    };
    assert_eq!(unknown.capabilities, ["bad", "nope:x"]);

    for bad in [
        MintRequest::new("", "u_1"),
        MintRequest::new("  ", "u_1"),
        MintRequest::new("x", ""),
        MintRequest::new("a\nb", "u_1"),
        MintRequest::new("x".repeat(201), "u_1"),
        MintRequest::new("x", "u_1").expires_at(Timestamp::from_unix_seconds(START - 1)),
        MintRequest::new("x", "u_1").expires_in(Duration::ZERO),
        MintRequest::new("x", "u_1")
            .expires_in(Duration::from_secs(1))
            .expires_at(Timestamp::from_unix_seconds(START + 10)),
    ] {
        assert!(matches!(
            keys.mint(bad).await,
            Err(ServiceError::InvalidRequest(_))
        ));
    }
}

#[tokio::test]
async fn a_failed_store_write_returns_an_error_and_no_key() {
    let rig = rig();
    rig.store.down.store(true, Ordering::SeqCst);
    let result = rig.keyward.keys().mint(MintRequest::new("CI", "u_1")).await;
    assert!(matches!(result, Err(ServiceError::Store(_))));
    rig.store.down.store(false, Ordering::SeqCst);
    let all = rig
        .store
        .inner
        .list(&ListFilter::all(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(all.records.is_empty());
}

#[tokio::test]
async fn list_is_masked_paginated_and_filtered() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let team = Tenant::new("acme", "search");
    for i in 0..5 {
        rig.clock.advance(Duration::from_secs(1));
        keys.mint(MintRequest::new(format!("k{i}"), "u_1").tenant(team.clone()))
            .await
            .unwrap();
    }
    let other = keys.mint(MintRequest::new("other", "u_2")).await.unwrap();
    keys.revoke(&other.key.id()).await.unwrap();

    let first = keys
        .list(&ListFilter::owner("u_1"), PageRequest::first(3))
        .await
        .unwrap();
    let names: Vec<_> = first.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["k0", "k1", "k2"]);
    let second = keys
        .list(
            &ListFilter::owner("u_1"),
            PageRequest {
                limit: 3,
                after: first.next,
            },
        )
        .await
        .unwrap();
    assert_eq!(second.keys.len(), 2);
    assert_eq!(second.next, None);

    let by_tenant = keys
        .list(&ListFilter::tenant(team), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(by_tenant.keys.len(), 5);
    let u2 = keys
        .list(&ListFilter::owner("u_2"), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(u2.keys[0].state, KeyState::Revoked);
    assert!(u2.keys[0].revoked_at.is_some());
    assert!(matches!(
        keys.list(&ListFilter::all(), PageRequest::first(0)).await,
        Err(ServiceError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn roll_keeps_everything_and_the_old_key_works_until_the_grace_ends() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let old = keys
        .mint(
            MintRequest::new("CI", "u_1")
                .capabilities(["jobs:write"])
                .tenant(Tenant::new("acme", "search"))
                .metadata("env", "prod"),
        )
        .await
        .unwrap();
    auth(&rig, old.key.expose()).await.unwrap();

    let rolled = keys
        .roll(&old.key.id(), Duration::from_secs(3600))
        .await
        .unwrap();
    let new = &rolled.new.summary;
    assert_ne!(new.id, old.key.id());
    assert_eq!(
        (
            &new.name,
            &new.owner,
            &new.tenant,
            &new.capabilities,
            &new.metadata
        ),
        (
            &old.summary.name,
            &old.summary.owner,
            &old.summary.tenant,
            &old.summary.capabilities,
            &old.summary.metadata
        )
    );
    assert_eq!(
        rolled.old.expires_at,
        Some(rig.clock.now().saturating_add(Duration::from_secs(3600)))
    );

    auth(&rig, rolled.new.key.expose()).await.unwrap();
    rig.clock.advance(Duration::from_secs(3599));
    auth(&rig, old.key.expose()).await.unwrap();
    rig.clock.advance(Duration::from_secs(1));
    assert_eq!(
        auth(&rig, old.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
    auth(&rig, rolled.new.key.expose()).await.unwrap();
}

#[tokio::test]
async fn roll_without_grace_stops_the_old_key_at_once() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let old = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    auth(&rig, old.key.expose()).await.unwrap();
    keys.roll(&old.key.id(), Duration::ZERO).await.unwrap();
    assert_eq!(
        auth(&rig, old.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
}

#[tokio::test]
async fn roll_grace_is_capped_and_never_outlasts_the_old_expiry() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let short = keys
        .mint(MintRequest::new("short", "u_1").expires_in(Duration::from_secs(60)))
        .await
        .unwrap();
    let rolled = keys
        .roll(&short.key.id(), Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(rolled.old.expires_at, short.summary.expires_at);
    assert_eq!(
        rolled.new.summary.expires_at, short.summary.expires_at,
        "the new key keeps the expiry"
    );

    let k = keys.mint(MintRequest::new("k", "u_1")).await.unwrap();
    let e = keys
        .roll(&k.key.id(), Duration::from_secs(8 * 24 * 3600))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        ServiceError::GraceTooLong {
            max_seconds: 604_800
        }
    ));

    keys.revoke(&k.key.id()).await.unwrap();
    let e = keys.roll(&k.key.id(), Duration::ZERO).await.unwrap_err();
    assert!(matches!(e, ServiceError::NotActive(KeyState::Revoked)));
    let unknown = rig.keyward.format().mint().unwrap();
    assert!(matches!(
        keys.roll(&unknown.id(), Duration::ZERO).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn expire_set_expiry_and_unknown_ids() {
    let rig = rig();
    let keys = rig.keyward.keys();
    let k = keys.mint(MintRequest::new("k", "u_1")).await.unwrap();
    auth(&rig, k.key.expose()).await.unwrap();
    keys.expire(&k.key.id()).await.unwrap();
    assert_eq!(
        auth(&rig, k.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
    keys.set_expiry(&k.key.id(), None).await.unwrap();
    auth(&rig, k.key.expose()).await.unwrap();

    let unknown = rig.keyward.format().mint().unwrap().id();
    assert!(matches!(
        keys.revoke(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.get(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.disable(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.expire(&unknown).await,
        Err(ServiceError::NotFound)
    ));
}
