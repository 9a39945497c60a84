//! `keyward-example-actix`: the demo API on actix-web over the embedded SQLite store.
//!
//! ```text
//! cargo run --release -p keyward-example-actix
//! curl -H "Authorization: Bearer <the printed bootstrap key>" http://127.0.0.1:3000/v1/me
//! ```

use std::process::ExitCode;

use actix_web::{App, HttpResponse, HttpServer, web};
use keyward_demo_api::{MetricsEndpoint, MetricsExporter};

#[actix_web::main]
async fn main() -> ExitCode {
    keyward_demo_api::run(|args, started, metrics| async move {
        if let Some(metrics) = metrics {
            serve_metrics(metrics)?;
        }
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

/// `GET /metrics` on the metrics listener (any other path is 404), in the background.
fn serve_metrics(metrics: MetricsEndpoint) -> std::io::Result<()> {
    let exporter = metrics.exporter;
    let server = HttpServer::new(move || {
        let exporter = exporter.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let text = exporter.render();
                async move {
                    HttpResponse::Ok()
                        .content_type(MetricsExporter::CONTENT_TYPE)
                        .body(text)
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(metrics.listener)?
    .run();
    actix_web::rt::spawn(server);
    Ok(())
}
