//! Shared fixtures for the criterion benchmarks in this folder.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use keyward::hash::{HashError, SecretHasher};
use keyward_clock::Timestamp;
use keyward_store::KeyRecord;
use keyward_testing::store_conformance::{SAMPLE_HASH, fresh_id, sample_record};

pub mod routes;

/// Polls a future that is expected to finish without waiting (a cached key never
/// awaits), so the measurement holds no executor overhead.
pub fn poll_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future was expected to complete without waiting"),
    }
}

/// A fast, insecure hasher that lets a benchmark fill a million-key store in seconds.
/// Never use outside benchmarks.
pub struct BenchOnlyHasher;

impl SecretHasher for BenchOnlyHasher {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        Ok(format!("$bench${}", blake3::hash(secret).to_hex()))
    }

    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        Ok(self.hash(secret)? == hash)
    }

    fn needs_rehash(&self, _hash: &str) -> bool {
        false
    }
}

/// A multi-threaded runtime with one worker: the benchmark thread plus one, as a
/// request handler and the blocking work it hands off.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `count` distinct key records for a store benchmark, created one millisecond apart,
/// each with a precomputed hash (so filling a store costs no slow hashing).
pub fn stored_records(count: usize) -> Vec<KeyRecord> {
    (0..count)
        .map(|i| {
            let created = Timestamp::from_unix_millis(i as u64);
            let mut record = sample_record(fresh_id(), "bench", created);
            record.hash = SAMPLE_HASH.to_owned();
            record
        })
        .collect()
}
