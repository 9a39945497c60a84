//! `keyward-example-actix`: the demo API on actix-web over the embedded SQLite store.
//!
//! ```text
//! cargo run --release -p keyward-example-actix
//! curl -H "Authorization: Bearer <the printed bootstrap key>" http://127.0.0.1:3000/v1/me
//! ```

use std::process::ExitCode;

use actix_web::{App, HttpServer};
use clap::Parser;
use keyward_demo_api::{ServerArgs, start};

#[actix_web::main]
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
    let routes = keyward_example_actix::configure(&started);
    let server = HttpServer::new(move || App::new().configure(routes.clone()))
        .bind(args.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    server.run().await?;
    Ok(())
}
