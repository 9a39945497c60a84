//! The change feed: what other processes changed in the file, read by polling the
//! `keyward_changes` table that migration 3's triggers fill.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use keyward_format::KeyId;
use keyward_store::{Invalidation, InvalidationSink, InvalidationSource, StoreError, Subscription};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::task::JoinHandle;

use crate::store::{SqliteStore, store_error};

/// Changes committed by any connection other than this one since it last asked. An
/// idle poll is this one statement: no page of the database is read.
const DATA_VERSION: &str = "PRAGMA data_version";

/// The newest sequence number ever given to a change (0 before the first), which
/// survives the table being emptied.
const HEAD: &str = "SELECT COALESCE(
    (SELECT seq FROM sqlite_sequence WHERE name = 'keyward_changes'), 0)";

/// The changes after `?1`, oldest first: a range of the rowid b-tree.
const SINCE: &str = "SELECT seq, key_id FROM keyward_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2";

/// Rows read per statement while catching up.
const BATCH: i64 = 1_000;

/// The default poll interval. A change made elsewhere reaches this process within
/// one interval plus one query, so 100 ms keeps a revocation's worst case well under
/// what a person notices. An idle poll reads no page (one `PRAGMA data_version`), but
/// it wakes a runtime worker and the feed's connection thread: about 0.2–0.3 ms of CPU
/// per poll on a 2-core VM, 0.2–0.3 % of one core at this interval whatever the
/// traffic (`examples/feed_idle_cpu.rs` measures it). A longer interval costs less.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The shortest poll interval [`SqliteFeedOptions::poll_interval`] accepts.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(1);

/// How a subscription to an SQLite file's change feed polls.
///
/// ```
/// use std::time::Duration;
/// use keyward_sqlite::SqliteFeedOptions;
///
/// let options = SqliteFeedOptions::new().poll_interval(Duration::from_millis(250));
/// assert_eq!(options.interval(), Duration::from_millis(250));
/// ```
#[derive(Debug, Clone)]
pub struct SqliteFeedOptions {
    poll_interval: Duration,
}

impl Default for SqliteFeedOptions {
    fn default() -> Self {
        SqliteFeedOptions {
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }
}

impl SqliteFeedOptions {
    /// The defaults: a poll every [`DEFAULT_POLL_INTERVAL`] (100 ms).
    pub fn new() -> Self {
        SqliteFeedOptions::default()
    }

    /// How often the file is polled (default 100 ms, at least 1 ms): the longest a
    /// change made by another process waits before it is delivered here.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every.max(MIN_POLL_INTERVAL);
        self
    }

    /// The poll interval in force.
    pub fn interval(&self) -> Duration {
        self.poll_interval
    }
}

/// A reader of an SQLite file's change feed, driven by hand: each
/// [`poll`](Self::poll) returns what changed since the last one. A subscription
/// ([`SqliteStore`] as an [`InvalidationSource`]) runs one in a background task.
///
/// It reads through a connection of its own (not one of the store's pool), so it
/// can ask SQLite whether anything was committed since its last look
/// (`PRAGMA data_version`) and otherwise read nothing. Changes made through any other
/// connection count, this process's own included.
///
/// ```
/// use keyward_sqlite::{ChangeFeed, Invalidation, SqliteStore};
/// use keyward_clock::Timestamp;
/// use keyward_store::KeyStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # let dir = std::env::temp_dir().join(format!("keyward-feed-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let store = SqliteStore::open(dir.join("keys.db").to_str().unwrap()).await.unwrap();
/// let mut feed = ChangeFeed::open(&store).await.unwrap();
/// assert!(feed.poll().await.unwrap().is_empty());
/// # let record = keyward_testing::store_conformance::sample_record(
/// #     keyward_testing::store_conformance::fresh_id(), "u_1", Timestamp::from_unix_millis(0));
/// # store.insert(&record).await.unwrap();
/// store.revoke(&record.id, Timestamp::from_unix_millis(1)).await.unwrap();
/// assert_eq!(feed.poll().await.unwrap(), [Invalidation::Key(record.id)]);
/// # std::fs::remove_dir_all(&dir).ok();
/// # });
/// ```
pub struct ChangeFeed {
    options: SqliteConnectOptions,
    /// `None` after an error: the next poll connects again, from the same position.
    connection: Option<SqliteConnection>,
    /// The sequence number of the last change delivered.
    position: i64,
    /// `PRAGMA data_version` when the feed last caught up; `None` forces a read.
    data_version: Option<i64>,
}

