//! Cache invalidations made by other processes: what they say ([`Invalidation`]) and
//! what delivers them ([`InvalidationSource`]).

use std::fmt;
use std::sync::{Arc, Mutex};

use keyward_format::KeyId;

use crate::StoreError;

/// What a process must drop from its caches after a change made anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// One key changed (revoked, disabled, re-enabled, expiry set, rolled, deleted):
    /// forget what is cached about it, e.g. with `keyward::Authenticator::invalidate`.
    Key(KeyId),
    /// Anything may have changed: the source (re)connected and may have missed events,
    /// or the table was truncated. Drop everything, e.g. with
    /// `keyward::Authenticator::clear_cache`.
    All,
}

/// Where an [`InvalidationSource`] delivers: called on the source's own thread or task,
/// so it must be quick and must not block.
pub type InvalidationSink = Arc<dyn Fn(Invalidation) + Send + Sync>;

/// Anything that delivers the invalidations other processes cause, such as a
/// PostgreSQL `LISTEN` connection. `keyward::KeywardBuilder::invalidations` subscribes
/// its cache to one.
///
/// ```
/// use std::sync::Arc;
/// use keyward_store::{Invalidation, InvalidationSink, InvalidationSource, StoreError, Subscription};
///
/// /// Tells everything at once, then nothing more.
/// struct Once;
///
/// impl InvalidationSource for Once {
///     fn subscribe(&self, sink: InvalidationSink) -> Result<Subscription, StoreError> {
///         sink(Invalidation::All);
///         Ok(Subscription::new(()))
///     }
/// }
///
/// let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// let subscription = Once.subscribe(Arc::new(move |event| log.lock().unwrap().push(event)))?;
/// assert_eq!(*seen.lock().unwrap(), [Invalidation::All]);
/// drop(subscription);
/// # Ok::<(), StoreError>(())
/// ```
pub trait InvalidationSource: Send + Sync + 'static {
    /// Starts delivering to `sink` in the background; delivery stops when the returned
    /// [`Subscription`] is dropped.
    ///
    /// A source that may have missed events (at its start, or after losing its
    /// connection) delivers [`Invalidation::All`] once it is delivering again, so
    /// nothing cached before then outlives a change.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when delivery cannot start at all (e.g. no async runtime to run
    /// on); losses after that are the source's to recover from.
    fn subscribe(&self, sink: InvalidationSink) -> Result<Subscription, StoreError>;
}

/// A running delivery from an [`InvalidationSource`]; dropping it ends the delivery.
pub struct Subscription {
    /// Never read: it is held for its `Drop`. A mutex makes any `Send` guard `Sync`.
    _guard: Mutex<Box<dyn Send>>,
}

impl Subscription {
    /// A subscription whose delivery ends when `guard` is dropped (an abort-on-drop
    /// task handle, a flag the delivering thread checks, or `()` for a source that
    /// delivers nothing after `subscribe` returns).
    pub fn new(guard: impl Send + 'static) -> Subscription {
        Subscription {
            _guard: Mutex::new(Box::new(guard)),
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}
