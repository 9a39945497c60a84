//! [`FaultProxy`]: a loopback TCP proxy a test can cut, stall and restore, to take
//! PostgreSQL or Redis away from a client (a store, a limiter, a running server) without
//! stopping the shared test instances.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

/// Forwards connections to an upstream, until told otherwise:
///
/// - [`cut`](FaultProxy::cut): every open connection is dropped and each new one closed
///   at once, as a stopped server looks to its clients;
/// - [`stall`](FaultProxy::stall): connections stay open but nothing is forwarded, as a
///   network that silently drops packets looks;
/// - [`freeze_open_connections`](FaultProxy::freeze_open_connections): the connections
///   open now never forward again, new ones work, as a peer gone without a reset looks.
#[derive(Debug)]
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    link: watch::Sender<Link>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    acceptor: JoinHandle<()>,
}

/// What the proxy lets through; connections are numbered in accept order.
#[derive(Debug, Clone, Copy, Default)]
struct Link {
    cut: bool,
    stalled: bool,
    accepted: u64,
    frozen_below: u64,
}

impl Link {
    fn holds(&self, connection: u64) -> bool {
        self.stalled || connection < self.frozen_below
    }
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound: this is a test helper.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (link, _) = watch::channel(Link::default());
        let connections = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let (shared_link, shared_connections) = (link.clone(), Arc::clone(&connections));
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                // Numbering needs no wake-up: no connection waits on the count.
                let mut number = None;
                shared_link.send_if_modified(|link| {
                    if !link.cut {
                        number = Some(link.accepted);
                        link.accepted += 1;
                    }
                    false
                });
                let Some(number) = number else {
                    drop(client);
                    continue;
                };
                let task = tokio::spawn(forward(client, upstream, number, shared_link.subscribe()));
                let mut open = lock(&shared_connections);
                open.retain(|c| !c.is_finished());
                open.push(task.abort_handle());
            }
        });
        FaultProxy {
            addr,
            link,
            connections,
            acceptor,
        }
    }

    /// `service_url` with its host and port replaced by this proxy's address.
    pub fn url(&self, service_url: &str) -> String {
        crate::services::url_via(service_url, self.addr)
    }

    /// Takes the upstream away: open connections are dropped, new ones closed at once.
    pub fn cut(&self) {
        self.link.send_modify(|link| link.cut = true);
        for connection in std::mem::take(&mut *lock(&self.connections)) {
            connection.abort();
        }
    }

    /// Brings the upstream back after [`cut`](FaultProxy::cut).
    pub fn restore(&self) {
        self.link.send_modify(|link| link.cut = false);
    }

    /// While `stalled`, every connection stays open and forwards nothing: a hanging
    /// upstream.
    pub fn stall(&self, stalled: bool) {
        self.link.send_modify(|link| link.stalled = stalled);
    }

    /// Every connection open now stays open and forwards nothing, for good; new ones
    /// work.
    pub fn freeze_open_connections(&self) {
        self.link
            .send_modify(|link| link.frozen_below = link.accepted);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.cut();
        self.acceptor.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

async fn forward(
    client: TcpStream,
    upstream: SocketAddr,
    number: u64,
    link: watch::Receiver<Link>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        pump(client_read, server_write, number, link.clone()),
        pump(server_read, client_write, number, link),
    );
}

/// Copies `from` to `to`, holding each read while the link holds this connection.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    connection: u64,
    mut link: watch::Receiver<Link>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if link.wait_for(|l| !l.holds(connection)).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// An upstream that echoes every byte back.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = socket.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    async fn round_trip(stream: &mut TcpStream) -> std::io::Result<[u8; 4]> {
        stream.write_all(b"ping").await?;
        let mut answer = [0u8; 4];
        stream.read_exact(&mut answer).await?;
        Ok(answer)
    }

    const QUIET: Duration = Duration::from_millis(200);

    #[tokio::test]
    async fn forwards_cuts_and_restores() {
        let proxy = FaultProxy::start(echo().await).await;
        let mut open = TcpStream::connect(proxy.addr).await.unwrap();
        assert_eq!(&round_trip(&mut open).await.unwrap(), b"ping");

        proxy.cut();
        assert!(
            round_trip(&mut open).await.is_err(),
            "open connections drop"
        );
        let mut new = TcpStream::connect(proxy.addr).await.unwrap();
        assert!(
            round_trip(&mut new).await.is_err(),
            "new ones close at once"
        );

        proxy.restore();
        let mut again = TcpStream::connect(proxy.addr).await.unwrap();
        assert_eq!(&round_trip(&mut again).await.unwrap(), b"ping");
    }

    #[tokio::test]
    async fn a_stall_holds_bytes_until_it_ends() {
        let proxy = FaultProxy::start(echo().await).await;
        let mut stream = TcpStream::connect(proxy.addr).await.unwrap();
        proxy.stall(true);
        let held = tokio::time::timeout(QUIET, round_trip(&mut stream)).await;
        assert!(held.is_err(), "nothing comes back while stalled");
        proxy.stall(false);
        let mut answer = [0u8; 4];
        stream.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"ping", "the held bytes arrive");
    }

    #[tokio::test]
    async fn frozen_connections_stay_frozen_and_new_ones_work() {
        let proxy = FaultProxy::start(echo().await).await;
        let mut old = TcpStream::connect(proxy.addr).await.unwrap();
        assert_eq!(&round_trip(&mut old).await.unwrap(), b"ping");
        proxy.freeze_open_connections();
        let held = tokio::time::timeout(QUIET, round_trip(&mut old)).await;
        assert!(held.is_err(), "the old connection forwards nothing");
        let mut new = TcpStream::connect(proxy.addr).await.unwrap();
        assert_eq!(&round_trip(&mut new).await.unwrap(), b"ping");
    }
}
