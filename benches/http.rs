//! `http/*`: one in-process request through each adapter for a cached valid key, beside
//! the same handler behind each framework's usual static bearer-token check (the peer)
//! and behind nothing. Every route runs the same handler and answers the same body
//! (`keyward_benches::routes`), and the authenticated routes get the same request.
//!
//! The difference to the open route is the adapter's cost per request: credential
//! extraction, client IP, the `Authenticator`, the rate limiter and the `RateLimit-*`
//! headers. The difference to the peer is what keyward adds over comparing one token.
//!
//! `http/axum_rate_limit_fields` and `http/actix_rate_limit_fields` are the open route
//! plus the five rate-limit fields keyward's route sends, with its values, added by one
//! middleware (axum's `map_response`, actix-web's `DefaultHeaders`): the fields' cost
//! without keyward.
//!
//! Two pairs of parts show what two steps of the axum route cost in `http`'s own types,
//! whoever writes them:
//!
//! - `http/header_map_plain` against `http/header_map_rate_limit`: a response's header
//!   map as the handler and axum fill it (`content-type`, `content-length`), dropped,
//!   against the same map with the five rate-limit fields added the way the adapter
//!   adds them (three numbers from the static table, two values cloned from its cache);
//! - `http/extensions_plain` against `http/extensions_principal`: a request's extensions
//!   as axum's router leaves them (the connection's address and two entries of its own),
//!   dropped, against the same with the caller's `Principal` added (a clone: one
//!   reference count more than the adapter's move).

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
use keyward_benches::routes::{self, FIELDS, KEYWARD, OPEN, STATIC_BEARER};
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
    for path in [KEYWARD, STATIC_BEARER, OPEN, FIELDS] {
        let first = rt.block_on(router.call(request(path))).unwrap();
        assert_eq!(first.status(), 200, "{path}");
    }
    // The fields-only route sends what keyward's route sends.
    let fields_of = |path| {
        let response = rt.block_on(router.clone().call(request(path))).unwrap();
        routes::RATE_LIMIT_FIELDS.map(|(name, _)| response.headers().get(name).cloned())
    };
    assert_eq!(fields_of(KEYWARD), fields_of(FIELDS));

    let mut group = c.benchmark_group("http");
    for (id, path) in [
        ("axum_authenticated", KEYWARD),
        ("axum_static_bearer", STATIC_BEARER),
        ("axum_no_auth", OPEN),
        ("axum_rate_limit_fields", FIELDS),
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
    for path in [KEYWARD, STATIC_BEARER, OPEN, FIELDS] {
        let first = system.block_on(app.call(request(path))).unwrap();
        assert_eq!(first.status(), 200, "{path}");
    }

    let mut group = c.benchmark_group("http");
    for (id, path) in [
        ("actix_authenticated", KEYWARD),
        ("actix_httpauth_bearer", STATIC_BEARER),
        ("actix_no_auth", OPEN),
        ("actix_rate_limit_fields", FIELDS),
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

/// The two steps of the axum route that `http`'s types price: see the module docs.
fn parts(c: &mut Criterion) {
    use axum::extract::OriginalUri;
    use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, header};
    use keyward::limit::headers;

    let names = [
        headers::RATELIMIT_LIMIT,
        headers::RATELIMIT_REMAINING,
        headers::RATELIMIT_RESET,
        headers::RATELIMIT_POLICY,
        headers::RATELIMIT,
    ]
    .map(HeaderName::from_static);
    let numbers = ["1000", "999", "1"].map(HeaderValue::from_static);
    let fields = [r#""key";q=1000"#, r#""key";r=999;t=1"#].map(HeaderValue::from_static);
    let handler_map = || {
        let mut map = HeaderMap::new();
        map.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        map
    };
    let mut group = c.benchmark_group("http");
    group.bench_function("header_map_plain", |b| {
        b.iter(|| {
            let mut map = handler_map();
            map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
            black_box(map)
        })
    });
    group.bench_function("header_map_rate_limit", |b| {
        b.iter(|| {
            let mut map = handler_map();
            let values = numbers.iter().chain(&fields).cloned();
            for (name, value) in names.iter().cloned().zip(values) {
                if let header::Entry::Vacant(vacant) = map.entry(name) {
                    vacant.insert(value);
                }
            }
            map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
            black_box(map)
        })
    });

    let (keyward, key) = keyward();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let principal = rt
        .block_on(keyward.authenticator().authenticate(
            keyward::Credential::Key(&key),
            &keyward::scope::Requirement::none(),
            PEER.parse::<SocketAddr>().unwrap().ip(),
        ))
        .expect("a valid key");
    #[derive(Clone)]
    struct RouterEntry(#[allow(dead_code)] u64);
    let router_extensions = || {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(PEER.parse::<SocketAddr>().unwrap()));
        extensions.insert(OriginalUri(axum::http::Uri::from_static(KEYWARD)));
        extensions.insert(RouterEntry(1));
        extensions
    };
    group.bench_function("extensions_plain", |b| {
        b.iter(|| black_box(router_extensions()))
    });
    group.bench_function("extensions_principal", |b| {
        b.iter(|| {
            let mut extensions = router_extensions();
            extensions.insert(principal.clone());
            black_box(extensions)
        })
    });
    group.finish();
}

criterion_group!(benches, axum, actix, parts);
criterion_main!(benches);
