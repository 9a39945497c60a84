//! `http/*`: one in-process request through each adapter for a cached valid key, beside
//! the same handler behind each framework's usual static bearer-token check (the peer)
//! and behind nothing. Every route runs the same handler and answers the same body
//! (`keyward_benches::routes`), and the authenticated routes get the same request.
//!
//! The difference to the open route is the adapter's cost per request: credential
//! extraction, client IP, the `Authenticator`, the rate limiter and the `RateLimit-*`
//! headers. The difference to the peer is what keyward adds over comparing one token.

use std::hint::black_box;
use std::net::SocketAddr;

use actix_web::dev::Service as _;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::store::MemoryStore;
use keyward::{Keyward, MintRequest};
use keyward_benches::poll_ready;
use keyward_benches::routes::{self, KEYWARD, OPEN, STATIC_BEARER};
use keyward_testing::rig;
use tower::Service as _;

const PEER: &str = "192.0.2.1:40000";

/// Keyward with the limiter and lockout on, and a budget the benchmark never exhausts
/// (`routes::quota`).
fn keyward() -> (Keyward, String) {
    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), rig::catalog())
        .store(MemoryStore::new())
        .hasher(BcryptHasher::new(4).unwrap())
        .default_quota(routes::quota())
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

fn axum(c: &mut Criterion) {
    let (keyward, key) = keyward();
    // The peer's static token is the same key: both routes get byte-identical requests.
    let mut router = routes::axum(keyward.authenticator(), &key);
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
    for path in [KEYWARD, STATIC_BEARER, OPEN] {
        let first = rt.block_on(router.call(request(path))).unwrap();
        assert_eq!(first.status(), 200, "{path}");
    }

    let mut group = c.benchmark_group("http");
    for (id, path) in [
        ("axum_authenticated", KEYWARD),
        ("axum_static_bearer", STATIC_BEARER),
        ("axum_no_auth", OPEN),
    ] {
        group.bench_function(id, |b| {
            b.iter(|| {
                let response = poll_ready(router.call(black_box(request(path)))).unwrap();
                assert_eq!(response.status(), 200);
                response
            })
        });
    }
    group.finish();
}

fn actix(c: &mut Criterion) {
    use actix_web::{App, test};
    let (keyward, key) = keyward();
    let system = actix_web::rt::System::new();
    let app = system.block_on(test::init_service(
        App::new().configure(routes::actix(keyward.authenticator(), &key)),
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
    for path in [KEYWARD, STATIC_BEARER, OPEN] {
        let first = system.block_on(app.call(request(path))).unwrap();
        assert_eq!(first.status(), 200, "{path}");
    }

    let mut group = c.benchmark_group("http");
    for (id, path) in [
        ("actix_authenticated", KEYWARD),
        ("actix_httpauth_bearer", STATIC_BEARER),
        ("actix_no_auth", OPEN),
    ] {
        group.bench_function(id, |b| {
            b.iter(|| {
                let response = poll_ready(app.call(black_box(request(path)))).unwrap();
                assert_eq!(response.status(), 200);
                response
            })
        });
    }
    group.finish();
}

criterion_group!(benches, axum, actix);
criterion_main!(benches);
