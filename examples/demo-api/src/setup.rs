//! [`start`]: from flags to a running [`DemoApi`], with the bootstrap key on first start.

use std::sync::Arc;
use std::time::Duration;

use keyward::format::{KeyFormat, MintedKey};
use keyward::limit::ClientIpResolver;
use keyward::limit::GuardConfig;
use keyward::scope::Catalog;
use keyward::store::{ListFilter, PageRequest};
use keyward::{BuildError, Config, Database, DatabaseError, Keyward, MintRequest, ServiceError};
use keyward_cli::demo_catalog;
use keyward_redis::{RedisError, RedisLimits};

use crate::api::DemoApi;
use crate::args::ServerArgs;
use crate::directory::ADMIN;

/// The prefix of every demo key.
pub const KEY_PREFIX: &str = "sk_live_";

/// How often `last_used_at` is written back to the store.
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// A started demo: the API, how to find the client IP, and the bootstrap key when this
/// start minted one.
#[derive(Debug)]
pub struct Started {
    /// The API the routes call.
    pub api: Arc<DemoApi>,
    /// Client IP resolution from `--trusted-proxy`.
    pub client_ip: ClientIpResolver,
    /// Minted on the first start with an empty store; print it once.
    pub bootstrap_key: Option<MintedKey>,
}

/// The demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The database URL could not be opened.
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    /// keyward rejected its configuration.
    #[error("configuration: {0}")]
    Build(#[from] BuildError),
    /// The store could not be read or the bootstrap key not minted.
    #[error("bootstrap: {0}")]
    Bootstrap(#[from] ServiceError),
    /// Redis could not be reached or the URL is malformed.
    #[error("redis: {0}")]
    Redis(#[from] RedisError),
}

/// Opens the store, builds keyward over the demo catalog (with PostgreSQL, listening for
/// the changes other instances make) and, on the first start with an empty store, mints
/// the bootstrap key: the demo admin's, with every capability.
///
/// Call it inside a Tokio runtime (it spawns the `last_used_at` flusher).
///
/// # Errors
///
/// [`SetupError`] when the store cannot be opened or read.
pub async fn start(args: &ServerArgs) -> Result<Started, SetupError> {
    let database = Database::open(&args.database_url, args.database_schema.as_deref()).await?;
    let catalog = demo_catalog();
    let format = KeyFormat::new(KEY_PREFIX).unwrap_or_else(|e| unreachable!("{KEY_PREFIX}: {e}"));
    let config = Config {
        max_live_keys_per_owner: args.max_live_keys_per_owner,
        ..Config::default()
    };
    let mut builder = Keyward::builder(format, catalog.clone())
        .database(&database)
        .default_quota(args.rate_limit)
        .config(config);
    if let Some(url) = &args.redis_url {
        let redis = RedisLimits::connect(url, &args.redis_namespace).await?;
        builder = builder
            .rate_limiter(redis.rate_limiter())
            .failure_guard(redis.failure_guard(GuardConfig::default()));
    }
    if args.fail_open_on_limit_errors {
        builder = builder.fail_open_on_limit_errors();
    }
    let keyward = builder.build()?;
    let bootstrap_key = bootstrap(&keyward, &catalog).await?;
    keyward
        .authenticator()
        .spawn_usage_flusher(USAGE_FLUSH_EVERY);
    let client_ip = if args.trusted_proxies.is_empty() {
        ClientIpResolver::peer_only()
    } else {
        ClientIpResolver::trust_forwarded_headers_from(args.trusted_proxies.iter().copied())
    };
    Ok(Started {
        api: Arc::new(DemoApi::new(keyward)),
        client_ip,
        bootstrap_key,
    })
}

async fn bootstrap(
    keyward: &Keyward,
    catalog: &Catalog,
) -> Result<Option<MintedKey>, ServiceError> {
    let keys = keyward.keys();
    let any = keys.list(&ListFilter::all(), PageRequest::first(1)).await?;
    if !any.keys.is_empty() {
        return Ok(None);
    }
    let every = catalog.names(&catalog.all()).into_iter().map(str::to_owned);
    let minted = keys
        .mint(MintRequest::new("bootstrap", ADMIN.id).capabilities(every.collect::<Vec<_>>()))
        .await?;
    Ok(Some(minted.key))
}