impl fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("path", &self.options.get_filename())
            .field("position", &self.position)
            .field("connected", &self.connection.is_some())
            .finish()
    }
}

impl ChangeFeed {
    /// Opens a connection to `store`'s file and positions the feed after the newest
    /// change: the first [`poll`](Self::poll) returns only what changes after this.
    ///
    /// Whatever was cached from the store before this returned may already be stale:
    /// drop it (a subscription delivers [`Invalidation::All`] for that).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the file cannot be read (or the store was
    /// closed).
    pub async fn open(store: &SqliteStore) -> Result<ChangeFeed, StoreError> {
        if store.pool().is_closed() {
            return Err(StoreError::unavailable("the SQLite key store is closed"));
        }
        let options = (*store.pool().connect_options())
            .clone()
            .thread_name(|id| format!("keyward-sqlite-feed-{id}"));
        let mut connection = options.connect().await.map_err(store_error)?;
        // The version before the head: a change committed between the two shows as a
        // new version at the next poll.
        let data_version: i64 = sqlx::query_scalar(DATA_VERSION)
            .fetch_one(&mut connection)
            .await
            .map_err(store_error)?;
        let position: i64 = sqlx::query_scalar(HEAD)
            .fetch_one(&mut connection)
            .await
            .map_err(store_error)?;
        Ok(ChangeFeed {
            options,
            connection: Some(connection),
            position,
            data_version: Some(data_version),
        })
    }

    /// The sequence number of the last change this feed has returned (or skipped).
    pub fn position(&self) -> i64 {
        self.position
    }

    /// What changed since the last poll, oldest first: an [`Invalidation::Key`] per
    /// changed key, or a single [`Invalidation::All`] when changes were missed (this
    /// feed fell behind the kept range, [`crate::CHANGES_KEPT`] rows, or the table
    /// was emptied or replaced). After an `All` the feed resumes from the newest change.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the file cannot be read. Nothing is lost: the
    /// next poll reconnects and carries on from the same position.
    pub async fn poll(&mut self) -> Result<Vec<Invalidation>, StoreError> {
        let polled = self.try_poll().await;
        if polled.is_err() {
            // A connection that failed once is not trusted again; dropping it closes it.
            self.connection = None;
            self.data_version = None;
        }
        polled.map_err(store_error)
    }

    async fn try_poll(&mut self) -> Result<Vec<Invalidation>, sqlx::Error> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => self.connection.insert(self.options.connect().await?),
        };
        let version: i64 = sqlx::query_scalar(DATA_VERSION)
            .fetch_one(&mut *connection)
            .await?;
        if self.data_version == Some(version) {
            return Ok(Vec::new());
        }
        let head: i64 = sqlx::query_scalar(HEAD).fetch_one(&mut *connection).await?;
        // The position moves only once everything read is returned: an error halfway
        // leaves it where it was, so the next poll reads the same changes again.
        let mut position = self.position;
        let mut events = Vec::new();
        let missed = if head < position {
            // The sequence went backwards: another file, or one restored from a copy.
            true
        } else {
            let mut missed = false;
            while position < head {
                let rows: Vec<(i64, String)> = sqlx::query_as(SINCE)
                    .bind(position)
                    .bind(BATCH)
                    .fetch_all(&mut *connection)
                    .await?;
                // Sequence numbers have no holes, so a first row past `position + 1`
                // means the rows between were pruned (or deleted by hand).
                if rows.first().is_none_or(|(seq, _)| *seq != position + 1) {
                    missed = true;
                    break;
                }
                let full = rows.len() as i64 == BATCH;
                for (seq, id) in rows {
                    position = seq;
                    match KeyId::parse(&id) {
                        Ok(id) => events.push(Invalidation::Key(id)),
                        // Not a key id keyward wrote: be safe.
                        Err(_) => missed = true,
                    }
                }
                if missed || !full {
                    break;
                }
            }
            missed
        };
        self.data_version = Some(version);
        if missed {
            self.position = head;
            return Ok(vec![Invalidation::All]);
        }
        self.position = position;
        Ok(events)
    }
}

