//! What both example binaries do around serving: logs, flags, start, the lines they
//! print, and the exit code.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;

use crate::args::ServerArgs;
use crate::setup::{Started, start};

/// Runs an example server: logs to stderr, parses the flags, starts the demo (printing
/// `bootstrap key: …` on the first start), then hands over to `serve`, which binds,
/// calls `announce` with the bound address (printing `listening on http://…`) and serves
/// until shutdown. Any error is one `error: …` line and a failing exit code.
pub async fn run<F, Fut>(serve: F) -> ExitCode
where
    F: FnOnce(ServerArgs, Started) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = ServerArgs::parse();
    let result = match start(&args).await {
        Ok(started) => {
            if let Some(key) = &started.bootstrap_key {
                // The one time this key is shown: the demo admin's, with every capability.
                println!("bootstrap key: {}", key.expose());
            }
            serve(args, started).await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The line the tests (and a user) wait for once the server listens.
pub fn announce(addr: SocketAddr) {
    println!("listening on http://{addr}");
}
