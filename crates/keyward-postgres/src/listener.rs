use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use keyward_format::KeyId;
use keyward_store::{Invalidation, InvalidationSink, InvalidationSource, StoreError, Subscription};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::task::JoinHandle;

use crate::error::PostgresError;
use crate::store::PostgresStore;

/// How an [`InvalidationListener`] watches its connection.
///
/// ```
/// use std::time::Duration;
/// use keyward_postgres::ListenerOptions;
///
/// let options = ListenerOptions::new()
///     .heartbeat(Duration::from_secs(5))
///     .max_backoff(Duration::from_secs(30))
///     .application_name("api-7 invalidations");
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct ListenerOptions {
    heartbeat: Duration,
    max_backoff: Duration,
    application_name: String,
}

impl Default for ListenerOptions {
    fn default() -> Self {
        ListenerOptions {
            // A connection that silently died (a NAT or failover dropping it without a
            // reset) is noticed within three heartbeats.
            heartbeat: Duration::from_secs(10),
            max_backoff: Duration::from_secs(10),
            application_name: "keyward-listener".to_owned(),
        }
    }
}

impl ListenerOptions {
    /// The defaults: a 10 s heartbeat, reconnect attempts at most 10 s apart,
    /// application name `keyward-listener`.
    pub fn new() -> Self {
        ListenerOptions::default()
    }

    /// How often the listener sends itself an empty notification through the store's
    /// pool (default 10 s). Three heartbeats without any notification arriving mean the
    /// connection is dead: the listener reconnects and emits [`Invalidation::All`].
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every.max(Duration::from_millis(10));
        self
    }

    /// The longest wait between two reconnect attempts (default 10 s); waits start at
    /// 100 ms and double.
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max.max(Duration::from_millis(100));
        self
    }

    /// The `application_name` the listening connection reports in `pg_stat_activity`
    /// (default `keyward-listener`).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }
}

/// Delivers the invalidations of a [`PostgresStore`]'s schema to a handler: one
/// connection doing `LISTEN` on [`PostgresStore::channel`], in a background task.
///
/// The task never gives up: when the connection is lost (server restart, a killed
/// backend, a silent network failure caught by the heartbeat) it reconnects with a
/// backoff of 100 ms doubling up to [`ListenerOptions::max_backoff`], and after each
/// reconnect calls the handler with [`Invalidation::All`], because events sent while
/// it was away are lost. Reconnects are logged (target `keyward`), never with a secret.
///
/// Dropping the listener (or calling [`stop`](Self::stop)) ends the task; so does
/// closing the store ([`PostgresStore::close`]), at the next reconnect or heartbeat. The handler
/// runs on the listener's task: keep it quick and non-blocking (evicting from a cache
/// is). A panic in the handler is logged and the listener carries on.
///
/// keyward's own cache needs none of this: `KeywardBuilder::invalidations(store)`
/// subscribes it (the store is an [`InvalidationSource`]) and keeps the subscription as
/// long as the `Keyward` lives. This type is for wiring a handler by hand.
///
/// ```no_run
/// use keyward_postgres::{Invalidation, InvalidationListener, PostgresStore};
///
/// # async fn run(store: PostgresStore, authenticator: keyward::Authenticator) -> Result<(), keyward_postgres::PostgresError> {
/// let auth = authenticator.clone();
/// let _listener = InvalidationListener::start(&store, move |event| match event {
///     Invalidation::Key(id) => auth.evict(&id),
///     Invalidation::All => auth.clear_cache(),
/// })
/// .await?;
/// // ... serve; keep `_listener` alive as long as the authenticator.
/// # Ok(()) }
/// ```
pub struct InvalidationListener {
    /// `None` only inside `stop`.
    task: Option<JoinHandle<()>>,
    channel: String,
}

impl fmt::Debug for InvalidationListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvalidationListener")
            .field("channel", &self.channel)
            .field("running", &self.is_running())
            .finish()
    }
}

impl InvalidationListener {
    /// Starts listening with the default [`ListenerOptions`]. Returns once the `LISTEN`
    /// is in place, so every change committed after this returns reaches `handler`.
    ///
    /// Fails only when the first connection cannot be made (within the store's acquire
    /// timeout); later losses are retried forever. Must be called within a tokio
    /// runtime.
    pub async fn start(
        store: &PostgresStore,
        handler: impl Fn(Invalidation) + Send + Sync + 'static,
    ) -> Result<InvalidationListener, PostgresError> {
        InvalidationListener::start_with(store, ListenerOptions::default(), handler).await
    }

