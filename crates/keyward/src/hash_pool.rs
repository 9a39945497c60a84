//! [`HashPool`]: slow hashes on the blocking pool, a fixed number at once, with a
//! bounded queue for verifications.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward_store::SecretHasher;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a slow hash did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashRefused {
    /// The queue of waiting verifications is full: answer 503 now rather than in seconds.
    QueueFull,
    /// The runtime is shutting down.
    ShutDown,
}

pub(crate) struct HashPool {
    hasher: Arc<dyn SecretHasher>,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Counts one caller waiting for a permit, until it gets one or is cancelled.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashPool {
    pub(crate) fn new(hasher: Arc<dyn SecretHasher>, running: usize, max_waiting: usize) -> Self {
        HashPool {
            hasher,
            permits: Arc::new(Semaphore::new(running)),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Verifications waiting for a slot right now.
    pub(crate) fn queued(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Runs `f` however long the queue (mints and re-hashes: never refused).
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, HashRefused>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretHasher) -> T + Send + 'static,
    {
        let permit = self.wait_for_permit().await?;
        self.spawn(permit, f).await
    }

    /// Runs a verification, or refuses at once when `max_waiting` callers already wait.
    pub(crate) async fn run_bounded<T, F>(&self, f: F) -> Result<T, HashRefused>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretHasher) -> T + Send + 'static,
    {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => return Err(HashRefused::ShutDown),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                if self.waiting.load(Ordering::SeqCst) >= self.max_waiting {
                    return Err(HashRefused::QueueFull);
                }
                self.wait_for_permit().await?
            }
        };
        self.spawn(permit, f).await
    }

    async fn wait_for_permit(&self) -> Result<OwnedSemaphorePermit, HashRefused> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| HashRefused::ShutDown)
    }

    /// The permit travels with the closure: a caller cancelled mid-hash cannot free its
    /// slot while its hash still occupies a blocking thread.
    async fn spawn<T, F>(&self, permit: OwnedSemaphorePermit, f: F) -> Result<T, HashRefused>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretHasher) -> T + Send + 'static,
    {
        let hasher = Arc::clone(&self.hasher);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f(&*hasher)
        })
        .await
        .map_err(|_| HashRefused::ShutDown)
    }
}
