//! DESIGN.md's HTTP contract, run in-process against the actix-web adapter.

use actix_web::http::Method;
use actix_web::http::header::HeaderValue;
use actix_web::{App, test, web};
use keyward_actix::{Authenticated, KeywardMiddleware};
use keyward_http_conformance::{self as conformance, REALM, Rig};

async fn me(Authenticated(principal): Authenticated) -> String {
    conformance::me_body(&principal)
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
            .route("/public", web::get().to(|| async { "{}" }))
            .route("/unguarded", web::get().to(me)),
    )
    .await;

    conformance::run(&rig, |r| {
        let mut request = test::TestRequest::default()
            .method(Method::from_bytes(r.method.as_bytes()).unwrap())
            .uri(r.path);
        for (name, value) in &r.headers {
            request = request.append_header((*name, HeaderValue::from_bytes(value).unwrap()));
        }
        if let Some(peer) = r.peer {
            request = request.peer_addr(peer);
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
