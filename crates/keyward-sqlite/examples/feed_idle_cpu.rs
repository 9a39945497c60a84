//! What an idle change-feed subscription costs in CPU: the process's CPU time over a
//! window without a subscription, then over the same window with one polling a file
//! that nobody writes, the difference per second and per poll. Linux only (it reads
//! `/proc/self/task/*/schedstat`, nanoseconds per thread).
//!
//! ```sh
//! cargo run --release -p keyward-sqlite --example feed_idle_cpu -- [SECONDS] [POLL_MS]
//! ```
//!
//! Defaults: 10 s windows at the default poll interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keyward_clock::Timestamp;
use keyward_sqlite::{DEFAULT_POLL_INTERVAL, SqliteFeedOptions, SqliteStore};
use keyward_store::InvalidationSource;
use keyward_testing::store_conformance::{fresh_id, sample_record};

/// CPU time of every live thread of this process.
fn cpu_time() -> Duration {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").expect("Linux /proc") {
        let path = task.expect("a task entry").path().join("schedstat");
        // A thread that ended between the listing and the read counts as nothing.
        if let Ok(text) = std::fs::read_to_string(path) {
            total += text
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(total)
}

/// CPU time used by the process while `window` passes idle.
async fn cpu_over(window: Duration) -> Duration {
    let before = cpu_time();
    tokio::time::sleep(window).await;
    cpu_time().saturating_sub(before)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(10, |s| s.parse().expect("SECONDS"));
    let every = args.next().map_or(DEFAULT_POLL_INTERVAL, |ms| {
        Duration::from_millis(ms.parse().expect("POLL_MS"))
    });
    let window = Duration::from_secs(seconds);
    // A server's runtime: two workers.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("keys.db");
        let store = SqliteStore::open(path.to_str().expect("a UTF-8 path"))
            .await
            .expect("the store");
        let records: Vec<_> = (0..10_000)
            .map(|_| sample_record(fresh_id(), "o", Timestamp::from_unix_millis(1_000)))
            .collect();
        store.insert_batch(&records).await.expect("the keys");

        let without = cpu_over(window).await;

        let delivered = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&delivered);
        let subscription = store
            .invalidations(SqliteFeedOptions::new().poll_interval(every))
            .subscribe(Arc::new(move |_| {
                count.fetch_add(1, Ordering::Relaxed);
            }))
            .expect("a subscription");
        let started = Instant::now();
        while delivered.load(Ordering::Relaxed) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no All within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let with = cpu_over(window).await;
        drop(subscription);
        assert_eq!(delivered.load(Ordering::Relaxed), 1, "the file changed");

        let polls = window.as_secs_f64() / every.as_secs_f64();
        let extra = with.saturating_sub(without);
        let per_second = extra.as_secs_f64() / window.as_secs_f64();
        println!("window {window:?}, poll interval {every:?} ({polls:.0} polls)");
        println!("CPU without a subscription: {without:?}");
        println!("CPU with an idle subscription: {with:?}");
        println!(
            "idle feed: {:.1} µs of CPU per second ({:.4} % of one core), {:.1} µs per poll",
            per_second * 1e6,
            per_second * 100.0,
            extra.as_secs_f64() * 1e6 / polls
        );
    });
}
