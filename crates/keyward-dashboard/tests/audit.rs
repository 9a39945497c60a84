//! Changes made through the dashboard are audited as the signed-in user, from the
//! client address of the request; the list marks a key expired for disuse.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{csrf, dashboard, get, post_from, u1};
use keyward::Config;
use keyward::manage::Actor;
use keyward::store::{AuditAction, AuditQuery, KeyStore};
use keyward_testing::rig::{Rig, rig, rig_with};

async fn log(rig: &Rig) -> Vec<keyward::store::AuditEntry> {
    rig.store.list_audit(&AuditQuery::all(100)).await.unwrap()
}

#[tokio::test]
async fn a_change_through_the_dashboard_names_the_user_and_the_address() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let me = u1("session-1");
    let from: IpAddr = "203.0.113.20".parse().unwrap();
    let token = csrf(&dashboard, &me).await;
    let created = post_from(
        &dashboard,
        &me,
        "/",
        &[
            ("csrf", &token),
            ("name", "CI"),
            ("expires", "never"),
            ("capabilities", "jobs:read"),
        ],
        Some(from),
    )
    .await
    .status;
    assert_eq!(created, 303);
    let id = log(&rig).await[0].key.to_string();
    let revoked = post_from(
        &dashboard,
        &me,
        &format!("/{id}/revoke"),
        &[("csrf", &token)],
        Some(from),
    )
    .await
    .status;
    assert_eq!(revoked, 303);

    let entries = log(&rig).await;
    let actions: Vec<AuditAction> = entries.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Minted, AuditAction::Revoked]);
    for entry in &entries {
        assert_eq!(entry.actor, Actor::User("u_1".into()));
        assert_eq!(entry.client_ip, Some(from));
    }
    assert_eq!(entries[0].capabilities, ["jobs:read"]);
}

#[tokio::test]
async fn a_key_unused_too_long_is_listed_so() {
    let day = Duration::from_secs(24 * 3600);
    let rig = rig_with(|b| {
        b.config(Config {
            expire_unused_after: Some(30 * day),
            ..Config::default()
        })
    });
    let dashboard = dashboard(&rig);
    rig.mint(keyward::MintRequest::new("idle", "u_1")).await;
    let me = u1("session-1");
    assert!(
        !get(&dashboard, &me, "/")
            .await
            .body
            .contains("expired-unused")
    );
    rig.clock.advance(30 * day);
    let page = get(&dashboard, &me, "/").await.body;
    assert!(page.contains(">expired<"), "{page}");
    assert!(page.contains(r#"data-testid="expired-unused""#), "{page}");
}
