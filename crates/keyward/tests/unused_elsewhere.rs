//! `Config::expire_unused_after` with several instances on one store: a key whose use
//! another instance flushed is not refused by an instance whose cached entry predates
//! that use.

mod common;

use std::time::Duration;

use common::{Rig, ip, rig_with};
use keyward::hash::BcryptHasher;
use keyward::scope::Requirement;
use keyward::{AuthError, Config, Credential, Keyward, MintRequest, Principal};

const DAY: Duration = Duration::from_secs(24 * 3600);
const SECOND: Duration = Duration::from_secs(1);

/// Cached entries are trusted for a year: only the rule itself may send one back to
/// the store.
fn config() -> Config {
    Config {
        expire_unused_after: Some(DAY * 10),
        cache_refresh: DAY * 365,
        ..Config::default()
    }
}

/// A second instance on the rig's store and clock.
fn other_instance(rig: &Rig) -> Keyward {
    Keyward::builder(
        keyward_testing::rig::format(),
        keyward_testing::rig::catalog(),
    )
    .store(rig.store.clone())
    .clock(rig.clock.clone())
    .hasher(BcryptHasher::new(BcryptHasher::MIN_COST).unwrap())
    .config(config())
    .build()
    .unwrap()
}

async fn auth(keyward: &Keyward, key: &str) -> Result<Principal, AuthError> {
    keyward
        .authenticator()
        .authenticate(Credential::Key(key), &Requirement::none(), ip("192.0.2.1"))
        .await
}

#[tokio::test]
async fn a_use_flushed_by_another_instance_keeps_the_key_working() {
    let rig = rig_with(|b| b.config(config()));
    let other = other_instance(&rig);
    let minted = rig.mint(MintRequest::new("CI", "u_1")).await;
    let key = minted.key.expose();

    auth(&rig.keyward, key).await.unwrap(); // cached here at day 0
    rig.clock.advance(DAY * 9);
    auth(&other, key).await.unwrap(); // used elsewhere at day 9 ...
    other.authenticator().flush_usage().await.unwrap(); // ... and the store knows
    rig.clock.advance(DAY + SECOND);
    auth(&rig.keyward, key)
        .await
        .expect("used a day ago, through the other instance");
    // The synchronous path hands it to `authenticate` rather than refuse it.
    let now = rig.keyward.authenticator().authenticate_now(
        Credential::Key(key),
        &Requirement::none(),
        ip("192.0.2.1"),
    );
    assert!(now.as_ref().is_none_or(Result::is_ok), "{now:?}");
}

#[tokio::test]
async fn a_key_idle_everywhere_costs_one_store_read_then_is_refused_from_the_cache() {
    let rig = rig_with(|b| b.config(config()));
    let minted = rig.mint(MintRequest::new("CI", "u_1")).await;
    let key = minted.key.expose();
    auth(&rig.keyward, key).await.unwrap();
    rig.clock.advance(DAY * 10);

    let gets = || rig.store.gets.load(std::sync::atomic::Ordering::SeqCst);
    let before = gets();
    assert_eq!(
        auth(&rig.keyward, key).await.unwrap_err(),
        AuthError::KeyExpired
    );
    assert_eq!(gets(), before + 1, "the store was asked once");
    for _ in 0..3 {
        assert_eq!(
            auth(&rig.keyward, key).await.unwrap_err(),
            AuthError::KeyExpired
        );
    }
    assert_eq!(gets(), before + 1, "then the cache answers");
    assert_eq!(
        rig.verifications.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}
