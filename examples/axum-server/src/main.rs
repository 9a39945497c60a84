//! `keyward-example-axum`: the demo API on axum over the embedded SQLite store.
//!
//! ```text
//! cargo run --release -p keyward-example-axum
//! curl -H "Authorization: Bearer <the printed bootstrap key>" http://127.0.0.1:3000/v1/me
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use keyward_demo_api::{ServerArgs, start};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match run(ServerArgs::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: ServerArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = start(&args).await?;
    if let Some(key) = &started.bootstrap_key {
        // The one time this key is shown: it is the demo admin's, with every capability.
        println!("bootstrap key: {}", key.expose());
    }
    let app = keyward_example_axum::router(&started);
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
