//! `keyward-example-axum`: the demo API on axum over the embedded SQLite store.
//!
//! ```text
//! cargo run --release -p keyward-example-axum
//! curl -H "Authorization: Bearer <the printed bootstrap key>" http://127.0.0.1:3000/v1/me
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    keyward_demo_api::run(|args, started| async move {
        let app = keyward_example_axum::router(&started);
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        keyward_demo_api::announce(listener.local_addr()?);
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(())
    })
    .await
}
