//! keyward's HTTP contract, run in-process against the actix-web adapter.

use actix_web::http::Method;
use actix_web::http::header::HeaderValue;
use actix_web::{App, HttpResponse, test, web};
use keyward_actix::{
    Authenticated, BoundedBody, KeywardMiddleware, configure_management, to_response,
};
use keyward_http_conformance::{self as conformance, REALM, Rig};

async fn me(Authenticated(principal): Authenticated) -> String {
    conformance::me_body(&principal)
}

async fn names(Authenticated(_): Authenticated, body: BoundedBody) -> HttpResponse {
    to_response(conformance::names(body.as_request_body()))
}

#[actix_web::test]
async fn http_contract() {
    let rig = Rig::new().await;
    let auth = KeywardMiddleware::new(rig.authenticator())
        .realm(REALM)
        .client_ip(conformance::client_ip());
    let app = test::init_service(
        App::new()
            .service(
                web::resource("/v1/me")
                    .wrap(auth.clone())
                    .route(web::get().to(me)),
            )
            .service(
                web::resource("/v1/desktops")
                    .wrap(auth.require(conformance::desktop_read()))
                    .route(web::get().to(me)),
            )
            .service(
                web::scope("/v1/jobs")
                    .wrap(auth.require(conformance::jobs_write()))
                    .route("", web::post().to(me)),
            )
            .service(
                web::resource("/v1/names")
                    .wrap(auth.clone())
                    .route(web::post().to(names)),
            )
            .route("/public", web::get().to(|| async { "{}" }))
            .route("/unguarded", web::get().to(me))
            .service(web::scope("/v1").configure(configure_management(rig.management(), auth))),
    )
    .await;

    conformance::run(&rig, |r| {
        let mut request = test::TestRequest::default()
            .method(Method::from_bytes(r.method.as_bytes()).unwrap())
            .uri(&r.path);
        for (name, value) in &r.headers {
            request = request.append_header((*name, HeaderValue::from_bytes(value).unwrap()));
        }
        if let Some(peer) = r.peer {
            request = request.peer_addr(peer);
        }
        if !r.body.is_empty() {
            request = request.set_payload(r.body);
        }
        let app = &app;
        async move {
            let response = test::call_service(app, request.to_request()).await;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_owned(), v)
                })
                .collect();
            let body = test::read_body(response).await.to_vec();
            conformance::Response {
                status,
                headers,
                body,
            }
        }
    })
    .await;
}
