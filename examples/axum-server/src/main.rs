//! `keyward-example-axum`: the demo API on axum over the embedded SQLite store.
//!
//! ```text
//! cargo run --release -p keyward-example-axum
//! curl -H "Authorization: Bearer <the printed bootstrap key>" http://127.0.0.1:3000/v1/me
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use keyward_demo_api::{MetricsEndpoint, MetricsExporter};

#[tokio::main]
async fn main() -> ExitCode {
    keyward_demo_api::run(|args, started, metrics| async move {
        if let Some(metrics) = metrics {
            serve_metrics(metrics)?;
        }
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

/// `GET /metrics` on the metrics listener (any other path is 404), in the background.
fn serve_metrics(metrics: MetricsEndpoint) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(metrics.listener)?;
    let exporter = metrics.exporter;
    let app = Router::new().route(
        "/metrics",
        get(move || async move {
            (
                [(CONTENT_TYPE, MetricsExporter::CONTENT_TYPE)],
                exporter.render(),
            )
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("error: metrics listener: {e}");
        }
    });
    Ok(())
}
