//! `attack`: wrong secrets for known key ids, from rotating client addresses, against an
//! example server on loopback, while a cached key's latency and fresh keys' first
//! verification are measured, first on the idle server, then under attack; then how
//! long the server keeps working off what the attack queued. `scripts/attack` starts a server and
//! runs this against it.

mod http;
mod keys;
mod phase;
mod server_cpu;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use hyper::Method;

use crate::http::{Connection, Error};
use crate::keys::{Forger, format_of, mint};
use crate::phase::{Load, Phase, Samples, Scenario};
use crate::server_cpu::{ServerCpu, cores};

/// Fresh keys whose first verification the idle phase measures.
const IDLE_FIRST_VERIFICATIONS: usize = 20;
/// The same, under attack. With the victims and the cached key, the scenario mints 69
/// keys, under the demo's cap of live keys per owner.
const ATTACK_FIRST_VERIFICATIONS: usize = 40;
/// The longest wait for the server to go quiet after the attack.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// A loopback attack scenario against a running keyward example server.
#[derive(Parser)]
struct Args {
    /// The server's address; loopback only.
    #[arg(long)]
    addr: SocketAddr,
    /// A key that may mint keys (`keys:write`): the server's bootstrap key.
    #[arg(long, env = "KEYWARD_ATTACK_ADMIN_KEY", hide_env_values = true)]
    admin_key: String,
    /// Seconds of attack.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of measuring the idle server first.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
    /// Concurrent attack connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Known key ids the attack guesses secrets for.
    #[arg(long, default_value_t = 8)]
    victims: usize,
    /// The server's process id, to report its CPU use and how long it stays busy after
    /// the attack (from /proc).
    #[arg(long)]
    server_pid: Option<u32>,
}

// Measuring runs on this thread; the attack on a runtime of its own.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("attack: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Error> {
    if !args.addr.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", args.addr).into());
    }
    if args.victims == 0 || args.connections == 0 {
        return Err("--victims and --connections must be at least 1".into());
    }
    let scenario: &'static Scenario = Box::leak(Box::new(prepare(args).await?));
    let server = ServerCpu(args.server_pid);

    eprintln!("idle: {} s", args.idle_seconds);
    let before = server.seconds();
    let idle_time = Duration::from_secs(args.idle_seconds);
    let idle = scenario
        .phase(idle_time, IDLE_FIRST_VERIFICATIONS, Load::None)
        .await
        .finish()
        .await;
    let idle_cpu = cores(before, server.seconds(), idle.elapsed);

    // The same connections and rate without keyward, so that what the attack costs the
    // cached key can be told from what any load on two shared cores costs it.
    eprintln!("unauthenticated flood: {} s", args.seconds);
    let before = server.seconds();
    let flood = scenario
        .phase(Duration::from_secs(args.seconds), 0, Load::Flood)
        .await
        .finish()
        .await;
    let flood_cpu = cores(before, server.seconds(), flood.elapsed);

    eprintln!("attack: {} s", args.seconds);
    let before = server.seconds();
    let running = scenario
        .phase(
            Duration::from_secs(args.seconds),
            ATTACK_FIRST_VERIFICATIONS,
            Load::Attack,
        )
        .await;
    let after_attack = server.seconds();
    eprintln!("after the attack: waiting for the server to go quiet");
    let busy_after = server.quiet(DRAIN_LIMIT).await;
    let attack = running.finish().await;
    let attack_cpu = cores(before, after_attack, attack.elapsed);

    print_table(
        args,
        [&idle, &flood, &attack],
        [idle_cpu, flood_cpu, attack_cpu],
        busy_after,
    );
    Ok(())
}

