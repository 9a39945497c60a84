//! The middleware over a real loopback socket: the peer is the connection's.

use std::net::SocketAddr;

use actix_web::{App, HttpServer, web};
use keyward_actix::{Authenticated, KeywardMiddleware};
use keyward_http_conformance::Rig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn me(Authenticated(principal): Authenticated) -> String {
    principal.owner().to_owned()
}

async fn get_me(addr: SocketAddr, key: Option<&str>) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    let request = format!("GET /v1/me HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[actix_web::test]
async fn served_over_a_socket() {
    let rig = Rig::new().await;
    let auth = KeywardMiddleware::new(rig.authenticator());
    let server = HttpServer::new(move || {
        App::new().service(
            web::resource("/v1/me")
                .wrap(auth.clone())
                .route(web::get().to(me)),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let ok = get_me(addr, Some(&rig.keys.reader)).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("ratelimit-remaining: 59"), "{ok}");
    assert!(ok.ends_with("u_2"), "{ok}");
    let missing = get_me(addr, None).await;
    assert!(missing.starts_with("HTTP/1.1 401"), "{missing}");
    assert!(missing.contains("\"missing_credential\""), "{missing}");
    handle.stop(false).await;
}
