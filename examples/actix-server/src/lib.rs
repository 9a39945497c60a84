//! The demo API on actix-web: routes of DESIGN.md's "Surfaces" table, each resource
//! wrapped in a [`KeywardMiddleware`] with the route's capability requirement.
//!
//! The binary (`cargo run --release -p keyward-example-actix`) serves [`configure`]; the
//! benchmarks call it in-process.

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use actix_web::web::{self, Bytes, Data, Path, ServiceConfig};
use actix_web::{HttpResponse, guard};
use keyward_actix::{Authenticated, KeywardMiddleware, to_response};
use keyward_demo_api::{DemoApi, DesktopAction, Started};

type Api = Data<DemoApi>;

/// Every route of the demo API, for `App::new().configure(…)`.
pub fn configure(started: &Started) -> impl FnOnce(&mut ServiceConfig) + Clone + use<> {
    let api = Data::from(Arc::clone(&started.api));
    let need = api.requirements().clone();
    let auth = KeywardMiddleware::new(api.keyward().authenticator())
        .realm(api.realm())
        .client_ip(started.client_ip.clone());
    move |config: &mut ServiceConfig| {
        config
            .app_data(api)
            .route("/healthz", web::get().to(health))
            .service(web::resource("/v1/me").wrap(auth.clone()).get(me))
            .service(
                web::resource("/v1/desktops")
                    .wrap(auth.require(need.desktop_read.clone()))
                    .get(desktops),
            )
            .service(
                web::resource("/v1/desktops/{id}/chat")
                    .wrap(auth.require(need.desktop_chat.clone()))
                    .post(chat),
            )
            .service(
                web::resource("/v1/desktops/{id}/start")
                    .wrap(auth.require(need.desktop_lifecycle.clone()))
                    .post(start),
            )
            .service(
                web::resource("/v1/desktops/{id}/stop")
                    .wrap(auth.require(need.desktop_lifecycle.clone()))
                    .post(stop),
            )
            // One path, two requirements: a resource per method.
            .service(
                web::resource("/v1/api_keys")
                    .guard(guard::Get())
                    .wrap(auth.require(need.keys_read.clone()))
                    .get(list_keys),
            )
            .service(
                web::resource("/v1/api_keys")
                    .guard(guard::Post())
                    .wrap(auth.require(need.keys_write.clone()))
                    .post(create_key),
            )
            .service(
                web::resource("/v1/api_keys/{id}")
                    .wrap(auth.require(need.keys_write.clone()))
                    .delete(revoke_key),
            )
            .service(
                web::resource("/v1/api_keys/{id}/roll")
                    .wrap(auth.require(need.keys_write))
                    .post(roll_key),
            );
    }
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

async fn create_key(api: Api, Authenticated(caller): Authenticated, body: Bytes) -> HttpResponse {
    to_response(api.create_key(&caller, &body).await)
}

async fn revoke_key(
    api: Api,
    Authenticated(caller): Authenticated,
    id: Path<String>,
) -> HttpResponse {
    to_response(api.revoke_key(&caller, &id).await)
}

async fn roll_key(
    api: Api,
    Authenticated(caller): Authenticated,
    id: Path<String>,
    body: Bytes,
) -> HttpResponse {
    to_response(api.roll_key(&caller, &id, &body).await)
}
