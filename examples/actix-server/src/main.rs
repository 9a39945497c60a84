//! `keyward-example-actix`: the demo API on actix-web over the embedded SQLite store.
//!
//! ```text
//! cargo run --release -p keyward-example-actix
//! curl -H "Authorization: Bearer <the printed bootstrap key>" http://127.0.0.1:3000/v1/me
//! ```

use std::process::ExitCode;

use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> ExitCode {
    keyward_demo_api::run(|args, started| async move {
        let routes = keyward_example_actix::configure(&started);
        let server = HttpServer::new(move || App::new().configure(routes.clone()))
            .bind(args.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        for addr in server.addrs() {
            keyward_demo_api::announce(addr);
        }
        server.run().await?;
        Ok(())
    })
    .await
}
