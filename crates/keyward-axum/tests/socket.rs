//! The layer over a real loopback socket: the peer comes from `ConnectInfo`.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use keyward_axum::{Authenticated, KeywardLayer};
use keyward_http_conformance::Rig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

async fn serve(rig: &Rig, with_connect_info: bool) -> SocketAddr {
    let app = Router::new().route(
        "/v1/me",
        get(me).layer(KeywardLayer::new(rig.authenticator())),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if with_connect_info {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        } else {
            axum::serve(listener, app).await
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_with_connect_info() {
    let rig = Rig::new().await;
    let addr = serve(&rig, true).await;
    let ok = get_me(addr, Some(&rig.keys.reader)).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("ratelimit-remaining: 59"), "{ok}");
    assert!(ok.ends_with("u_2"), "{ok}");
    let missing = get_me(addr, None).await;
    assert!(missing.starts_with("HTTP/1.1 401"), "{missing}");
    assert!(missing.contains("\"missing_credential\""), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_without_connect_info_fails_closed() {
    let rig = Rig::new().await;
    let addr = serve(&rig, false).await;
    let answer = get_me(addr, Some(&rig.keys.reader)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"auth_unavailable\""), "{answer}");
}
