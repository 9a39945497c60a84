//! [`Keyward`], the configured whole, and [`KeywardBuilder`], which checks a
//! configuration and assembles the shared core from it.

use std::sync::{Arc, Weak};

use keyward_clock::{Clock, SystemClock};
use keyward_format::KeyFormat;
use keyward_hash::{BcryptHasher, SecretHasher};
use keyward_limit::{
    FailureGuard, GuardConfig, MemoryFailureGuard, MemoryRateLimiter, Quota, RateLimiter,
    RequestLimits,
};
use keyward_scope::Catalog;
use keyward_store::{Invalidation, InvalidationSink, InvalidationSource, KeyStore};

use crate::authenticator::Authenticator;
use crate::cache::VerificationCache;
use crate::client_slots::ClientSlots;
use crate::config::Config;
use crate::config_file::ConfigFile;
use crate::core::Core;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::database::Database;
use crate::digest::DigestKey;
use crate::error::BuildError;
use crate::events::{EventSink, Events};
use crate::hash_pool::HashPool;
use crate::key_cooldown::KeyCooldown;
use crate::limits::{LimitFailure, Limits};
use crate::lockout_watch::{TrackedClients, WatchedGuard};
use crate::metered_store::MeteredStore;
use crate::metrics::{HashMetrics, Metrics};
use crate::owner::OwnerPermissions;
use crate::refusal_log::RefusalLog;
use crate::registry::Registry;
use crate::service::KeyService;

/// Client group and reason pairs the refusal log remembers (about 1 MB at most).
const REFUSAL_LOG_PAIRS: usize = 10_000;

/// A configured keyward: the [`Authenticator`] for the request path and the
/// [`KeyService`] for key management, sharing one store, hasher, clock and cache.
///
/// ```
/// use keyward::{Credential, Keyward, MintRequest};
/// use keyward_format::KeyFormat;
/// use keyward::hash::BcryptHasher;
/// use keyward::store::MemoryStore;
/// use keyward_scope::{Catalog, Requirement};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let catalog = Catalog::builder()
///     .capabilities(["jobs:read", "jobs:write"])
///     .implies("jobs:write", "jobs:read")
///     .default_grant("jobs:read")
///     .build()?;
/// let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, catalog.clone())
///     .store(MemoryStore::new())
///     .hasher(BcryptHasher::new(4)?) // tests only: use the default cost in production
///     .build()?;
///
/// let minted = keyward.keys().mint(MintRequest::new("CI", "u_1")).await?;
/// let key = minted.key.expose();
///
/// let read_jobs = catalog.all_of(["jobs:read"])?;
/// let ip = "127.0.0.1".parse()?;
/// let principal = keyward.authenticator().authenticate(Credential::Key(key), &read_jobs, ip).await?;
/// assert_eq!(principal.owner(), "u_1");
///
/// let write_jobs = catalog.all_of(["jobs:write"])?;
/// let denied = keyward.authenticator().authenticate(Credential::Key(key), &write_jobs, ip).await;
/// assert_eq!(denied.unwrap_err().code().as_str(), "insufficient_capability");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Keyward {
    core: Arc<Core>,
}

impl Keyward {
    /// Starts configuring keyward for keys of `format`, checked against `catalog`.
    pub fn builder(format: KeyFormat, catalog: Catalog) -> KeywardBuilder {
        KeywardBuilder {
            format,
            catalog,
            store: None,
            invalidations: None,
            hasher: None,
            clock: Arc::new(SystemClock),
            owners: None,
            config: Config::default(),
            limiter: LimiterChoice::Memory,
            default_quota: Quota::per_minute(60),
            owner_quota: None,
            tenant_quota: None,
            guard: GuardChoice::Memory(GuardConfig::default()),
            on_limit_failure: LimitFailure::Closed,
            together: None,
            event_sink: None,
        }
    }

    /// The request path.
    pub fn authenticator(&self) -> Authenticator {
        Authenticator::new(Arc::clone(&self.core))
    }

    /// Key management.
    pub fn keys(&self) -> KeyService {
        KeyService::new(Arc::clone(&self.core))
    }

    /// The key format.
    pub fn format(&self) -> &KeyFormat {
        &self.core.format
    }

    /// The capability catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.core.catalog
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &Config {
        &self.core.config
    }
}

/// Configures a [`Keyward`]. Only the store is required.
#[must_use]
pub struct KeywardBuilder {
    format: KeyFormat,
    catalog: Catalog,
    store: Option<Arc<dyn KeyStore>>,
    invalidations: Option<Box<dyn InvalidationSource>>,
    hasher: Option<Arc<dyn SecretHasher>>,
    clock: Arc<dyn Clock>,
    owners: Option<Arc<dyn OwnerPermissions>>,
    config: Config,
    limiter: LimiterChoice,
    default_quota: Quota,
    owner_quota: Option<Quota>,
    tenant_quota: Option<Quota>,
    guard: GuardChoice,
    on_limit_failure: LimitFailure,
    together: Option<Arc<dyn RequestLimits>>,
    event_sink: Option<Arc<dyn EventSink>>,
}