    /// Starts listening with `options`; see [`start`](Self::start).
    pub async fn start_with(
        store: &PostgresStore,
        options: ListenerOptions,
        handler: impl Fn(Invalidation) + Send + Sync + 'static,
    ) -> Result<InvalidationListener, PostgresError> {
        let worker = Worker {
            store: store.clone(),
            options,
            handler: Arc::new(handler),
        };
        let first = worker
            .connect()
            .await
            .map_err(|e| PostgresError::connecting(store.server(), e))?;
        let channel = store.channel().to_owned();
        let task = tokio::spawn(worker.run(Some(first)));
        Ok(InvalidationListener {
            task: Some(task),
            channel,
        })
    }

    /// The channel listened to.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Whether the background task still runs: it ends only when stopped, dropped, or
    /// when its store was closed.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops listening and waits for the task to end.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for InvalidationListener {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The invalidations of a [`PostgresStore`]'s schema as an [`InvalidationSource`],
/// listening with chosen [`ListenerOptions`]; made by [`PostgresStore::invalidations`].
/// `PostgresStore` itself is a source with the default options.
///
/// Each subscription runs the [`InvalidationListener`]'s task (same reconnects,
/// backoff and heartbeat) without waiting for its first connection: the task connects
/// in the background and delivers [`Invalidation::All`] after every `LISTEN` it puts
/// in place, the first included, so nothing cached before then is trusted.
///
/// ```no_run
/// use std::time::Duration;
/// use keyward_postgres::{ListenerOptions, PostgresStore};
///
/// # fn wire(store: PostgresStore, builder: keyward::KeywardBuilder) -> keyward::KeywardBuilder {
/// let options = ListenerOptions::new().heartbeat(Duration::from_secs(5));
/// builder
///     .shared_store(std::sync::Arc::new(store.clone()))
///     .invalidations(store.invalidations(options))
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresInvalidations {
    store: PostgresStore,
    options: ListenerOptions,
}

impl PostgresStore {
    /// This store's invalidations as an [`InvalidationSource`] listening with
    /// `options` (the store itself is one with the defaults).
    pub fn invalidations(&self, options: ListenerOptions) -> PostgresInvalidations {
        PostgresInvalidations {
            store: self.clone(),
            options,
        }
    }
}

impl InvalidationSource for PostgresInvalidations {
    /// Spawns the listening task on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidRequest`] outside a Tokio runtime;
    /// [`StoreError::Unavailable`] when the store was closed.
    fn subscribe(&self, sink: InvalidationSink) -> Result<Subscription, StoreError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StoreError::InvalidRequest(
                "PostgreSQL invalidations need a Tokio runtime; subscribe (build keyward) inside one"
                    .to_owned(),
            )
        })?;
        if self.store.pool().is_closed() {
            return Err(StoreError::unavailable(
                "the PostgreSQL key store is closed",
            ));
        }
        let worker = Worker {
            store: self.store.clone(),
            options: self.options.clone(),
            handler: sink,
        };
        Ok(Subscription::new(AbortOnDrop(
            runtime.spawn(worker.run(None)),
        )))
    }
}

impl InvalidationSource for PostgresStore {
    /// [`PostgresInvalidations::subscribe`] with the default [`ListenerOptions`].
    fn subscribe(&self, sink: InvalidationSink) -> Result<Subscription, StoreError> {
        self.invalidations(ListenerOptions::default())
            .subscribe(sink)
    }
}

/// Aborts a task when dropped (the heartbeat, when the listener task ends).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Worker {
    store: PostgresStore,
    options: ListenerOptions,
    handler: InvalidationSink,
}

/// A listening connection and the one-connection pool it came from.
struct Connection {
    listener: PgListener,
    pool: PgPool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Marks the pool closed at once (the returned future only waits for the
        // connections), so the connection is closed when the listener lets go of it
        // instead of being pinged, which could hang on a dead network.
        drop(self.pool.close());
    }
}

const INITIAL_BACKOFF: Duration = Duration::from_millis(100);

const HEARTBEAT: &str = "SELECT pg_notify($1, '')";

