//! `Config::max_lifetime` and rolls: a replacement is a new key, so it expires within
//! the maximum of its own mint even when the key it replaces was minted before the
//! setting (no expiry) or under a longer one.

mod common;

use std::time::Duration;

use common::{Rig, rig};
use keyward::clock::Clock;
use keyward::hash::BcryptHasher;
use keyward::manage::{Caller, KeyManager};
use keyward::{Config, Keyward, MintRequest};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// An instance on the rig's store and clock whose keys live at most 90 days.
fn bounded(rig: &Rig) -> Keyward {
    Keyward::builder(
        keyward_testing::rig::format(),
        keyward_testing::rig::catalog(),
    )
    .store(rig.store.clone())
    .clock(rig.clock.clone())
    .hasher(BcryptHasher::new(BcryptHasher::MIN_COST).unwrap())
    .config(Config {
        max_lifetime: Some(DAY * 90),
        ..Config::default()
    })
    .build()
    .unwrap()
}

#[tokio::test]
async fn a_replacement_expires_within_the_maximum_of_its_own_mint() {
    let rig = rig();
    // Minted before the setting: one never expires, one in a year, one in 30 days.
    let open = rig.mint(MintRequest::new("open", "u_1")).await;
    let far = rig
        .mint(MintRequest::new("far", "u_1").expires_in(DAY * 365))
        .await;
    let near = rig
        .mint(MintRequest::new("near", "u_1").expires_in(DAY * 30))
        .await;
    let keys = bounded(&rig).keys();
    rig.clock.advance(DAY);
    let latest = rig.clock.now().saturating_add(DAY * 90);

    let rolled = keys.roll(&open.summary.id, Duration::ZERO).await.unwrap();
    assert_eq!(rolled.new.summary.expires_at, Some(latest));
    let rolled = keys.roll(&far.summary.id, DAY).await.unwrap();
    assert_eq!(rolled.new.summary.expires_at, Some(latest));
    // The old key's grace is untouched by the cap.
    assert_eq!(
        rolled.old.expires_at,
        Some(rig.clock.now().saturating_add(DAY))
    );
    // Already within the maximum: the old key's expiry, as before.
    let rolled = keys.roll(&near.summary.id, Duration::ZERO).await.unwrap();
    assert_eq!(rolled.new.summary.expires_at, near.summary.expires_at);
}

#[tokio::test]
async fn a_caller_rolling_through_the_management_rules_gets_the_cap_too() {
    let rig = rig();
    let open = rig.mint(MintRequest::new("open", "u_1")).await;
    let bounded = bounded(&rig);
    let catalog = bounded.catalog();
    let caller = Caller::user("u_1", None, catalog.all());
    let manager = KeyManager::new(&bounded);

    let rolled = manager
        .roll(&caller, open.summary.id.as_str(), Duration::ZERO)
        .await
        .unwrap();
    let latest = rig.clock.now().saturating_add(DAY * 90);
    assert_eq!(rolled.new.summary.expires_at, Some(latest));
    // The replacement is usable for that long, and no longer.
    let authn = bounded.authenticator();
    let none = keyward::scope::Requirement::none();
    let client = common::ip("192.0.2.1");
    rig.clock.advance(DAY * 90 - Duration::from_secs(1));
    authn
        .authenticate(
            keyward::Credential::Key(rolled.new.key.expose()),
            &none,
            client,
        )
        .await
        .unwrap();
    rig.clock.advance(Duration::from_secs(1));
    let answer = authn
        .authenticate(
            keyward::Credential::Key(rolled.new.key.expose()),
            &none,
            client,
        )
        .await;
    assert_eq!(answer.unwrap_err(), keyward::AuthError::KeyExpired);
}
