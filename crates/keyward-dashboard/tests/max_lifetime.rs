//! `Config::max_lifetime` on the dashboard's create form: "Never" gets exactly the
//! maximum, a longer choice is refused with the reason and mints nothing.

use std::time::Duration;

use keyward::Config;
use keyward::clock::Clock;
use keyward::store::{AuditQuery, KeyStore, ListFilter, PageRequest};
use keyward_dashboard::{Dashboard, DashboardRequest, SignedInUser};
use keyward_testing::rig::{catalog, rig_with};

const MOUNT: &str = "/settings/api-keys";
const DAY: Duration = Duration::from_secs(24 * 3600);

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

#[tokio::test]
async fn the_create_form_keeps_within_the_maximum() {
    let rig = rig_with(|b| {
        b.config(Config {
            max_lifetime: Some(DAY * 30),
            ..Config::default()
        })
    });
    let dashboard = Dashboard::new(&rig.keyward).clock(rig.clock.clone());
    let me = SignedInUser::new("session-1", "u_1", catalog().all());
    let token = csrf(&dashboard, &me).await;
    let create = |expires: &'static str| {
        let body = serde_urlencoded::to_string([
            ("csrf", token.as_str()),
            ("name", expires),
            ("expires", expires),
            ("capabilities", "jobs:read"),
        ])
        .unwrap();
        let dashboard = dashboard.clone();
        let me = me.clone();
        async move {
            let request = DashboardRequest::post_form("/", body.as_bytes());
            dashboard.handle(request, Some(&me), MOUNT).await
        }
    };

    assert_eq!(create("never").await.status, 303);
    let keys = rig
        .store
        .list(&ListFilter::owner("u_1"), PageRequest::first(10))
        .await
        .unwrap()
        .records;
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0].expires_at,
        Some(rig.clock.now().saturating_add(DAY * 30))
    );

    let refused = create("1y").await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("The key was not created"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("2592000 seconds"), "{}", refused.body);
    let log = rig.store.list_audit(&AuditQuery::all(10)).await.unwrap();
    assert_eq!(log.len(), 1, "only the first key was minted");
}
