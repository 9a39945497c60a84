//! The management routes nested under a path that has parameters of its own
//! (`/orgs/{org}`): the `{id}` of each route is still the key's.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::http::management::ManagementApi;
use keyward::scope::Catalog;
use keyward::store::MemoryStore;
use keyward::{Keyward, MintRequest};
use keyward_axum::{KeywardLayer, management_router};
use tower::ServiceExt;

#[tokio::test]
async fn key_routes_answer_under_a_nest_with_its_own_parameter() {
    let catalog = Catalog::builder()
        .capabilities(["keys:read", "keys:write", "jobs:read"])
        .implies("keys:write", "keys:read")
        .build()
        .unwrap();
    let keyward = Keyward::builder(KeyFormat::new("sk_test_").unwrap(), catalog)
        .store(MemoryStore::new())
        .hasher(BcryptHasher::new(BcryptHasher::MIN_COST).unwrap())
        .build()
        .unwrap();
    let minted = keyward
        .keys()
        .mint(MintRequest::new("admin", "u_1").capabilities(["keys:write"]))
        .await
        .unwrap();
    let auth = KeywardLayer::new(keyward.authenticator()).realm("orgs");
    let api = ManagementApi::new(&keyward).unwrap();
    let app: Router = Router::new().nest("/orgs/{org}", management_router(api, auth));
    let peer: SocketAddr = "192.0.2.1:40000".parse().unwrap();

    let id = minted.key.id();
    let mut request = Request::get(format!("/orgs/acme/api_keys/{id}"))
        .header("authorization", format!("Bearer {}", minted.key.expose()))
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let key: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(key["id"], id.as_str());

    // The routes' own 403 (a grant the caller lacks) names the layer's realm.
    let mut request = Request::post("/orgs/acme/api_keys")
        .header("authorization", format!("Bearer {}", minted.key.expose()))
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"name": "ci", "capabilities": ["jobs:read"]}"#,
        ))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"orgs\""),
        "{challenge}"
    );
}
