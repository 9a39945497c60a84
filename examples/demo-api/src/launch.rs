//! What both example binaries do around serving: logs, flags, start, the lines they
//! print, and the exit code.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;

use crate::args::ServerArgs;
use crate::setup::{SetupError, Started, start};

/// Runs an example server: logs to stderr, parses the flags, starts the demo (printing
/// `configuration: …`, and `bootstrap key: …` on the first start), then hands over to
/// `serve`, which binds, calls `announce` with the bound address (printing
/// `listening on http://…`) and serves until shutdown. Any error is one `error: …` line
/// and a failing exit code: 2 for a bad configuration file, 1 otherwise.
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
            // Where the settings came from; never a value from the file (its database
            // URL may hold a password).
            println!("configuration: {}", started.configuration);
            let missing = started.api.missing_desktop_capabilities();
            if !missing.is_empty() {
                eprintln!(
                    "note: the /v1/desktops routes are off: the catalog does not declare {}",
                    missing.join(", ")
                );
            }
            if let Some(key) = &started.bootstrap_key {
                // The one time this key is shown: the demo admin's, with every capability.
                println!("bootstrap key: {}", key.expose());
            }
            serve(args, started).await
        }
        // A bad configuration file is the operator's input: exit 2, as the CLI does.
        Err(e @ SetupError::Config(_)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
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
