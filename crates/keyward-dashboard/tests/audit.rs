//! Changes made through the dashboard are audited as the signed-in user, from the
//! client address of the request; the list marks a key expired for disuse.

use std::net::IpAddr;
use std::time::Duration;

use keyward::Config;
use keyward::manage::Actor;
use keyward::store::{AuditAction, AuditQuery, KeyStore};
use keyward_dashboard::{Dashboard, DashboardRequest, SignedInUser};
use keyward_testing::rig::{Rig, catalog, rig, rig_with};

const MOUNT: &str = "/settings/api-keys";

fn user() -> SignedInUser {
    SignedInUser::new("session-1", "u_1", catalog().all())
}

/// The CSRF token of the list page.
async fn csrf(dashboard: &Dashboard, user: &SignedInUser) -> String {
    let page = dashboard
        .handle(DashboardRequest::get("/"), Some(user), MOUNT)
        .await;
    let start = page
        .body
        .find(r#"name="csrf" value=""#)
        .expect("a csrf field")
        + 19;
    let len = page.body[start..].find('"').unwrap();
    page.body[start..start + len].to_string()
}

async fn post(
    dashboard: &Dashboard,
    user: &SignedInUser,
    path: &str,
    fields: &[(&str, &str)],
    from: IpAddr,
) -> u16 {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = DashboardRequest::post_form(path, body.as_bytes()).with_client_ip(from);
    dashboard.handle(request, Some(user), MOUNT).await.status
}

async fn log(rig: &Rig) -> Vec<keyward::store::AuditEntry> {
    rig.store.list_audit(&AuditQuery::all(100)).await.unwrap()
}

#[tokio::test]
async fn a_change_through_the_dashboard_names_the_user_and_the_address() {
    let rig = rig();
    let dashboard = Dashboard::new(&rig.keyward).clock(rig.clock.clone());
    let me = user();
    let from: IpAddr = "203.0.113.20".parse().unwrap();
    let token = csrf(&dashboard, &me).await;
    let created = post(
        &dashboard,
        &me,
        "/",
        &[
            ("csrf", &token),
            ("name", "CI"),
            ("expires", "never"),
            ("capabilities", "jobs:read"),
        ],
        from,
    )
    .await;
    assert_eq!(created, 303);
    let id = log(&rig).await[0].key.to_string();
    let revoked = post(
        &dashboard,
        &me,
        &format!("/{id}/revoke"),
        &[("csrf", &token)],
        from,
    )
    .await;
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
    let dashboard = Dashboard::new(&rig.keyward).clock(rig.clock.clone());
    rig.mint(keyward::MintRequest::new("idle", "u_1")).await;
    let me = user();
    let list = |dashboard: &Dashboard| {
        let dashboard = dashboard.clone();
        let me = me.clone();
        async move {
            dashboard
                .handle(DashboardRequest::get("/"), Some(&me), MOUNT)
                .await
                .body
        }
    };
    assert!(!list(&dashboard).await.contains("expired-unused"));
    rig.clock.advance(30 * day);
    let page = list(&dashboard).await;
    assert!(page.contains(">expired<"), "{page}");
    assert!(page.contains(r#"data-testid="expired-unused""#), "{page}");
}
