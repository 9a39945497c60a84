//! `bench-server`: the routes of `keyward_benches::routes` (keyward, a peer's static
//! bearer check, and no authentication, each with the same handler and body) served
//! over a real socket by axum or actix-web, for `scripts/wrk-compare` and
//! `scripts/load-latency`. Benchmark-only: keys are hashed with an insecure fast
//! hasher so that 100,000 of them are minted and cached in seconds.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use keyward::format::KeyFormat;
use keyward::store::MemoryStore;
use keyward::{Config, Credential, Keyward, MintRequest};
use keyward_benches::{BenchOnlyHasher, routes};

/// Serves the benchmark routes on loopback.
#[derive(Parser)]
struct Args {
    /// Which framework serves the routes.
    #[arg(long, value_enum)]
    framework: Framework,
    /// Where to listen; loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// How many keys to mint and cache before listening.
    #[arg(long, default_value_t = 1)]
    keys: usize,
    /// Where to write the keys, one a line (the first is also the peer route's token).
    #[arg(long)]
    keys_file: PathBuf,
    /// Worker threads (default: one per CPU the process may run on).
    #[arg(long)]
    workers: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Framework {
    Axum,
    Actix,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Error> {
    if !args.bind.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", args.bind).into());
    }
    if args.keys == 0 {
        return Err("--keys must be at least 1".into());
    }
    let workers = match args.workers {
        Some(n) => n.max(1),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, keyward_testing::rig::catalog())
        .store(MemoryStore::new())
        .hasher(BenchOnlyHasher)
        .config(Config {
            cache_capacity: args.keys + 16,
            ..Config::default()
        })
        // The limiter runs on every request, with a budget no benchmark exhausts.
        .default_quota(routes::quota())
        .build()?;
    let keys = cached_keys(&keyward, args.keys)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&args.keys_file)?);
    for key in &keys {
        writeln!(file, "{key}")?;
    }
    file.flush()?;

    let listener = TcpListener::bind(args.bind)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let token = keys[0].clone();
    drop(keys);
    let authenticator = keyward.authenticator();
    let ready = move || {
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
    };
    match args.framework {
        Framework::Axum => {
            let router = routes::axum(authenticator, &token);
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()?
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    ready();
                    axum::serve(
                        listener,
                        router.into_make_service_with_connect_info::<SocketAddr>(),
                    )
                    .await?;
                    Ok(())
                })
        }
        Framework::Actix => {
            use actix_web::{App, HttpServer};
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new().configure(routes::actix(authenticator.clone(), &token))
                })
                .workers(workers)
                .listen(listener)?
                .run();
                ready();
                server.await?;
                Ok(())
            })
        }
    }
}

/// Mints `count` keys and authenticates each once, so every one is cached.
fn cached_keys(keyward: &Keyward, count: usize) -> Result<Vec<String>, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let requirement = routes::requirement();
    let client = "127.0.0.1".parse()?;
    let authenticator = keyward.authenticator();
    runtime.block_on(async {
        let mut keys = Vec::with_capacity(count);
        for i in 0..count {
            // Owners hold at most `max_live_keys_per_owner` keys each.
            let minted = keyward
                .keys()
                .mint(MintRequest::new(format!("k{i}"), format!("u_{}", i / 64)))
                .await?;
            keys.push(minted.key.expose().to_owned());
        }
        for key in &keys {
            authenticator
                .authenticate(Credential::Key(key), &requirement, client)
                .await?;
        }
        if authenticator.cached_keys() < count {
            return Err(format!(
                "only {} of {count} keys cached",
                authenticator.cached_keys()
            )
            .into());
        }
        Ok(keys)
    })
}
