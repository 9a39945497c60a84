//! [`LeakCheck`] on keys in every state: a key whose secret verifies is revoked whatever
//! would stop it today; anything else changes nothing.

use std::time::Duration;

use keyward::MintRequest;
use keyward::store::{Actor, KeyState, KeyStore};
use keyward_secret_scanning::{LeakCheck, Verdict};
use keyward_testing::rig::Rig;

#[tokio::test]
async fn a_verified_key_is_revoked_whatever_its_state() {
    let rig = Rig::new();
    let check = LeakCheck::new(&rig.keyward, Actor::Cli);
    let keys = rig.keyward.keys();

    let disabled = rig.mint(MintRequest::new("disabled", "u_1")).await;
    keys.disable(&disabled.summary.id).await.unwrap();
    let expiring = rig
        .mint(MintRequest::new("expiring", "u_1").expires_in(Duration::from_secs(60)))
        .await;
    rig.clock.advance(Duration::from_secs(120));
    for (what, minted) in [("disabled", &disabled), ("expired", &expiring)] {
        match check.check(minted.key.expose(), Some("a.env:1:1")).await {
            Verdict::Revoked(summary) => {
                assert_eq!(summary.id, minted.summary.id, "{what}");
                assert_eq!(summary.state, KeyState::Revoked, "{what}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    assert_eq!(
        check.check(disabled.key.expose(), None).await,
        Verdict::AlreadyRevoked(disabled.summary.id)
    );
}

#[tokio::test]
async fn anything_but_a_verified_key_changes_nothing() {
    let rig = Rig::new();
    let check = LeakCheck::new(&rig.keyward, Actor::Cli);
    let live = rig.mint(MintRequest::new("live", "u_1")).await;
    let forged = rig.keyward.format().mint_for(&live.summary.id).unwrap();
    let unknown = rig.keyward.format().mint().unwrap();
    let mut bad_checksum = live.key.expose().to_owned();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'A' { 'B' } else { 'A' });
    for token in [
        forged.expose(),
        unknown.expose(),
        &bad_checksum,
        "ghp_not_ours",
        "",
    ] {
        assert_eq!(
            check.check(token, None).await,
            Verdict::NotOurs,
            "{token:.12}"
        );
    }
    let summary = rig.keyward.keys().get(&live.summary.id).await.unwrap();
    assert_eq!(summary.state, KeyState::Active);
}

/// Wrong secrets count toward no lockout or cool-down: forged reports of one key, more
/// than either allows, are each still decided, and the key itself is untouched.
#[tokio::test]
async fn forged_reports_are_always_decided() {
    let rig = Rig::new();
    let check = LeakCheck::new(&rig.keyward, Actor::Cli);
    let victim = rig.mint(MintRequest::new("victim", "u_1")).await;
    let forged = rig.keyward.format().mint_for(&victim.summary.id).unwrap();
    for round in 0..12 {
        assert_eq!(
            check.check(forged.expose(), None).await,
            Verdict::NotOurs,
            "report {round}"
        );
    }
    let victim = rig.keyward.keys().get(&victim.summary.id).await.unwrap();
    assert_eq!(victim.state, KeyState::Active);
}

/// A check is no use of the key: a leaked key revoked on a report keeps the
/// `last_used_at` and recorded capabilities it had, so its record still tells whether
/// anyone used it.
#[tokio::test]
async fn a_check_is_not_a_use() {
    let rig = Rig::new();
    let check = LeakCheck::new(&rig.keyward, Actor::Cli);
    let leaked = rig.mint(MintRequest::new("leaked", "u_1")).await;
    assert!(matches!(
        check.check(leaked.key.expose(), None).await,
        Verdict::Revoked(_)
    ));
    rig.keyward.authenticator().flush_usage().await.unwrap();
    let stored = rig.store.inner.get(&leaked.summary.id).await.unwrap();
    assert_eq!(stored.last_used_at, None);
    assert!(stored.used_capabilities.is_empty());
}

/// A honeytoken reported found is no real key: left working as the tripwire it is,
/// and nobody is locked out for reporting it.
#[tokio::test]
async fn a_reported_honeytoken_is_left_working() {
    let rig = Rig::new();
    let check = LeakCheck::new(&rig.keyward, Actor::Automatic);
    let decoy = rig
        .mint(MintRequest::new("decoy: deploy repo", "security").honeytoken())
        .await;
    let live = rig.mint(MintRequest::new("live", "u_1")).await;
    assert_eq!(
        check
            .check(decoy.key.expose(), Some("https://example.test/leak"))
            .await,
        Verdict::NotOurs
    );
    let decoy = rig.keyward.keys().get(&decoy.summary.id).await.unwrap();
    assert_eq!(decoy.state, KeyState::Active);
    // The next report is decided as usual.
    assert!(matches!(
        check.check(live.key.expose(), None).await,
        Verdict::Revoked(_)
    ));
}