enum LimiterChoice {
    Memory,
    Custom(Arc<dyn RateLimiter>),
    Off,
}

enum GuardChoice {
    Memory(GuardConfig),
    Custom(Arc<dyn FailureGuard>),
    Off,
}

impl KeywardBuilder {
    /// The per-key rate limit for keys without their own (default 60 per minute, burst
    /// equal to the limit).
    pub fn default_quota(mut self, quota: Quota) -> Self {
        self.default_quota = quota;
        self
    }

    /// A budget every key of one owner shares, in addition to each key's own (off by
    /// default): a request passes only when its key's and its owner's budgets both
    /// allow it, so rotating a key or splitting the work over more keys no longer
    /// multiplies what the owner may send. A request one budget refuses spends none of
    /// the others (the memory and Redis limiters decide all or nothing). A 429 from it
    /// names `"limit": "owner"`.
    ///
    /// ```
    /// use keyward::Keyward;
    /// use keyward::limit::Quota;
    /// use keyward::store::MemoryStore;
    /// use keyward_format::KeyFormat;
    /// use keyward_scope::Catalog;
    ///
    /// let catalog = Catalog::builder().build()?;
    /// let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, catalog)
    ///     .store(MemoryStore::new())
    ///     .owner_quota(Quota::per_minute(600))
    ///     .build()?;
    /// # let _ = keyward;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owner_quota(mut self, quota: Quota) -> Self {
        self.owner_quota = Some(quota);
        self
    }

    /// A budget every key of one tenant (team and project) shares, in addition to each
    /// key's own and its owner's (off by default; keys without a tenant have none). A
    /// 429 from it names `"limit": "tenant"`. See [`owner_quota`](Self::owner_quota).
    pub fn tenant_quota(mut self, quota: Quota) -> Self {
        self.tenant_quota = Some(quota);
        self
    }

    /// Where per-key rate-limit state lives (default: in memory, this process only).
    /// Several instances share one budget through a Redis limiter.
    pub fn rate_limiter(mut self, limiter: impl RateLimiter + 'static) -> Self {
        self.limiter = LimiterChoice::Custom(Arc::new(limiter));
        self
    }

    /// No per-key rate limits at all.
    pub fn without_rate_limits(mut self) -> Self {
        self.limiter = LimiterChoice::Off;
        self
    }

    /// The in-memory lockout's thresholds (default: 10 failures within 60 s lock the
    /// client IP out for 60 s).
    pub fn lockout(mut self, config: GuardConfig) -> Self {
        self.guard = GuardChoice::Memory(config);
        self
    }

    /// Where per-IP failure counts live (default: in memory).
    pub fn failure_guard(mut self, guard: impl FailureGuard + 'static) -> Self {
        self.guard = GuardChoice::Custom(Arc::new(guard));
        self
    }

    /// One backend as both the rate limiter and the failure guard, which decides a
    /// request's lockout and rate limit in one call: with keyward-redis's
    /// `RedisLimits::request_limits`, one round trip to Redis per request whose key is
    /// verified from the cache. Replaces [`rate_limiter`](Self::rate_limiter) and
    /// [`failure_guard`](Self::failure_guard); calling either afterwards goes back to
    /// asking the two separately.
    pub fn request_limits(mut self, limits: impl RequestLimits + 'static) -> Self {
        let limits = Arc::new(limits);
        self.limiter = LimiterChoice::Custom(limits.clone());
        self.guard = GuardChoice::Custom(limits.clone());
        self.together = Some(limits);
        self
    }

    /// No per-IP lockout. Only for deployments that lock out in front of keyward.
    pub fn without_lockout(mut self) -> Self {
        self.guard = GuardChoice::Off;
        self
    }

    /// When the rate limiter or failure guard backend cannot answer, let requests
    /// through unmetered instead of answering 503. The default refuses.
    pub fn fail_open_on_limit_errors(mut self) -> Self {
        self.on_limit_failure = LimitFailure::Open;
        self
    }

    /// Where keys are stored.
    pub fn store(mut self, store: impl KeyStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where keys are stored, shared with other users of the store.
    pub fn shared_store(mut self, store: Arc<dyn KeyStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where other processes' changes come from: `build` subscribes the cache to
    /// `source`, so a key another instance revokes, disables, rolls or expires is read
    /// again on its next request here (an [`Invalidation::Key`]), and an
    /// [`Invalidation::All`] empties the cache. Replaces any source set before.
    ///
    /// The subscription lasts as long as the [`Keyward`] or anything taken from it (an
    /// [`Authenticator`], a [`KeyService`]) lives. Without a source, a change made
    /// elsewhere shows here at the latest after [`Config::cache_refresh`].
    /// `keyward_postgres::PostgresStore` (LISTEN/NOTIFY, milliseconds) and
    /// `keyward_sqlite::SqliteStore` (a change feed polled every 100 ms) are sources;
    /// [`database`](Self::database) wires either for you.
    pub fn invalidations(mut self, source: impl InvalidationSource) -> Self {
        self.invalidations = Some(Box::new(source));
        self
    }

    /// Where keys are stored: the store `database` opened and its invalidations (see
    /// [`invalidations`](Self::invalidations)), so a key revoked, disabled, rolled or
    /// deleted by another process sharing the database is refused here too:
    ///
    /// - PostgreSQL: pushed by `NOTIFY`, within milliseconds of the commit;
    /// - SQLite: the file's change feed, polled every 100 ms (the default of
    ///   `keyward_sqlite::SqliteFeedOptions`), so a change made by another process on
    ///   the same file (the `keyward` CLI, a second server) shows here within about
    ///   that interval. For another interval, use [`shared_store`](Self::shared_store)
    ///   with `invalidations(store.invalidations(options))`.
    ///
    /// ```no_run
    /// use keyward::{Database, Keyward};
    /// # async fn run(format: keyward::format::KeyFormat, catalog: keyward::scope::Catalog) -> Result<(), Box<dyn std::error::Error>> {
    /// let database = Database::open("postgres://keyward@db.internal/keyward", Some("keys")).await?;
    /// let keyward = Keyward::builder(format, catalog).database(&database).build()?;
    /// # let _ = keyward; Ok(()) }
    /// ```
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub fn database(mut self, database: &Database) -> Self {
        self.store = Some(database.store());
        match database {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(store) => self.invalidations(store.clone()),
            #[cfg(feature = "postgres")]
            Database::Postgres(store) => self.invalidations(store.clone()),
        }
    }

    /// How new keys' secrets are hashed (default: [`BcryptHasher::default`]). Stored
    /// hashes of either supported algorithm keep verifying and are re-hashed with this
    /// one on their next successful use.
    pub fn hasher(mut self, hasher: impl SecretHasher) -> Self {
        self.hasher = Some(Arc::new(hasher));
        self
    }

    /// The clock (default: the system clock). Tests pass a `ManualClock`.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Narrows every key to what its owner holds now.
    pub fn owner_permissions(mut self, owners: impl OwnerPermissions) -> Self {
        self.owners = Some(Arc::new(owners));
        self
    }

    /// Tuning; see [`Config`] for the defaults.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sends every [`KeyEvent`](crate::KeyEvent) to `sink`: a closure
    /// `Fn(&KeyEvent)`, a `tokio::sync::broadcast::Sender<KeyEvent>`, or any
    /// [`EventSink`]. Without one, no event is built.
    ///
    /// ```
    /// # use keyward::{Keyward, KeyEvent, format::KeyFormat, scope::Catalog, store::MemoryStore};
    /// let (events, mut received) = tokio::sync::broadcast::channel::<KeyEvent>(1024);
    /// let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), Catalog::builder().build().unwrap())
    ///     .store(MemoryStore::new())
    ///     .event_sink(events)
    ///     .build()
    ///     .unwrap();
    /// # let _ = (keyward, received.try_recv());
    /// ```
    pub fn event_sink(mut self, sink: impl EventSink) -> Self {
        self.event_sink = Some(Arc::new(sink));
        self
    }

    /// Checks the configuration and builds.
    ///
    /// Metrics (see [`crate::metrics`]) are registered here, with the `metrics`
    /// recorder installed at this moment: install yours (a Prometheus exporter's, say)
    /// before calling `build`. Without one, recording costs nothing but a call to a
    /// no-op handle.
    pub fn build(self) -> Result<Keyward, BuildError> {
        self.config.validate()?;
        let store = self.store.ok_or(BuildError::MissingStore)?;
        // Asked together only while both limits are still the backend given to
        // `request_limits`.
        let together = self.together.filter(|both| {
            let both = Arc::as_ptr(both).cast::<()>();
            matches!(&self.limiter, LimiterChoice::Custom(l) if Arc::as_ptr(l).cast::<()>() == both)
                && matches!(&self.guard, GuardChoice::Custom(g) if Arc::as_ptr(g).cast::<()>() == both)
        });
        let metrics = Metrics::register();
        let store: Arc<dyn KeyStore> = Arc::new(MeteredStore::new(store));
        let events = Events::new(self.event_sink);
        let (guard, lockout_table) = match self.guard {
            GuardChoice::Memory(config) => {
                let memory = Arc::new(MemoryFailureGuard::with_clock(
                    config,
                    Arc::clone(&self.clock),
                ));
                let table: TrackedClients = memory.clone();
                (Some(memory as Arc<dyn FailureGuard>), Some(table))
            }
            GuardChoice::Custom(guard) => (Some(guard), None),
            GuardChoice::Off => (None, None),
        };
        let guard = guard.map(|guard| {
            let tracked = lockout_table
                .clone()
                .map(|table| (table, metrics.lockout_tracked.clone()));
            Arc::new(WatchedGuard::new(
                guard,
                metrics.lockouts.clone(),
                tracked,
                events.clone(),
            )) as Arc<dyn FailureGuard>
        });
        let hasher = self
            .hasher
            .unwrap_or_else(|| Arc::new(BcryptHasher::default()));
        let rate_decided_now = matches!(self.limiter, LimiterChoice::Memory | LimiterChoice::Off);
        let digest_key = DigestKey::random().map_err(BuildError::Random)?;
        let source = self.invalidations;
        let mut subscribe_failed = None;
        // The sink needs a `Weak` to the core, and the core holds the subscription.
        let core = Arc::new_cyclic(|weak| {
            let subscription = source.and_then(|source| {
                source
                    .subscribe(invalidation_sink(Weak::clone(weak)))
                    .map_err(|e| subscribe_failed = Some(e))
                    .ok()
            });
            Core {
                format: self.format,
                catalog: self.catalog,
                store,
                hasher: Arc::clone(&hasher),
                clock: Arc::clone(&self.clock),
                owners: self.owners,
                cache: VerificationCache::new(
                    self.config.cache_capacity,
                    metrics.cache_entries.clone(),
                ),
                digest_key,
                inflight: Registry::new(),
                hashes: HashPool::new(
                    Arc::clone(&hasher),
                    self.config.max_concurrent_hashes,
                    self.config.max_queued_verifications,
                    HashMetrics::register(),
                ),
                client_slots: ClientSlots::new(),
                key_cooldown: KeyCooldown::new(self.config.key_lockout),
                refusal_log: RefusalLog::new(self.config.refusal_log_interval, REFUSAL_LOG_PAIRS),
                limits: Limits {
                    limiter: match self.limiter {
                        LimiterChoice::Memory => Some(Arc::new(MemoryRateLimiter::with_clock(
                            Arc::clone(&self.clock),
                        ))),
                        LimiterChoice::Custom(limiter) => Some(limiter),
                        LimiterChoice::Off => None,
                    },
                    default_quota: self.default_quota,
                    owner_quota: self.owner_quota,
                    tenant_quota: self.tenant_quota,
                    guard,
                    on_failure: self.on_limit_failure,
                    unavailable_retry_after: self.config.unavailable_retry_after,
                    together,
                    rate_decided_now,
                },
                config: self.config,
                events,
                metrics,
                lockout_table,
                _invalidations: subscription,
            }
        });
        match subscribe_failed {
            Some(e) => Err(BuildError::Invalidations(e)),
            None => Ok(Keyward { core }),
        }
    }
}

/// Applies invalidations to the cache of `core` while it lives; holding it weakly keeps
/// the core (which holds the subscription) from keeping itself alive.
fn invalidation_sink(core: Weak<Core>) -> InvalidationSink {
    Arc::new(move |event| {
        let Some(core) = core.upgrade() else { return };
        match event {
            // What `Authenticator::invalidate` does: a store read on the next request,
            // no slow hash unless the stored hash changed.
            Invalidation::Key(id) => core.cache.mark_stale(&id),
            Invalidation::All => core.cache.clear(),
        }
    })
}

impl Keyward {
    /// Starts configuring keyward from a configuration file: its key format, catalog,
    /// hasher, default rate limit, lockout and cache tuning. The caller adds the store
    /// (`.database(&db)` with [`ConfigFile::database_url`]) and anything the file does
    /// not say (a clock, shared limiters).
    ///
    /// ```
    /// use keyward::{ConfigFile, Keyward};
    /// use keyward::store::MemoryStore;
    ///
    /// let file = ConfigFile::parse("[cache]\nrefresh = \"5s\"\n", "keyward.toml")?;
    /// let keyward = Keyward::from_config(&file).store(MemoryStore::new()).build()?;
    /// assert_eq!(keyward.config().cache_refresh, std::time::Duration::from_secs(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_config(file: &ConfigFile) -> KeywardBuilder {
        let mut builder = Keyward::builder(file.format().clone(), file.catalog().clone())
            .config(file.config())
            .default_quota(file.rate())
            .lockout(file.lockout());
        builder.owner_quota = file.owner_rate();
        builder.tenant_quota = file.tenant_rate();
        builder.hasher = Some(file.hasher().hasher());
        builder
    }
}
