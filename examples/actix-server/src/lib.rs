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
use actix_web::{HttpResponse, Resource, Route};
use keyward::http::RequestError;
use keyward_actix::{Authenticated, BoundedBody, KeywardMiddleware, to_response};
use keyward_demo_api::{DemoApi, DesktopAction, Started};

type Api = Data<DemoApi>;

/// Every route of the demo API, for `App::new().configure(…)`.
///
/// Each route is wrapped in its own middleware, so an unknown path (404 `not_found`) and
/// a known path with another method (405 `method_not_allowed`, with `Allow`) are
/// answered as keyward's JSON before any authentication, as on axum. JSON bodies are
/// read by [`BoundedBody`] (413 past [`keyward::http::MAX_BODY_LEN`]).
pub fn configure(started: &Started) -> impl FnOnce(&mut ServiceConfig) + Clone + use<> {
    let api = Data::from(Arc::clone(&started.api));
    let need = api.requirements().clone();
    let auth = KeywardMiddleware::new(api.keyward().authenticator())
        .realm(api.realm())
        .client_ip(started.client_ip.clone());
    move |config: &mut ServiceConfig| {
        config
            .app_data(api)
            .service(resource("/healthz", "GET").route(web::get().to(health)))
            .service(resource("/v1/me", "GET").route(web::get().to(me).wrap(auth.clone())))
            .service(
                resource("/v1/desktops", "GET").route(
                    web::get()
                        .to(desktops)
                        .wrap(auth.require(need.desktop_read.clone())),
                ),
            )
            .service(
                resource("/v1/desktops/{id}/chat", "POST").route(
                    web::post()
                        .to(chat)
                        .wrap(auth.require(need.desktop_chat.clone())),
                ),
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
                        .wrap(auth.require(need.desktop_lifecycle.clone())),
                ),
            )
            // One path, two requirements: a middleware per route.
            .service(
                resource("/v1/api_keys", "GET, POST")
                    .route(
                        web::get()
                            .to(list_keys)
                            .wrap(auth.require(need.keys_read.clone())),
                    )
                    .route(
                        web::post()
                            .to(create_key)
                            .wrap(auth.require(need.keys_write.clone())),
                    ),
            )
            .service(
                resource("/v1/api_keys/{id}", "GET, DELETE")
                    .route(
                        web::get()
                            .to(get_key)
                            .wrap(auth.require(need.keys_read.clone())),
                    )
                    .route(
                        web::delete()
                            .to(revoke_key)
                            .wrap(auth.require(need.keys_write.clone())),
                    ),
            )
            .service(
                resource("/v1/api_keys/{id}/disable", "POST").route(
                    web::post()
                        .to(disable_key)
                        .wrap(auth.require(need.keys_write.clone())),
                ),
            )
            .service(
                resource("/v1/api_keys/{id}/enable", "POST").route(
                    web::post()
                        .to(enable_key)
                        .wrap(auth.require(need.keys_write.clone())),
                ),
            )
            .service(
                resource("/v1/api_keys/{id}/roll", "POST")
                    .route(web::post().to(roll_key).wrap(auth.require(need.keys_write))),
            )
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

async fn list_keys(api: Api, Authenticated(caller): Authenticated) -> HttpResponse {
    to_response(api.list_keys(&caller).await)
}

async fn create_key(
    api: Api,
    Authenticated(caller): Authenticated,
    body: BoundedBody,
) -> HttpResponse {
    to_response(api.create_key(&caller, body.as_request_body()).await)
}

async fn get_key(api: Api, Authenticated(caller): Authenticated, id: Path<String>) -> HttpResponse {
    to_response(api.get_key(&caller, &id).await)
}

async fn revoke_key(
    api: Api,
    Authenticated(caller): Authenticated,
    id: Path<String>,
) -> HttpResponse {
    to_response(api.revoke_key(&caller, &id).await)
}

async fn disable_key(
    api: Api,
    Authenticated(caller): Authenticated,
    id: Path<String>,
) -> HttpResponse {
    to_response(api.disable_key(&caller, &id).await)
}

async fn enable_key(
    api: Api,
    Authenticated(caller): Authenticated,
    id: Path<String>,
) -> HttpResponse {
    to_response(api.enable_key(&caller, &id).await)
}

async fn roll_key(
    api: Api,
    Authenticated(caller): Authenticated,
    id: Path<String>,
    body: BoundedBody,
) -> HttpResponse {
    to_response(api.roll_key(&caller, &id, body.as_request_body()).await)
}
