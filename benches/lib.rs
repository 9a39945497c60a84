//! Shared fixtures for the criterion benchmarks in this folder.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use keyward_store::{HashError, SecretHasher};

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
