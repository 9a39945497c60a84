//! The demo API on actix-web: every route of the demo API, each wrapped in a
//! [`KeywardMiddleware`] with the route's capability requirement.
//!
//! The binary (`cargo run --release -p keyward-example-actix`) serves [`configure`]; the
//! benchmarks call it in-process.

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Data, Path, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, Resource, Route};
use keyward::http::RequestError;
use keyward_actix::{
    Authenticated, BoundedBody, KeywardMiddleware, configure_management, to_response,
};
use keyward_demo_api::{
    DASHBOARD_PATH, DemoApi, DesktopAction, SECRET_SCANNING_PATH, SignIn, Started,
};

type Api = Data<DemoApi>;

/// Every route of the demo API, for `App::new().configure(…)`.
///
/// The desktop routes are left out (404) when the configuration's catalog lacks their
/// capabilities. The key-management routes are keyward's ([`configure_management`], in
/// a `/v1` scope), described by `GET /openapi.json` (no key needed). Each route is wrapped in
/// its own middleware, so an unknown path (404 `not_found`) and a known path with
/// another method (405 `method_not_allowed`, with `Allow`) are answered as keyward's
/// JSON before any authentication, as on axum.
///
/// The demo sign-in (`GET`/`POST /login`, `POST /logout`, `GET /settings`) is the host
/// session of the API-keys dashboard at `/settings/api-keys`; its cookie is read there
/// only: the `/v1` routes take API keys, never a session.
pub fn configure(started: &Started) -> impl FnOnce(&mut ServiceConfig) + Clone + use<> {
    let api = Data::from(Arc::clone(&started.api));
    let sign_in = Data::new(started.sign_in.clone());
    let dashboard = keyward_dashboard::actix::configure(started.dashboard.clone(), {
        let sign_in = started.sign_in.clone();
        move |request: &HttpRequest| sign_in.signed_in(cookies(request))
    });
    let need = api.requirements().cloned();
    let auth = KeywardMiddleware::new(api.keyward().authenticator())
        .realm(api.realm())
        .client_ip(started.client_ip.clone());
    let management = configure_management(api.management().clone(), auth.clone());
    let document: Arc<str> = started.api.management().openapi("/v1").into();
    let secret_scanning = started.secret_scanning.clone();
    move |config: &mut ServiceConfig| {
        // The leaked-key receiver, when GitHub's public keys were given: signed, no API
        // key.
        if let Some(receiver) = secret_scanning {
            config.service(
                resource(SECRET_SCANNING_PATH, "POST")
                    .route(keyward_secret_scanning::actix::route(receiver)),
            );
        }
        config
            .app_data(api)
            .app_data(sign_in)
            .service(resource("/healthz", "GET").route(web::get().to(health)))
            .service(
                resource("/login", "GET, POST")
                    .route(web::get().to(login_page))
                    .route(web::post().to(login)),
            )
            .service(resource("/logout", "POST").route(web::post().to(logout)))
            .service(resource("/settings", "GET").route(web::get().to(settings)))
            .service(web::scope(DASHBOARD_PATH).configure(dashboard))
            .service(
                resource("/openapi.json", "GET").route(web::get().to(move || {
                    let document = Arc::clone(&document);
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(document.to_string())
                    }
                })),
            )
            .service(resource("/v1/me", "GET").route(web::get().to(me).wrap(auth.clone())));
        // A catalog without the desktop capabilities has no desktop routes (404).
        if let Some(need) = need {
            config
                .service(
                    resource("/v1/desktops", "GET").route(
                        web::get()
                            .to(desktops)
                            .wrap(auth.require(need.desktop_read)),
                    ),
                )
                .service(
                    resource("/v1/desktops/{id}/chat", "POST")
                        .route(web::post().to(chat).wrap(auth.require(need.desktop_chat))),
                )
                .service(
                    resource("/v1/desktops/{id}/start", "POST").route(
                        web::post()
                            .to(start)
                            .wrap(auth.require(need.desktop_lifecycle.clone())),
                    ),
                )
                .service(
                    resource("/v1/desktops/{id}/stop", "POST").route(
                        web::post()
                            .to(stop)
                            .wrap(auth.require(need.desktop_lifecycle)),
                    ),
                );
        }
        // After every other /v1 resource: a scope answers every path under it (an
        // unknown one with the default service below).
        config
            .service(web::scope("/v1").configure(management))
            .default_service(web::to(not_found));
    }
}

/// A resource whose other methods are answered 405 `method_not_allowed` with `Allow:
/// allow`.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(method_not_allowed(allow))
}

fn method_not_allowed(allow: &'static str) -> Route {
    web::route().to(move || async move {
        let mut response = to_response(RequestError::MethodNotAllowed.render());
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        response
    })
}

/// The `Cookie` header values of a request.
fn cookies(request: &HttpRequest) -> impl Iterator<Item = &[u8]> {
    request
        .headers()
        .get_all(header::COOKIE)
        .map(HeaderValue::as_bytes)
}

async fn login_page(sign_in: Data<SignIn>) -> HttpResponse {
    to_response(sign_in.login_page())
}

async fn login(sign_in: Data<SignIn>, request: HttpRequest, body: BoundedBody) -> HttpResponse {
    let body = body.as_request_body();
    to_response(sign_in.sign_in(cookies(&request), body.content_type, body.bytes))
}

async fn logout(sign_in: Data<SignIn>, request: HttpRequest) -> HttpResponse {
    to_response(sign_in.sign_out(cookies(&request)))
}

async fn settings(sign_in: Data<SignIn>) -> HttpResponse {
    to_response(sign_in.settings())
}

async fn not_found() -> HttpResponse {
    to_response(RequestError::NotFound.render())
}

async fn health(api: Api) -> HttpResponse {
    to_response(api.health())
}

async fn me(api: Api, Authenticated(caller): Authenticated) -> HttpResponse {
    to_response(api.me(&caller))
}

async fn desktops(api: Api, Authenticated(caller): Authenticated) -> HttpResponse {
    to_response(api.desktops(&caller))
}

async fn chat(api: Api, Authenticated(caller): Authenticated, id: Path<String>) -> HttpResponse {
    to_response(api.desktop_action(&caller, &id, DesktopAction::Chat))
}

async fn start(api: Api, Authenticated(caller): Authenticated, id: Path<String>) -> HttpResponse {
    to_response(api.desktop_action(&caller, &id, DesktopAction::Start))
}

async fn stop(api: Api, Authenticated(caller): Authenticated, id: Path<String>) -> HttpResponse {
    to_response(api.desktop_action(&caller, &id, DesktopAction::Stop))
}
