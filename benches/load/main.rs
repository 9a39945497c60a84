//! `load-latency`: a fixed request rate against `bench-server` on loopback, a random key
//! out of the server's cached keys per request, reporting latency percentiles and the
//! server's memory. `scripts/load-latency` starts the server and runs this.
//!
//! The load is open: request `k` is due at `start + k / rate` whatever happened to the
//! ones before, and its latency is measured from when it was due, so a slow answer that
//! holds up later requests counts against them too (no coordinated omission). An idle
//! connection takes the next due request; when every connection is busy, requests wait
//! and that wait is part of their latency.

#[path = "../attack/http.rs"]
mod http;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::Parser;
use hyper::Method;
use tokio::time::{Instant, sleep_until, timeout};

use keyward_benches::routes::BODY;

use crate::http::{Connection, Error};

/// How long one request may take before it counts as a timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Due times are reached by sleeping to this much before them and then yielding: the
/// timer alone is only as fine as a millisecond.
const SPIN: Duration = Duration::from_millis(2);

/// A fixed-rate latency measurement against a running `bench-server`.
#[derive(Parser)]
struct Args {
    /// The server's address; loopback only.
    #[arg(long)]
    addr: SocketAddr,
    /// The keys the server cached, one a line (`bench-server --keys-file`).
    #[arg(long)]
    keys_file: PathBuf,
    /// The route requested.
    #[arg(long, default_value = "/v1/me")]
    path: String,
    /// Requests per second.
    #[arg(long, default_value_t = 5_000)]
    rate: u64,
    /// Seconds measured (at most 600).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of load before measuring, not counted.
    #[arg(long, default_value_t = 2)]
    warm_up: u64,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// The server's process id, to report its memory (from /proc).
    #[arg(long)]
    server_pid: Option<u32>,
}

/// What one connection saw while measuring.
#[derive(Default)]
struct Samples {
    /// Latencies of the 200s, from when each request was due.
    ok: Vec<Duration>,
    /// Other outcomes by status (`error`, `timeout` when there was no answer).
    other: BTreeMap<String, u64>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load-latency: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Error> {
    if !args.addr.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", args.addr).into());
    }
    if args.rate == 0 || args.connections == 0 || args.seconds == 0 || args.seconds > 600 {
        return Err("--rate and --connections must be at least 1, --seconds 1 to 600".into());
    }
    let keys: Rc<[String]> = std::fs::read_to_string(&args.keys_file)?
        .lines()
        .map(|line| format!("Bearer {line}"))
        .collect();
    if keys.is_empty() {
        return Err(format!("{} holds no keys", args.keys_file.display()).into());
    }
    let memory_before = args.server_pid.map(server_memory).transpose()?;

    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let start = Instant::now() + Duration::from_millis(100);
    let measure_from = start + Duration::from_secs(args.warm_up);
    let end = measure_from + Duration::from_secs(args.seconds);
    let next = Rc::new(Cell::new(0u64));
    let local = tokio::task::LocalSet::new();
    let mut tasks = Vec::with_capacity(args.connections);
    for seed in 0..args.connections as u64 {
        let (keys, next, path, addr) = (keys.clone(), next.clone(), args.path.clone(), args.addr);
        tasks.push(local.spawn_local(async move {
            let mut connection = Connection::new(addr);
            let mut random =
                XorShift(0x9e37_79b9_7f4a_7c15 ^ (seed + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9));
            let mut samples = Samples::default();
            loop {
                let slot = next.get();
                next.set(slot + 1);
                let due = start + interval.mul_f64(slot as f64);
                if due >= end {
                    return samples;
                }
                if Instant::now() + SPIN < due {
                    sleep_until(due - SPIN).await;
                }
                while Instant::now() < due {
                    tokio::task::yield_now().await;
                }
                let key = &keys[(random.next() % keys.len() as u64) as usize];
                let headers = [("authorization", key.as_str())];
                let sent = timeout(
                    REQUEST_TIMEOUT,
                    connection.send(Method::GET, &path, &headers, String::new()),
                )
                .await;
                let latency = due.elapsed();
                if due < measure_from {
                    continue;
                }
                match sent {
                    Ok(Ok(answer)) if answer.status == 200 && answer.body == BODY => {
                        samples.ok.push(latency)
                    }
                    Ok(Ok(answer)) => {
                        *samples.other.entry(answer.status.to_string()).or_default() += 1
                    }
                    Ok(Err(_)) => *samples.other.entry("error".to_owned()).or_default() += 1,
                    Err(_) => *samples.other.entry("timeout".to_owned()).or_default() += 1,
                }
            }
        }));
    }
    let mut all = Samples::default();
    local
        .run_until(async {
            for task in tasks {
                let samples = task.await?;
                all.ok.extend(samples.ok);
                for (label, count) in samples.other {
                    *all.other.entry(label).or_default() += count;
                }
            }
            Ok::<_, Error>(())
        })
        .await?;
    let memory_after = args.server_pid.map(server_memory).transpose()?;

    all.ok.sort_unstable();
    let answered = all.ok.len() as u64 + all.other.values().sum::<u64>();
    println!(
        "{} at {} req/s for {} s over {} connections, {} keys, a random one per request",
        args.path,
        args.rate,
        args.seconds,
        args.connections,
        keys.len()
    );
    println!(
        "requests: {answered} measured, {} answered 200{}",
        all.ok.len(),
        if all.other.is_empty() {
            String::new()
        } else {
            format!(", others: {:?}", all.other)
        }
    );
    let percentile = |per_mille: usize| {
        let rank = (all.ok.len() * per_mille).div_ceil(1000).max(1);
        all.ok.get(rank - 1).map_or("-".to_owned(), |d| micros(*d))
    };
    println!(
        "latency from due time: p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
        percentile(500),
        percentile(900),
        percentile(990),
        percentile(999),
        all.ok.last().map_or("-".to_owned(), |d| micros(*d)),
    );
    if let (Some(before), Some(after)) = (memory_before, memory_after) {
        println!(
            "server memory: RSS {} MiB before the load, {} MiB after (peak {} MiB)",
            before.rss_kib / 1024,
            after.rss_kib / 1024,
            after.peak_kib / 1024
        );
    }
    Ok(())
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// A server's resident memory, in KiB.
struct Memory {
    rss_kib: u64,
    peak_kib: u64,
}

fn server_memory(pid: u32) -> Result<Memory, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64, Error> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status").into())
    };
    Ok(Memory {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

/// A small fast generator for picking keys; not for anything secret.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
