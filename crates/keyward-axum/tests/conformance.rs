//! keyward's HTTP contract, run in-process against the axum adapter.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request};
use axum::response::Response;
use axum::routing::{get, post};
use keyward_axum::{Authenticated, BoundedBody, KeywardLayer, management_router, to_response};
use keyward_http_conformance::{self as conformance, REALM, Rig};
use tower::ServiceExt;

fn app(rig: &Rig) -> Router {
    let auth = KeywardLayer::new(rig.authenticator())
        .realm(REALM)
        .client_ip(conformance::client_ip());
    Router::new()
        .route("/v1/me", get(me).layer(auth.clone()))
        .route(
            "/v1/desktops",
            get(me).layer(auth.require(conformance::desktop_read())),
        )
        .route(
            "/v1/jobs",
            post(me).layer(auth.require(conformance::jobs_write())),
        )
        .route("/v1/names", post(names).layer(auth.clone()))
        .route("/public", get(|| async { "{}" }))
        .route("/unguarded", get(me))
        .nest("/v1", management_router(rig.management(), auth))
}

async fn me(Authenticated(principal): Authenticated) -> String {
    conformance::me_body(&principal)
}

async fn names(Authenticated(_): Authenticated, body: BoundedBody) -> Response {
    to_response(conformance::names(body.as_request_body()))
}

async fn send(app: Router, r: conformance::Request) -> conformance::Response {
    let mut builder = Request::builder().method(r.method).uri(r.path.as_str());
    for (name, value) in &r.headers {
        builder = builder.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    let mut request = builder.body(Body::from(r.body)).unwrap();
    if let Some(peer) = r.peer {
        request.extensions_mut().insert(ConnectInfo(peer));
    }
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_owned(), v)
        })
        .collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    conformance::Response {
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_contract() {
    let rig = Rig::new().await;
    let app = app(&rig);
    conformance::run(&rig, |r| send(app.clone(), r)).await;
}