/// An SQLite file's change feed as an [`InvalidationSource`], polling with chosen
/// [`SqliteFeedOptions`]; made by [`SqliteStore::invalidations`]. `SqliteStore`
/// itself is a source with the default options (a poll every 100 ms).
///
/// Each subscription runs a [`ChangeFeed`] in a background task on the current Tokio
/// runtime: it delivers [`Invalidation::All`] once it has opened its connection
/// (anything cached before may be stale), then an [`Invalidation::Key`] for each key
/// another connection or process revoked, disabled, re-enabled, expired, rolled or
/// deleted, within one poll interval. A feed that fell behind the kept range delivers
/// `All` and resumes from the newest change. A failed poll is logged (target
/// `keyward`) and retried at the next tick without losing its place. The task ends
/// when the [`Subscription`] is dropped or the store is closed.
///
/// ```no_run
/// use std::time::Duration;
/// use keyward_sqlite::{SqliteFeedOptions, SqliteStore};
///
/// # fn wire(store: SqliteStore, builder: keyward::KeywardBuilder) -> keyward::KeywardBuilder {
/// let options = SqliteFeedOptions::new().poll_interval(Duration::from_millis(250));
/// builder
///     .shared_store(std::sync::Arc::new(store.clone()))
///     .invalidations(store.invalidations(options))
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteInvalidations {
    store: SqliteStore,
    options: SqliteFeedOptions,
}

impl SqliteStore {
    /// This file's change feed as an [`InvalidationSource`] polling with `options`
    /// (the store itself is one with the defaults).
    pub fn invalidations(&self, options: SqliteFeedOptions) -> SqliteInvalidations {
        SqliteInvalidations {
            store: self.clone(),
            options,
        }
    }
}

impl InvalidationSource for SqliteInvalidations {
    /// Spawns the polling task on the current Tokio runtime (which must have its
    /// timers enabled, as sqlx needs anyway).
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidRequest`] outside a Tokio runtime;
    /// [`StoreError::Unavailable`] when the store was closed.
    fn subscribe(&self, sink: InvalidationSink) -> Result<Subscription, StoreError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StoreError::InvalidRequest(
                "SQLite invalidations need a Tokio runtime; subscribe (build keyward) inside one"
                    .to_owned(),
            )
        })?;
        if self.store.pool().is_closed() {
            return Err(StoreError::unavailable("the SQLite key store is closed"));
        }
        let poller = Poller {
            store: self.store.clone(),
            every: self.options.poll_interval,
            sink,
        };
        Ok(Subscription::new(AbortOnDrop(runtime.spawn(poller.run()))))
    }
}

impl InvalidationSource for SqliteStore {
    /// [`SqliteInvalidations::subscribe`] with the default [`SqliteFeedOptions`].
    fn subscribe(&self, sink: InvalidationSink) -> Result<Subscription, StoreError> {
        self.invalidations(SqliteFeedOptions::default())
            .subscribe(sink)
    }
}

/// Aborts the polling task when the subscription is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Poller {
    store: SqliteStore,
    every: Duration,
    sink: InvalidationSink,
}

impl Poller {
    fn emit(&self, event: Invalidation) {
        let sink = &self.sink;
        if std::panic::catch_unwind(AssertUnwindSafe(|| sink(event))).is_err() {
            tracing::error!(target: "keyward", path = %self.store.path().display(), ?event, "invalidation handler panicked");
        }
    }

    /// Polls until aborted or the store is closed.
    async fn run(self) {
        let path = self.store.path().display().to_string();
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut feed: Option<ChangeFeed> = None;
        let mut failing = false;
        loop {
            tick.tick().await;
            if self.store.pool().is_closed() {
                tracing::debug!(target: "keyward", %path, "key store closed; SQLite change feed stops");
                return;
            }
            let polled = match &mut feed {
                Some(feed) => feed.poll().await,
                None => ChangeFeed::open(&self.store).await.map(|opened| {
                    tracing::debug!(target: "keyward", %path, position = opened.position(), "SQLite change feed started; clearing caches");
                    feed = Some(opened);
                    vec![Invalidation::All]
                }),
            };
            match polled {
                Ok(events) => {
                    if failing {
                        tracing::info!(target: "keyward", %path, "SQLite change feed reads again");
                        failing = false;
                    }
                    for event in events {
                        self.emit(event);
                    }
                }
                // Once per run of failures: a file gone for a minute is one line.
                Err(e) if !failing => {
                    tracing::warn!(target: "keyward", %path, error = %e, retry_in = ?self.every, "SQLite change feed cannot read; retrying");
                    failing = true;
                }
                Err(e) => {
                    tracing::debug!(target: "keyward", %path, error = %e, "SQLite change feed still cannot read");
                }
            }
        }
    }
}
