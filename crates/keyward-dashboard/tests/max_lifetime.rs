//! `Config::max_lifetime` on the dashboard's create form: "Never" gets exactly the
//! maximum, a longer choice is refused with the reason and mints nothing.

mod common;

use std::time::Duration;

use common::{csrf, dashboard, post, u1};
use keyward::Config;
use keyward::clock::Clock;
use keyward::store::{AuditQuery, KeyStore, ListFilter, PageRequest};
use keyward_testing::rig::rig_with;

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn the_create_form_keeps_within_the_maximum() {
    let rig = rig_with(|b| {
        b.config(Config {
            max_lifetime: Some(DAY * 30),
            ..Config::default()
        })
    });
    let dashboard = dashboard(&rig);
    let me = u1("session-1");
    let token = csrf(&dashboard, &me).await;
    let create = |expires: &'static str| {
        let fields = [
            ("csrf", token.as_str()),
            ("name", expires),
            ("expires", expires),
            ("capabilities", "jobs:read"),
        ];
        let (dashboard, me) = (&dashboard, &me);
        async move { post(dashboard, me, "/", &fields).await }
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