/// Mints the victims, the cached key (and caches it) and the fresh keys.
async fn prepare(args: &Args) -> Result<Scenario, Error> {
    let fresh = IDLE_FIRST_VERIFICATIONS + ATTACK_FIRST_VERIFICATIONS;
    eprintln!("minting {} keys", args.victims + 1 + fresh);
    let mut admin = Connection::new(args.addr);
    let mut victims = Vec::with_capacity(args.victims);
    for i in 0..args.victims {
        victims.push(
            mint(&mut admin, &args.admin_key, &format!("victim-{i}"))
                .await?
                .id,
        );
    }
    let cached = mint(&mut admin, &args.admin_key, "cached").await?;
    let mut fresh_keys = Vec::with_capacity(fresh);
    for i in 0..fresh {
        fresh_keys.push(
            mint(&mut admin, &args.admin_key, &format!("fresh-{i}"))
                .await?
                .key,
        );
    }
    let bearer = format!("Bearer {}", cached.key);
    let warm = Connection::new(args.addr)
        .send(
            Method::GET,
            "/v1/me",
            &[("authorization", &bearer)],
            String::new(),
        )
        .await?;
    if warm.status != 200 {
        return Err(format!("the cached key was answered {}", warm.status).into());
    }
    Ok(Scenario {
        addr: args.addr,
        forger: Forger::new(format_of(&cached.key)?, &victims[0])?,
        cached_key: cached.key,
        fresh_keys: Mutex::new(fresh_keys),
        victims,
        connections: args.connections,
        attack_runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?,
    })
}

fn print_table(
    args: &Args,
    phases: [&Phase; 3],
    cpu: [Option<f64>; 3],
    busy_after: Option<Result<Duration, Duration>>,
) {
    let [idle, flood, attack] = phases;
    let answers = |phase: &Phase| {
        let statuses: Vec<String> = phase
            .attack
            .iter()
            .map(|(status, count)| format!("{status}: {}", thousands(*count)))
            .collect();
        statuses.join(", ")
    };
    let per_second = |phase: &Phase| {
        let requests: u64 = phase.attack.values().sum();
        thousands((requests as f64 / phase.elapsed.as_secs_f64()) as u64)
    };
    let cores = |cores: Option<f64>| cores.map_or("-".into(), |c| format!("{c:.2} cores"));
    let busy_after = match busy_after {
        Some(Ok(busy)) => format!("{:.1} s", busy.as_secs_f64()),
        Some(Err(waited)) => format!("still busy after {:.0} s", waited.as_secs_f64()),
        None => "-".into(),
    };
    println!();
    println!(
        "{} connections, wrong secrets for {} known ids, a random client address per \
         request, {} s; the same connections on `GET /healthz` (no key) for the flood \
         column; idle phase {} s",
        args.connections, args.victims, args.seconds, args.idle_seconds
    );
    println!();
    println!("| | idle | unauthenticated flood | under attack |");
    println!("|---|---|---|---|");
    let row = |what: &str, cell: fn(&Samples) -> String, pick: fn(&Phase) -> &Samples| {
        println!(
            "| {what} | {} | {} | {} |",
            cell(pick(idle)),
            cell(pick(flood)),
            cell(pick(attack))
        );
    };
    row("cached `GET /v1/me` p50 / p99", p50_p99, |p| &p.cached);
    row("answered 200", answered, |p| &p.cached);
    row("uncached first verification p50 / p99", p50_p99, |p| {
        &p.uncached
    });
    row("answered 200", answered, |p| &p.uncached);
    row("the same, second half of the phase", p50_p99, |p| {
        &p.uncached_late
    });
    println!(
        "| load answers | | {} | {} |",
        answers(flood),
        answers(attack)
    );
    println!(
        "| load requests/s | | {} | {} |",
        per_second(flood),
        per_second(attack)
    );
    println!(
        "| server CPU | {} | {} | {} |",
        cores(cpu[0]),
        cores(cpu[1]),
        cores(cpu[2])
    );
    println!("| server busy after the attack (until under 0.1 cores) | | | {busy_after} |");
}

fn p50_p99(samples: &Samples) -> String {
    match (samples.percentile(50), samples.percentile(99)) {
        (Some(p50), Some(p99)) => format!("{} / {}", millis(p50), millis(p99)),
        _ => "-".into(),
    }
}

/// `n of m`, and what the others were answered.
fn answered(samples: &Samples) -> String {
    let mut cell = format!(
        "{} of {}",
        thousands(samples.ok.len() as u64),
        thousands(samples.total())
    );
    if !samples.refused.is_empty() {
        let others: Vec<String> = samples
            .refused
            .iter()
            .map(|(status, count)| format!("{count} × {status}"))
            .collect();
        cell.push_str(&format!(" ({})", others.join(", ")));
    }
    cell
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    match ms {
        ms if ms < 1.0 => format!("{ms:.2} ms"),
        ms if ms < 10.0 => format!("{ms:.1} ms"),
        ms => format!("{ms:.0} ms"),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
