//! The routes that the `http/*` benchmarks and the `bench-server` binary share, so that
//! every route compared runs the same handler and answers the same body:
//!
//! - [`KEYWARD`]: keyward's layer or middleware, a cached key, the rate limiter on;
//! - [`STATIC_BEARER`]: a peer's check of one static token (tower-http's
//!   `ValidateRequestHeaderLayer`, actix-web-httpauth's `HttpAuthentication::bearer`),
//!   compared in constant time;
//! - [`OPEN`]: no authentication at all;
//! - [`FIELDS`]: no authentication, and the five rate-limit fields keyward's route
//!   sends, with the same values, added by one middleware (axum's `map_response`,
//!   actix-web's `DefaultHeaders`): what those fields cost whoever writes them.

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use std::time::Duration;

use keyward::limit::Quota;
use keyward::scope::Requirement;
use subtle::ConstantTimeEq;

/// The authenticated route, behind keyward.
pub const KEYWARD: &str = "/v1/me";
/// The same handler behind a peer's static bearer-token check.
pub const STATIC_BEARER: &str = "/static/me";
/// The same handler with no authentication.
pub const OPEN: &str = "/healthz";
/// The same handler with no authentication and keyward's five rate-limit fields.
pub const FIELDS: &str = "/fields/me";

/// The five rate-limit fields keyward's route sends under [`quota`] to a key whose
/// bucket is full, as (name, value).
pub const RATE_LIMIT_FIELDS: [(&str, &str); 5] = [
    ("ratelimit-limit", "1000"),
    ("ratelimit-remaining", "999"),
    ("ratelimit-reset", "1"),
    ("ratelimit-policy", r#""key";q=1000"#),
    ("ratelimit", r#""key";r=999;t=1"#),
];

/// What every route answers.
pub const BODY: &str = "hello";

/// The one handler of every route, in both frameworks.
pub async fn hello() -> &'static str {
    BODY
}

/// The rate limit of keyward's routes: 1,000 requests per 100 µs, a budget no
/// benchmark exhausts (ten million a second) whose `RateLimit-*` values have as many
/// digits as a real deployment's (`RateLimit-Limit: 1000`).
pub fn quota() -> Quota {
    Quota::new(1_000, Duration::from_micros(100)).expect("a valid quota")
}

/// What keyward's routes require of the key: one capability, so the capability check
/// runs as on a real route.
pub fn requirement() -> Requirement {
    keyward_testing::rig::catalog()
        .all_of(["desktop:read"])
        .expect("the rig's catalog has desktop:read")
}

/// The four routes in axum. `static_token` is the token the peer's route accepts.
// tower-http's validator returns the refusal, a whole response, as its `Err`.
#[allow(clippy::result_large_err)]
pub fn axum(authenticator: keyward::Authenticator, static_token: &str) -> axum::Router {
    use axum::routing::get;
    use tower_http::validate_request::ValidateRequestHeaderLayer;

    let keyward = keyward_axum::KeywardLayer::new(authenticator).require(requirement());
    // tower-http's own `ValidateRequestHeaderLayer::bearer` is deprecated and compares
    // with `==`; its `custom` form with a constant-time comparison is the fair peer.
    let expected =
        HeaderValue::try_from(format!("Bearer {static_token}")).expect("a token is a header value");
    let static_bearer = ValidateRequestHeaderLayer::custom(move |request: &mut Request<Body>| {
        match request.headers().get(header::AUTHORIZATION) {
            Some(value) if bool::from(value.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
            _ => {
                let mut refused = Response::new(Body::empty());
                *refused.status_mut() = StatusCode::UNAUTHORIZED;
                Err(refused)
            }
        }
    });
    axum::Router::new()
        .route(KEYWARD, get(hello).layer(keyward))
        .route(STATIC_BEARER, get(hello).layer(static_bearer))
        .route(OPEN, get(hello))
        .route(
            FIELDS,
            get(hello).layer(axum::middleware::map_response(add_rate_limit_fields)),
        )
}

/// The five [`RATE_LIMIT_FIELDS`] added to an axum response, in one middleware.
async fn add_rate_limit_fields(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    for (name, value) in RATE_LIMIT_FIELDS {
        headers.insert(
            axum::http::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// The four routes in actix-web, for `App::configure`. `static_token` is the token
/// the peer's route accepts.
pub fn actix(
    authenticator: keyward::Authenticator,
    static_token: &str,
) -> impl FnOnce(&mut actix_web::web::ServiceConfig) + use<> {
    use actix_web::dev::ServiceRequest;
    use actix_web::{error, web};
    use actix_web_httpauth::extractors::bearer::BearerAuth;
    use actix_web_httpauth::middleware::HttpAuthentication;

    let keyward = keyward_actix::KeywardMiddleware::new(authenticator).require(requirement());
    let expected: std::sync::Arc<[u8]> = static_token.as_bytes().into();
    let static_bearer =
        HttpAuthentication::bearer(move |request: ServiceRequest, bearer: BearerAuth| {
            let accepted = bool::from(bearer.token().as_bytes().ct_eq(&expected));
            async move {
                if accepted {
                    Ok(request)
                } else {
                    Err((error::ErrorUnauthorized(""), request))
                }
            }
        });
    move |config: &mut web::ServiceConfig| {
        config
            .service(web::resource(KEYWARD).wrap(keyward).get(hello))
            .service(web::resource(STATIC_BEARER).wrap(static_bearer).get(hello))
            .route(OPEN, web::get().to(hello))
            .service(
                web::resource(FIELDS)
                    .wrap(
                        RATE_LIMIT_FIELDS
                            .into_iter()
                            .fold(actix_web::middleware::DefaultHeaders::new(), |d, field| {
                                d.add(field)
                            }),
                    )
                    .get(hello),
            );
    }
}