impl Worker {
    /// One connection, `LISTEN`ing on the store's channel, within the store's acquire
    /// and query timeouts.
    async fn connect(&self) -> Result<Connection, sqlx::Error> {
        let options = self.store.options();
        let limit = options.acquire_timeout + options.query_timeout;
        tokio::time::timeout(limit, self.try_connect())
            .await
            .unwrap_or_else(|_| {
                Err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no LISTEN connection within {limit:?}"),
                )))
            })
    }

    async fn try_connect(&self) -> Result<Connection, sqlx::Error> {
        let connect_options = self
            .store
            .connect_options()
            .clone()
            .application_name(&self.options.application_name);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(self.store.options().acquire_timeout)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(connect_options);
        let mut listener = PgListener::connect_with(&pool).await?;
        // A lost connection is this task's business: it replaces the whole listener.
        listener.eager_reconnect(false);
        listener.ignore_pool_close_event(true);
        listener.listen(self.store.channel()).await?;
        Ok(Connection { listener, pool })
    }

    fn emit(&self, event: Invalidation) {
        let handler = &self.handler;
        if std::panic::catch_unwind(AssertUnwindSafe(|| handler(event))).is_err() {
            tracing::error!(target: "keyward", channel = %self.store.channel(), ?event, "invalidation handler panicked");
        }
    }

    /// Sends an empty notification every heartbeat, so a live connection always has
    /// something to receive.
    fn spawn_heartbeat(&self) -> AbortOnDrop {
        let pool = self.store.pool().clone();
        let channel = self.store.channel().to_owned();
        let every = self.options.heartbeat;
        AbortOnDrop(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                let sent = tokio::time::timeout(
                    every,
                    sqlx::query(HEARTBEAT).bind(&channel).execute(&pool),
                )
                .await;
                if !matches!(sent, Ok(Ok(_))) {
                    tracing::debug!(target: "keyward", %channel, "invalidation heartbeat not sent");
                }
            }
        }))
    }

    /// Delivers until aborted or the store is closed. Without `first` it connects
    /// itself; every `LISTEN` it puts in place is followed by [`Invalidation::All`],
    /// since changes made before it was in place were not heard.
    async fn run(self, first: Option<Connection>) {
        let _heartbeat = self.spawn_heartbeat();
        let channel = self.store.channel().to_owned();
        let silence = self.options.heartbeat * 3;
        let mut listened = first.is_some();
        let mut connection = first;
        let mut backoff = INITIAL_BACKOFF;
        loop {
            if self.store.pool().is_closed() {
                tracing::debug!(target: "keyward", %channel, "key store closed; invalidation listener stops");
                return;
            }
            let mut current = match connection.take() {
                Some(c) => c,
                None => match self.connect().await {
                    Ok(c) => {
                        if listened {
                            tracing::info!(target: "keyward", %channel, "invalidation listener reconnected; clearing caches");
                        } else {
                            tracing::debug!(target: "keyward", %channel, "invalidation listener listening; clearing caches");
                        }
                        listened = true;
                        backoff = INITIAL_BACKOFF;
                        self.emit(Invalidation::All);
                        c
                    }
                    Err(e) => {
                        let what = if listened { "reconnect" } else { "connect" };
                        tracing::warn!(target: "keyward", %channel, error = %e, retry_in = ?backoff, "invalidation listener cannot {what}");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(self.options.max_backoff);
                        continue;
                    }
                },
            };
            let lost = loop {
                match tokio::time::timeout(silence, current.listener.try_recv()).await {
                    Ok(Ok(Some(notification))) => match notification.payload() {
                        "" => {} // a heartbeat
                        "*" => self.emit(Invalidation::All),
                        payload => match KeyId::parse(payload) {
                            Ok(id) => self.emit(Invalidation::Key(id)),
                            // Not ours to understand (a hand-sent NOTIFY): be safe.
                            Err(_) => self.emit(Invalidation::All),
                        },
                    },
                    Ok(Ok(None)) => break "connection closed".to_owned(),
                    Ok(Err(e)) => break e.to_string(),
                    Err(_) => break format!("nothing received for {silence:?}"),
                }
            };
            tracing::warn!(target: "keyward", %channel, reason = %lost, "invalidation listener lost its connection; reconnecting");
            drop(current);
        }
    }
}
