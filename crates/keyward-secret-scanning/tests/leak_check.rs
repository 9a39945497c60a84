//! [`LeakCheck`] on keys in every state: a key whose secret verifies is revoked whatever
//! would stop it today; anything else changes nothing.

use std::time::Duration;

use keyward::MintRequest;
use keyward::store::{Actor, KeyState};
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
