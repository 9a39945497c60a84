//! Events go through `tracing`; a captured log never holds a secret or a full key.

mod common;

use std::time::Duration;

use common::{captured_log, ip, rig};
use keyward::scope::Requirement;
use keyward::{Credential, MintRequest};
use tracing::Level;

#[tokio::test]
async fn events_are_logged_without_secrets() {
    let rig = rig();
    let ((k, key, typo, rolled), log) = captured_log(Level::TRACE, async {
        let keys = rig.keyward.keys();
        let authn = rig.keyward.authenticator();
        let k = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
        let key = k.key.expose().to_owned();
        authn
            .authenticate(Credential::Key(&key), &Requirement::none(), ip("192.0.2.1"))
            .await
            .unwrap();
        let other = if key.ends_with('x') { 'y' } else { 'x' };
        let typo = format!("{}{other}", &key[..key.len() - 1]);
        let _ = authn
            .authenticate(
                Credential::Key(&typo),
                &Requirement::none(),
                ip("192.0.2.1"),
            )
            .await;
        let rolled = keys
            .roll(&k.key.id(), Duration::from_secs(60))
            .await
            .unwrap();
        keys.expire(&k.key.id()).await.unwrap();
        keys.revoke(&rolled.new.key.id()).await.unwrap();
        let _ = authn
            .authenticate(
                Credential::Key(rolled.new.key.expose()),
                &Requirement::none(),
                ip("192.0.2.1"),
            )
            .await;
        (k, key, typo, rolled)
    })
    .await;
    for event in [
        "key_minted",
        "key_rolled",
        "key_expired",
        "key_revoked",
        "authentication_failed",
    ] {
        assert!(log.contains(event), "missing {event} in:\n{log}");
    }
    assert!(
        log.contains("reason=\"malformed\"") || log.contains("reason=malformed"),
        "{log}"
    );
    assert!(log.contains(k.key.id().as_str()), "ids are logged");
    for secret in [k.key.secret(), rolled.new.key.secret()] {
        let secret = std::str::from_utf8(secret).unwrap();
        assert!(!log.contains(secret), "a secret leaked into:\n{log}");
    }
    assert!(!log.contains(&key) && !log.contains(rolled.new.key.expose()) && !log.contains(&typo));
}

#[tokio::test]
async fn a_flood_of_refusals_is_one_line_per_client_and_reason_per_interval() {
    let rig = common::rig_with(|b| b.without_lockout());
    let authn = rig.keyward.authenticator();
    let garbage = "sk_live_not-a-key";
    let ((), log) = captured_log(Level::TRACE, async {
        for _ in 0..500 {
            let _ = authn
                .authenticate(
                    Credential::Key(garbage),
                    &Requirement::none(),
                    ip("192.0.2.9"),
                )
                .await;
        }
        // Another client's first refusal is logged at once.
        let _ = authn
            .authenticate(
                Credential::Key(garbage),
                &Requirement::none(),
                ip("2001:db8:5:6::1"),
            )
            .await;
        rig.clock.advance(Duration::from_secs(10));
        let _ = authn
            .authenticate(
                Credential::Key(garbage),
                &Requirement::none(),
                ip("192.0.2.9"),
            )
            .await;
    })
    .await;
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("authentication_failed"))
        .collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].contains("client=192.0.2.9") && lines[0].contains("suppressed=0"));
    assert!(
        lines[1].contains("client=2001:db8:5:6::/64"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("client=192.0.2.9") && lines[2].contains("suppressed=499"),
        "{}",
        lines[2]
    );
    assert!(
        !log.contains(garbage),
        "the presented credential is never logged"
    );
}
