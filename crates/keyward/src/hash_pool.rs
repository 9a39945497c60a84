//! [`HashPool`]: slow hashes on the blocking pool, a fixed number at once, with a
//! bounded queue for verifications and a slot kept free of suspect ones.
//!
//! A verification of a key id that failed recently is *suspect*: most likely a guess.
//! Suspect verifications may occupy all slots but one, so a key that has not failed (a
//! holder's first request after a restart) waits at most behind other such keys,
//! never behind a queue of guesses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use keyward_hash::SecretHasher;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::metrics::HashMetrics;

/// Why a slow hash did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashRefused {
    /// The queue of waiting verifications is full: answer 503 now rather than in seconds.
    QueueFull,
    /// The runtime is shutting down.
    ShutDown,
}

/// How much a verification is trusted to deserve a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Its key id has no recent failure.
    Clean,
    /// Its key id failed a slow verification recently.
    Suspect,
}

pub(crate) struct HashPool {
    hasher: Arc<dyn SecretHasher>,
    permits: Arc<Semaphore>,
    /// Held by a suspect verification from before it waits for a slot until its hash
    /// ends: one fewer than the slots (at least one).
    suspect_permits: Arc<Semaphore>,
    /// Callers waiting for a slot, by standing: each queue has its own bound, so
    /// guesses filling theirs never turn a clean verification away.
    waiting_clean: AtomicUsize,
    waiting_suspect: AtomicUsize,
    /// Mints and re-hashes waiting: never refused, never counted against a queue.
    waiting_unbounded: AtomicUsize,
    max_waiting: usize,
    metrics: HashMetrics,
}

/// Counts one caller waiting for a permit, until it gets one or is cancelled.
struct Waiting<'a> {
    pool: &'a HashPool,
    queue: &'a AtomicUsize,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.queue.fetch_sub(1, Ordering::SeqCst);
        self.pool.queue_changed();
    }
}

impl HashPool {
    pub(crate) fn new(
        hasher: Arc<dyn SecretHasher>,
        running: usize,
        max_waiting: usize,
        metrics: HashMetrics,
    ) -> Self {
        HashPool {
            hasher,
            permits: Arc::new(Semaphore::new(running)),
            suspect_permits: Arc::new(Semaphore::new(running.saturating_sub(1).max(1))),
            waiting_clean: AtomicUsize::new(0),
            waiting_suspect: AtomicUsize::new(0),
            waiting_unbounded: AtomicUsize::new(0),
            max_waiting,
            metrics,
        }
    }

    /// `keyward_slow_hash_queue_depth`, after a verification joined or left the queue.
    fn queue_changed(&self) {
        self.metrics.queue_depth.set(self.queued() as f64);
    }

    /// Verifications waiting for a slot right now, clean and suspect.
    pub(crate) fn queued(&self) -> usize {
        self.waiting_clean.load(Ordering::SeqCst) + self.waiting_suspect.load(Ordering::SeqCst)
    }

    /// Runs `f` however long the queue (mints and re-hashes: never refused).
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, HashRefused>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretHasher) -> T + Send + 'static,
    {
        let permit = self
            .wait_for(&self.permits, &self.waiting_unbounded)
            .await?;
        self.start(permit, f)
            .await
            .map_err(|_| HashRefused::ShutDown)
    }

    /// Starts a verification once it has a slot, or refuses at once when `max_waiting`
    /// callers already wait. The hash runs to its end even if the returned handle is
    /// dropped; whoever holds the handle learns its result.
    pub(crate) async fn start_bounded<T, F>(
        &self,
        standing: Standing,
        f: F,
    ) -> Result<JoinHandle<T>, HashRefused>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretHasher) -> T + Send + 'static,
    {
        let (suspect, queue) = match standing {
            Standing::Clean => (None, &self.waiting_clean),
            Standing::Suspect => (
                Some(
                    self.bounded_permit(&self.suspect_permits, &self.waiting_suspect)
                        .await?,
                ),
                &self.waiting_suspect,
            ),
        };
        let permit = self.bounded_permit(&self.permits, queue).await?;
        Ok(self.start((permit, suspect), f))
    }

    /// A permit of `semaphore` now, or after a wait unless `queue` is full.
    async fn bounded_permit(
        &self,
        semaphore: &Arc<Semaphore>,
        queue: &AtomicUsize,
    ) -> Result<OwnedSemaphorePermit, HashRefused> {
        match Arc::clone(semaphore).try_acquire_owned() {
            Ok(permit) => Ok(permit),
            Err(tokio::sync::TryAcquireError::Closed) => Err(HashRefused::ShutDown),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                if queue.load(Ordering::SeqCst) >= self.max_waiting {
                    return Err(HashRefused::QueueFull);
                }
                self.wait_for(semaphore, queue).await
            }
        }
    }

    async fn wait_for(
        &self,
        semaphore: &Arc<Semaphore>,
        queue: &AtomicUsize,
    ) -> Result<OwnedSemaphorePermit, HashRefused> {
        queue.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting { pool: self, queue };
        self.queue_changed();
        Arc::clone(semaphore)
            .acquire_owned()
            .await
            .map_err(|_| HashRefused::ShutDown)
    }

    /// The permits travel with the closure: a caller cancelled mid-hash cannot free its
    /// slot while its hash still occupies a blocking thread.
    fn start<P, T, F>(&self, permits: P, f: F) -> JoinHandle<T>
    where
        P: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&dyn SecretHasher) -> T + Send + 'static,
    {
        let hasher = Arc::clone(&self.hasher);
        let metrics = self.metrics.clone();
        tokio::task::spawn_blocking(move || {
            let _permits = permits;
            let started = Instant::now();
            let output = f(&*hasher);
            metrics.hashed(started.elapsed());
            output
        })
    }
}
