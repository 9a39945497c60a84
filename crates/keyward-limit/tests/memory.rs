//! Measures the memory a tracked key costs, from the process's resident set (Linux).
//!
//! Run with `cargo test -p keyward-limit --test memory -- --nocapture` to see the
//! figures; the crate README and docs/rate-limits.md quote them.

use std::time::Duration;

use keyward_clock::{ManualClock, Timestamp};
use keyward_limit::{Cleanup, GuardConfig, MemoryFailureGuard, MemoryRateLimiter, Quota};

/// Resident set size in bytes, if the platform tells.
fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const KEYS: usize = 1_000_000;

#[test]
fn bytes_per_tracked_key_and_address() {
    let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
    let limiter = MemoryRateLimiter::with_clock(clock.clone());
    let quota = Quota::per_minute(60);
    // 12-character ids, like keyward's key ids.
    let ids: Vec<String> = (0..KEYS).map(|i| format!("{i:012}")).collect();

    // The failure guard at its default cap.
    let guard = MemoryFailureGuard::with_clock(GuardConfig::default(), clock.clone());
    let cap = guard.config().max_tracked();
    let before = rss();
    for n in 0..cap as u32 {
        guard.fail(std::net::IpAddr::V4(std::net::Ipv4Addr::from(
            0x6400_0000 + n,
        )));
    }
    let after = rss();
    assert_eq!(guard.tracked(), cap);
    let table = guard.table_bytes() as f64 / cap as f64;
    println!(
        "failure guard: {cap} addresses, table {table:.1} bytes per address ({} bytes)",
        guard.table_bytes()
    );
    if let (Some(b), Some(a)) = (before, after) {
        let per = a.saturating_sub(b) as f64 / cap as f64;
        println!("failure guard: resident {per:.1} bytes per address");
        assert!(per <= 160.0, "{per}");
    }

    let before = rss();
    for id in &ids {
        limiter.decide(id, quota);
    }
    let after = rss();
    assert_eq!(limiter.tracked(), KEYS);
    let table = limiter.table_bytes() as f64 / KEYS as f64;
    println!(
        "rate limiter: table {table:.1} bytes per key ({} bytes)",
        limiter.table_bytes()
    );
    assert!(table <= 80.0, "{table}");
    if let (Some(b), Some(a)) = (before, after) {
        let per_key = a.saturating_sub(b) as f64 / KEYS as f64;
        println!("rate limiter: resident {per_key:.1} bytes per key");
        assert!(per_key <= 128.0, "{per_key} bytes per key");
    }

    // Everything refills after a minute: one sweep returns the map to empty.
    clock.advance(Duration::from_secs(60));
    assert_eq!(limiter.retain_recent(), KEYS);
    limiter.shrink_to_fit();
    assert_eq!(limiter.tracked(), 0);
    assert!(
        limiter.table_bytes() < 64 << 10,
        "{}",
        limiter.table_bytes()
    );
    drop(ids);
}
