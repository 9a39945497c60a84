//! One keep-alive HTTP/1.1 connection over hyper's client, reopened when the server
//! closes it.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Any failure of the scenario: it is a tool, so errors are reported, not matched.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A server's answer.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

/// A connection to one server, opened on first use.
pub struct Connection {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    /// A connection to `addr`; nothing is opened yet.
    pub fn new(addr: SocketAddr) -> Self {
        Connection { addr, sender: None }
    }

    /// `method path` with `headers`, and `body` as JSON when it is not empty.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Result<Answer, Error> {
        let sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => open(self.addr).await?,
        };
        let sender = self.sender.insert(sender);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_empty() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let answer = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, Error>(Answer { status, body })
        }
        .await;
        if answer.is_err() {
            self.sender = None;
        }
        answer
    }
}

async fn open(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, Error> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the server closes the connection or the sender is dropped.
        let _ = connection.await;
    });
    Ok(sender)
}
