//! [`FaultProxy`]: a loopback TCP proxy a test can cut and restore, to take PostgreSQL or
//! Redis away from running servers without stopping the shared test instances.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// Forwards connections to an upstream; while cut, drops every open connection and
/// closes each new one at once, as a stopped server would look to its clients.
#[derive(Debug)]
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    state: Arc<State>,
    acceptor: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct State {
    cut: AtomicBool,
    connections: Mutex<Vec<AbortHandle>>,
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
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if shared.cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let task = tokio::spawn(forward(client, upstream));
                let mut open = shared.connections.lock().unwrap_or_else(|e| e.into_inner());
                open.retain(|c| !c.is_finished());
                open.push(task.abort_handle());
            }
        });
        FaultProxy {
            addr,
            state,
            acceptor,
        }
    }

    /// Takes the upstream away: open connections are dropped, new ones closed at once.
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        let open = std::mem::take(
            &mut *self
                .state
                .connections
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for connection in open {
            connection.abort();
        }
    }

    /// Brings the upstream back.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.cut();
        self.acceptor.abort();
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr) {
    if let Ok(mut server) = TcpStream::connect(upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}
