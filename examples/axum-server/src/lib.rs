//! The demo API on axum: every route of the demo API, each behind a [`KeywardLayer`]
//! with the route's capability requirement.
//!
//! The binary (`cargo run --release -p keyward-example-axum`) serves [`router`]; the
//! benchmarks call it in-process.

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use keyward::http::RequestError;
use keyward_axum::{Authenticated, BoundedBody, KeywardLayer, management_router, to_response};
use keyward_demo_api::{
    DASHBOARD_PATH, DemoApi, DesktopAction, SECRET_SCANNING_PATH, SignIn, Started,
};

type Api = State<Arc<DemoApi>>;

/// Every route of the demo API; serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the layer sees the client IP.
///
/// The desktop routes are left out (404) when the configuration's catalog lacks their
/// capabilities. The key-management routes are keyward's ([`management_router`],
/// mounted at `/v1`),
/// described by `GET /openapi.json` (no key needed). An unknown path is 404 `not_found`
/// and a known path with another method 405 `method_not_allowed` (with axum's
/// `Allow`), both as keyward's JSON and before any authentication.
///
/// The demo sign-in (`GET`/`POST /login`, `POST /logout`, `GET /settings`) is the host
/// session of the API-keys dashboard at `/settings/api-keys`; its cookie is read there
/// only: the `/v1` routes take API keys, never a session.
pub fn router(started: &Started) -> Router {
    let api = &started.api;
    let auth = KeywardLayer::new(api.keyward().authenticator())
        .realm(api.realm())
        .client_ip(started.client_ip.clone());
    let document: Arc<str> = started.api.management().openapi("/v1").into();
    let mut router = Router::new()
        .route("/healthz", get(health))
        .route(
            "/openapi.json",
            get(
                move || async move { ([(CONTENT_TYPE, "application/json")], document.to_string()) },
            ),
        )
        .route("/v1/me", get(me).layer(auth.clone()));
    // A catalog without the desktop capabilities has no desktop routes (404).
    if let Some(need) = api.requirements() {
        router = router
            .route(
                "/v1/desktops",
                get(desktops).layer(auth.require(need.desktop_read.clone())),
            )
            .route(
                "/v1/desktops/{id}/chat",
                post(chat).layer(auth.require(need.desktop_chat.clone())),
            )
            .route(
                "/v1/desktops/{id}/start",
                post(start).layer(auth.require(need.desktop_lifecycle.clone())),
            )
            .route(
                "/v1/desktops/{id}/stop",
                post(stop).layer(auth.require(need.desktop_lifecycle.clone())),
            );
    }
    // The leaked-key receiver, when GitHub's public keys were given: signed, no API key.
    if let Some(receiver) = &started.secret_scanning {
        router = router.route(
            SECRET_SCANNING_PATH,
            keyward_secret_scanning::axum::endpoint(receiver.clone()),
        );
    }
    router
        .merge(sign_in_routes(&started.sign_in))
        // nest_service, not nest: the dashboard's own links end in `/`
        // (`/settings/api-keys/`), which a nested router would leave to the fallback.
        .nest_service(
            DASHBOARD_PATH,
            keyward_dashboard::axum::router(started.dashboard.clone(), {
                let sign_in = started.sign_in.clone();
                move |parts: &Parts| sign_in.signed_in(cookies(&parts.headers))
            }),
        )
        .nest("/v1", management_router(api.management().clone(), auth))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(Arc::clone(api))
}

/// `/login`, `/logout` and `/settings`: the demo's stand-in for an application's own
/// sign-in.
fn sign_in_routes(sign_in: &SignIn) -> Router<Arc<DemoApi>> {
    let page = sign_in.clone();
    let form = sign_in.clone();
    let out = sign_in.clone();
    let settings = sign_in.clone();
    Router::new()
        .route(
            "/login",
            get(move || async move { to_response(page.login_page()) }).post(
                move |headers: HeaderMap, body: BoundedBody| async move {
                    let body = body.as_request_body();
                    to_response(form.sign_in(cookies(&headers), body.content_type, body.bytes))
                },
            ),
        )
        .route(
            "/logout",
            post(move |headers: HeaderMap| async move {
                to_response(out.sign_out(cookies(&headers)))
            }),
        )
        .route(
            "/settings",
            get(move || async move { to_response(settings.settings()) }),
        )
}

/// The `Cookie` header values of a request.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(COOKIE).iter().map(|value| value.as_bytes())
}

async fn not_found() -> Response {
    to_response(RequestError::NotFound.render())
}

async fn method_not_allowed() -> Response {
    to_response(RequestError::MethodNotAllowed.render())
}

async fn health(State(api): Api) -> Response {
    to_response(api.health())
}

async fn me(State(api): Api, Authenticated(caller): Authenticated) -> Response {
    to_response(api.me(&caller))
}

async fn desktops(State(api): Api, Authenticated(caller): Authenticated) -> Response {
    to_response(api.desktops(&caller))
}

async fn chat(
    State(api): Api,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Response {
    to_response(api.desktop_action(&caller, &id, DesktopAction::Chat))
}

async fn start(
    State(api): Api,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Response {
    to_response(api.desktop_action(&caller, &id, DesktopAction::Start))
}

async fn stop(
    State(api): Api,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Response {
    to_response(api.desktop_action(&caller, &id, DesktopAction::Stop))
}
