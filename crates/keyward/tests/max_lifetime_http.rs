//! `Config::max_lifetime` on the management API: a key created without an expiry gets
//! exactly the maximum, a longer one is 400 naming it and mints nothing, and rolling a
//! key created before the setting gives a replacement within it.

mod common;

use std::time::Duration;

use common::{ip, rig};
use keyward::clock::Clock;
use keyward::hash::BcryptHasher;
use keyward::http::RequestBody;
use keyward::http::management::{ManagementApi, ManagementRequest, ManagementRoute};
use keyward::scope::Requirement;
use keyward::store::AuditQuery;
use keyward::{Config, Credential, Keyward, MintRequest};
use serde_json::Value;

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn creates_and_rolls_through_the_api_stay_within_the_maximum() {
    let rig = rig();
    // Minted before the setting: no expiry.
    let before_setting = rig
        .mint(MintRequest::new("old", "u_1").capabilities(["jobs:read"]))
        .await;
    let caller = rig
        .mint(MintRequest::new("caller", "u_1").capabilities(["keys:write", "jobs:read"]))
        .await;
    // The service now runs with a 30-day maximum.
    let bounded = Keyward::builder(
        keyward_testing::rig::format(),
        keyward_testing::rig::catalog(),
    )
    .store(rig.store.clone())
    .clock(rig.clock.clone())
    .hasher(BcryptHasher::new(BcryptHasher::MIN_COST).unwrap())
    .config(Config {
        max_lifetime: Some(DAY * 30),
        ..Config::default()
    })
    .build()
    .unwrap();
    let api = ManagementApi::new(&bounded).unwrap();
    let principal = bounded
        .authenticator()
        .authenticate(
            Credential::Key(caller.key.expose()),
            &Requirement::none(),
            ip("192.0.2.1"),
        )
        .await
        .unwrap();
    let call = async |route, id: Option<&str>, body: &str| {
        let request = ManagementRequest {
            principal: &principal,
            path: "/api_keys",
            id,
            query: None,
            body: RequestBody::json(body.as_bytes()),
            client_ip: None,
        };
        let answer = api.handle(route, request).await;
        let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
        (answer.status, body)
    };
    let latest = || Value::String(rig.clock.now().saturating_add(DAY * 30).to_string());

    let (status, open) = call(
        ManagementRoute::CreateKey,
        None,
        r#"{"name": "open", "capabilities": ["jobs:read"]}"#,
    )
    .await;
    assert_eq!(status, 201, "{open}");
    assert_eq!(open["expires_at"], latest());

    let logged = async || {
        let page = bounded.keys().audit(&AuditQuery::all(100)).await.unwrap();
        page.entries.len()
    };
    let entries = logged().await;
    let (status, refused) = call(
        ManagementRoute::CreateKey,
        None,
        r#"{"name": "long", "capabilities": ["jobs:read"], "expires_in_seconds": 2592001}"#,
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "invalid_request");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("2592000"), "{message}");
    assert_eq!(logged().await, entries, "nothing minted");

    rig.clock.advance(DAY);
    let id = before_setting.summary.id.to_string();
    let (status, rolled) = call(ManagementRoute::RollKey, Some(&id), "").await;
    assert_eq!(status, 201, "{rolled}");
    assert_eq!(rolled["expires_at"], latest());
}
