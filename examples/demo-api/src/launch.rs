//! What both example binaries do around serving: logs, flags, start, the lines they
//! print, and the exit code.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;

use clap::Parser;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::args::ServerArgs;
use crate::setup::{SetupError, Started, start};

/// Runs an example server: logs to stderr, parses the flags, installs the Prometheus
/// recorder when `--metrics-bind` is given (before keyward is built, printing
/// `metrics: http://…/metrics`), starts the demo (printing `configuration: …`, and
/// `bootstrap key: …` on the first start), then hands over to `serve`, which binds,
/// serves the [`MetricsEndpoint`] if there is one, calls `announce` with the bound
/// address (printing `listening on http://…`) and serves until shutdown. Any error is
/// one `error: …` line and a failing exit code: 2 for a bad configuration file, 1
/// otherwise.
pub async fn run<F, Fut>(serve: F) -> ExitCode
where
    F: FnOnce(ServerArgs, Started, Option<MetricsEndpoint>) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = ServerArgs::parse();
    // keyward registers its metrics when it is built: the recorder goes in first.
    let metrics = match args.metrics_bind.map(MetricsEndpoint::install).transpose() {
        Ok(metrics) => metrics,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
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
            serve(args, started, metrics).await
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

/// The Prometheus exporter of `--metrics-bind`: its recorder is installed, its listener
/// bound; the server answers `GET /metrics` on `listener` with [`MetricsExporter::render`]
/// and anything else there with 404.
#[derive(Debug)]
pub struct MetricsEndpoint {
    /// The metrics listener, bound and non-blocking, apart from the API's.
    pub listener: TcpListener,
    /// What `GET /metrics` answers.
    pub exporter: MetricsExporter,
}

/// Why `--metrics-bind` could not be served.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Another `metrics` recorder is already installed.
    #[error("a metrics recorder is already installed")]
    RecorderInstalled,
    /// The address could not be bound.
    #[error("cannot listen on {addr} for metrics: {source}")]
    Bind {
        /// The address of `--metrics-bind`.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Upper bounds (seconds) of `keyward_slow_hash_seconds`'s buckets: around bcrypt cost
/// 10 and argon2id's defaults on one core, so it is a histogram rather than a summary.
const SLOW_HASH_BUCKETS: [f64; 9] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

impl MetricsEndpoint {
    /// Installs the Prometheus recorder globally and binds `addr`, printing
    /// `metrics: http://ADDR/metrics` with the bound address. Call it before keyward is
    /// built: keyward registers its metrics with the recorder installed then.
    pub fn install(addr: SocketAddr) -> Result<MetricsEndpoint, MetricsError> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(keyward::metrics::SLOW_HASH_SECONDS.to_owned()),
                &SLOW_HASH_BUCKETS,
            )
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        let listener = TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| MetricsError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| MetricsError::Bind { addr, source })?;
        metrics::set_global_recorder(recorder).map_err(|_| MetricsError::RecorderInstalled)?;
        println!("metrics: http://{bound}/metrics");
        Ok(MetricsEndpoint {
            listener,
            exporter: MetricsExporter(handle),
        })
    }
}

/// Renders the Prometheus text format; cheap to clone.
#[derive(Debug, Clone)]
pub struct MetricsExporter(PrometheusHandle);

impl MetricsExporter {
    /// The `Content-Type` of [`render`](Self::render)'s text.
    pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

    /// Every metric in the Prometheus text format. Drains the histograms' recent
    /// samples into their buckets first (what the exporter's own listener does on a
    /// timer), so memory stays bounded between scrapes.
    pub fn render(&self) -> String {
        self.0.run_upkeep();
        self.0.render()
    }
}
