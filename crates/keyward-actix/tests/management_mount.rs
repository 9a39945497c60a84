//! The management routes mounted under a scope that has path parameters of its own
//! (`/orgs/{org}`): the `{id}` of each route is still the key's.

use actix_web::{App, test, web};
use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::http::management::ManagementApi;
use keyward::scope::Catalog;
use keyward::store::MemoryStore;
use keyward::{Keyward, MintRequest};
use keyward_actix::{KeywardMiddleware, configure_management};

#[actix_web::test]
async fn key_routes_answer_under_a_scope_with_its_own_parameter() {
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
    let auth = KeywardMiddleware::new(keyward.authenticator()).realm("orgs");
    let api = ManagementApi::new(&keyward).unwrap();
    let app = test::init_service(
        App::new().service(web::scope("/orgs/{org}").configure(configure_management(api, auth))),
    )
    .await;

    let id = minted.key.id();
    let request = test::TestRequest::get()
        .uri(&format!("/orgs/acme/api_keys/{id}"))
        .peer_addr("192.0.2.1:40000".parse().unwrap())
        .insert_header(("authorization", format!("Bearer {}", minted.key.expose())))
        .to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let key: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(key["id"], id.as_str());

    // The routes' own 403 (a grant the caller lacks) names the middleware's realm.
    let request = test::TestRequest::post()
        .uri("/orgs/acme/api_keys")
        .peer_addr("192.0.2.1:40000".parse().unwrap())
        .insert_header(("authorization", format!("Bearer {}", minted.key.expose())))
        .insert_header(("content-type", "application/json"))
        .set_payload(r#"{"name": "ci", "capabilities": ["jobs:read"]}"#)
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status().as_u16(), 403);
    let challenge = response
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"orgs\""),
        "{challenge}"
    );
}
