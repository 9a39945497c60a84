//! `Config::expire_unused_after`: a key unused for that long is refused `key_expired`,
//! counted from its last use (stored, or in this process and not yet flushed), or from
//! its mint when never used.

mod common;

use std::time::Duration;

use common::{Rig, ip, mint, rig_with};
use keyward::clock::Clock;
use keyward::scope::Requirement;
use keyward::store::KeyStore;
use keyward::{AuthError, Config, Credential, MintRequest};

const DAY: Duration = Duration::from_secs(24 * 3600);
const SECOND: Duration = Duration::from_secs(1);

fn unused_after(days: u32, cache_refresh: Duration) -> Rig {
    rig_with(|b| {
        b.config(Config {
            expire_unused_after: Some(DAY * days),
            cache_refresh,
            ..Config::default()
        })
    })
}

async fn auth(rig: &Rig, key: &str) -> Result<keyward::Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), ip("192.0.2.1"))
        .await
}

#[tokio::test]
async fn a_cached_key_expires_a_period_after_its_last_use() {
    // Entries never refresh here: the rule is decided from the cache alone.
    let rig = unused_after(10, DAY * 365);
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let key = key.key.expose();
    auth(&rig, key).await.unwrap();
    rig.clock.advance(DAY * 10 - SECOND);
    auth(&rig, key).await.unwrap();
    rig.clock.advance(DAY * 10 - SECOND);
    auth(&rig, key).await.unwrap();
    rig.clock.advance(DAY * 10);
    assert_eq!(auth(&rig, key).await.unwrap_err(), AuthError::KeyExpired);
    // The synchronous path agrees.
    let now = rig.keyward.authenticator().authenticate_now(
        Credential::Key(key),
        &Requirement::none(),
        ip("192.0.2.1"),
    );
    assert_eq!(now.map(|r| r.unwrap_err()), Some(AuthError::KeyExpired));
}

#[tokio::test]
async fn a_key_never_used_expires_a_period_after_its_mint() {
    let rig = unused_after(10, Duration::from_secs(30));
    let used_late = mint(&rig, MintRequest::new("late", "u_1")).await;
    let never = mint(&rig, MintRequest::new("never", "u_1")).await;
    rig.clock.advance(DAY * 10 - SECOND);
    auth(&rig, used_late.key.expose()).await.unwrap();
    rig.clock.advance(SECOND);
    // Cold: read from the store, verified, then refused for its age.
    assert_eq!(
        auth(&rig, never.key.expose()).await.unwrap_err(),
        AuthError::KeyExpired
    );
    auth(&rig, used_late.key.expose()).await.unwrap();
}

/// Entries are re-read from the store (a refresh, an eviction) long before usage is
/// flushed: a use the store has not heard of yet still counts.
#[tokio::test]
async fn a_use_not_yet_flushed_counts_after_a_refresh_or_an_eviction() {
    let rig = unused_after(10, Duration::from_secs(30));
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let (id, key) = (key.key.id(), key.key.expose());
    let authn = rig.keyward.authenticator();
    rig.clock.advance(DAY * 9);
    auth(&rig, key).await.unwrap(); // cold, then in use at day 9
    rig.clock.advance(DAY * 9);
    auth(&rig, key).await.unwrap(); // a refresh at day 18: stored never used
    authn.evict(&id);
    rig.clock.advance(DAY * 9);
    auth(&rig, key).await.unwrap(); // cold at day 27: last used at day 18
    assert_eq!(rig.store.inner.get(&id).await.unwrap().last_used_at, None);

    // Flushed, the stored use carries the rule on its own.
    authn.flush_usage().await.unwrap();
    authn.evict(&id);
    rig.clock.advance(DAY * 10 - SECOND);
    auth(&rig, key).await.unwrap();
    authn.flush_usage().await.unwrap();
    authn.evict(&id);
    rig.clock.advance(DAY * 10);
    assert_eq!(auth(&rig, key).await.unwrap_err(), AuthError::KeyExpired);
}

#[tokio::test]
async fn without_the_setting_an_idle_key_keeps_working() {
    let rig = rig_with(|b| b);
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    rig.clock.advance(DAY * 3650);
    auth(&rig, key.key.expose()).await.unwrap();
}

#[tokio::test]
async fn the_rule_on_a_record_matches_the_request_path() {
    let rig = unused_after(10, Duration::from_secs(30));
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let id = key.key.id();
    let config = rig.keyward.config();
    let record = rig.store.inner.get(&id).await.unwrap();
    assert_eq!(keyward::unused_since(&record), record.created_at);
    let expiry = record.created_at.saturating_add(DAY * 10);
    assert_eq!(config.unused_expiry(&record), Some(expiry));
    assert!(!config.is_expired_unused(&record, rig.clock.now()));

    rig.clock.advance(DAY * 4);
    auth(&rig, key.key.expose()).await.unwrap();
    rig.keyward.authenticator().flush_usage().await.unwrap();
    let record = rig.store.inner.get(&id).await.unwrap();
    assert_eq!(keyward::unused_since(&record), rig.clock.now());
    let expiry = rig.clock.now().saturating_add(DAY * 10);
    assert_eq!(config.unused_expiry(&record), Some(expiry));
    assert!(!config.is_expired_unused(&record, expiry.saturating_sub(SECOND)));
    assert!(config.is_expired_unused(&record, expiry));
    assert_eq!(Config::default().unused_expiry(&record), None);
}
