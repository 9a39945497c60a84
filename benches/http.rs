//! `http/*`: one in-process request through each adapter for a cached valid key, beside
//! the same route without authentication. The difference is the adapter's cost per
//! request: credential extraction, client IP, the `Authenticator`, the rate limiter and
//! the `RateLimit-*` headers.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use actix_web::dev::Service as _;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::limit::Quota;
use keyward::store::MemoryStore;
use keyward::{Keyward, MintRequest};
use keyward_benches::poll_ready;
use keyward_testing::rig;
use tower::Service as _;

const PEER: &str = "192.0.2.1:40000";

/// Keyward with the limiter and lockout on, and a budget the benchmark never exhausts.
fn keyward() -> (Keyward, String) {
    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), rig::catalog())
        .store(MemoryStore::new())
        .hasher(BcryptHasher::new(4).unwrap())
        .default_quota(Quota::new(u32::MAX, Duration::from_secs(1)).unwrap())
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let minted = rt
        .block_on(keyward.keys().mint(MintRequest::new("bench", "u_1")))
        .unwrap();
    (keyward, minted.key.expose().to_owned())
}

async fn hello() -> &'static str {
    "hello"
}

fn axum(c: &mut Criterion) {
    use axum::routing::get;
    let (keyward, key) = keyward();
    let auth = keyward_axum::KeywardLayer::new(keyward.authenticator())
        .require(rig::catalog().all_of(["desktop:read"]).unwrap());
    let mut router: axum::Router = axum::Router::new()
        .route("/v1/me", get(hello).layer(auth))
        .route("/healthz", get(hello));
    let peer: SocketAddr = PEER.parse().unwrap();
    let bearer = format!("Bearer {key}");
    let request = |path: &'static str| {
        Request::get(path)
            .header("authorization", bearer.as_str())
            .extension(ConnectInfo(peer))
            .body(Body::empty())
            .unwrap()
    };
    // The first request verifies the key and fills the cache.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let first = rt.block_on(router.call(request("/v1/me"))).unwrap();
    assert_eq!(first.status(), 200);

    let mut group = c.benchmark_group("http");
    group.bench_function("axum_authenticated", |b| {
        b.iter(|| {
            let response = poll_ready(router.call(black_box(request("/v1/me")))).unwrap();
            assert_eq!(response.status(), 200);
            response
        })
    });
    group.bench_function("axum_no_auth", |b| {
        b.iter(|| {
            let response = poll_ready(router.call(black_box(request("/healthz")))).unwrap();
            assert_eq!(response.status(), 200);
            response
        })
    });
    group.finish();
}

fn actix(c: &mut Criterion) {
    use actix_web::{App, test, web};
    let (keyward, key) = keyward();
    let auth = keyward_actix::KeywardMiddleware::new(keyward.authenticator())
        .require(rig::catalog().all_of(["desktop:read"]).unwrap());
    let system = actix_web::rt::System::new();
    let app = system.block_on(test::init_service(
        App::new()
            .service(web::resource("/v1/me").wrap(auth).get(hello))
            .route("/healthz", web::get().to(hello)),
    ));
    let peer: SocketAddr = PEER.parse().unwrap();
    let bearer = format!("Bearer {key}");
    let request = |path: &'static str| {
        test::TestRequest::get()
            .uri(path)
            .insert_header(("authorization", bearer.as_str()))
            .peer_addr(peer)
            .to_request()
    };
    let first = system.block_on(app.call(request("/v1/me"))).unwrap();
    assert_eq!(first.status(), 200);

    let mut group = c.benchmark_group("http");
    group.bench_function("actix_authenticated", |b| {
        b.iter(|| {
            let response = poll_ready(app.call(black_box(request("/v1/me")))).unwrap();
            assert_eq!(response.status(), 200);
            response
        })
    });
    group.bench_function("actix_no_auth", |b| {
        b.iter(|| {
            let response = poll_ready(app.call(black_box(request("/healthz")))).unwrap();
            assert_eq!(response.status(), 200);
            response
        })
    });
    group.finish();
}

criterion_group!(benches, axum, actix);
criterion_main!(benches);
