//! [`start`]: from flags and the configuration file to a running [`DemoApi`], with the
//! bootstrap key on first start.

use std::sync::Arc;
use std::time::Duration;

use keyward::format::MintedKey;
use keyward::limit::ClientIpResolver;
use keyward::store::{ListFilter, PageRequest};
use keyward::{
    BuildError, Config, ConfigError, ConfigFile, ConfigSource, Database, DatabaseError, Keyward,
    Loaded, MintRequest, ServiceError,
};
use keyward_dashboard::Dashboard;
use keyward_redis::{RedisError, RedisLimits};
use keyward_secret_scanning::{AlertReceiver, PublicKeys, PublicKeysError};

use crate::api::DemoApi;
use crate::args::ServerArgs;
use crate::directory::ADMIN;
use crate::sign_in::{LOGIN_PATH, SignIn};

/// The prefix of the built-in demo configuration's keys (a `keyward.toml` may choose
/// another).
pub const KEY_PREFIX: &str = "sk_live_";

/// How often `last_used_at` is written back to the store.
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// A started demo: the API, how to find the client IP, the bootstrap key when this
/// start minted one, and where its configuration came from.
#[derive(Debug)]
pub struct Started {
    /// The API the routes call.
    pub api: Arc<DemoApi>,
    /// Client IP resolution from `--trusted-proxy`.
    pub client_ip: ClientIpResolver,
    /// Minted on the first start with an empty store; print it once.
    pub bootstrap_key: Option<MintedKey>,
    /// The configuration file used, or the built-in demo configuration.
    pub configuration: ConfigSource,
    /// The demo sign-in (`/login`, `/logout`): the host session of the dashboard.
    pub sign_in: SignIn,
    /// The API-keys dashboard, mounted at [`DASHBOARD_PATH`](crate::DASHBOARD_PATH)
    /// behind [`Started::sign_in`].
    pub dashboard: Dashboard,
    /// The leaked-key receiver, mounted at
    /// [`SECRET_SCANNING_PATH`](crate::SECRET_SCANNING_PATH) when
    /// `--secret-scanning-keys` names GitHub's public keys.
    pub secret_scanning: Option<AlertReceiver>,
}

/// The demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The configuration file is missing or refused: its one-line error
    /// (`keyward.toml:7:13: capabilities.defaults[1]: …`).
    #[error(transparent)]
    Config(#[from] ConfigError),
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
    /// The `--secret-scanning-keys` file could not be read.
    #[error("--secret-scanning-keys {path}: {error}")]
    SecretScanningFile {
        /// The file named.
        path: String,
        /// Why it could not be read.
        error: std::io::Error,
    },
    /// The `--secret-scanning-keys` file holds no usable public key.
    #[error("--secret-scanning-keys {path}: {error}")]
    SecretScanningKeys {
        /// The file named.
        path: String,
        /// What is wrong with it.
        error: PublicKeysError,
    },
}

/// Finds the configuration (`--config`, `KEYWARD_CONFIG`, `./keyward.toml`, else the
/// built-in demo), opens the store, builds keyward from the file (catalog, prefix,
/// hasher, limits, cache; `--rate-limit` overrides its rate) and the management API from
/// its `[management]` section, and on the first start with an empty store mints the
/// bootstrap key: the demo admin's, with every capability of the catalog.
///
/// Call it inside a Tokio runtime (it spawns the `last_used_at` flusher).
///
/// # Errors
///
/// [`SetupError`] when the configuration is refused, or the store cannot be opened or
/// read.
pub async fn start(args: &ServerArgs) -> Result<Started, SetupError> {
    let Loaded {
        config: file,
        source,
    } = ConfigFile::resolve(args.config.as_deref())?;
    let url = args
        .database_url
        .as_deref()
        .unwrap_or_else(|| file.database_url());
    let database = Database::open(url, args.database_schema.as_deref()).await?;
    let config = Config {
        max_live_keys_per_owner: args.max_live_keys_per_owner,
        ..file.config()
    };
    // `[limits] owner` and `tenant` come with the file: off unless it sets them.
    let mut builder = Keyward::from_config(&file)
        .database(&database)
        .config(config);
    if let Some(rate) = args.rate_limit {
        builder = builder.default_quota(rate);
    }
    if let Some(url) = &args.redis_url {
        let redis = RedisLimits::connect(url, &args.redis_namespace).await?;
        // One backend for both limits: a cached key's lockout and every budget it
        // spends (key, owner, tenant) are one script, one round trip.
        builder = builder.request_limits(redis.request_limits(file.lockout()));
    }
    if args.fail_open_on_limit_errors {
        builder = builder.fail_open_on_limit_errors();
    }
    let keyward = builder.build()?;
    let bootstrap_key = bootstrap(&keyward).await?;
    keyward
        .authenticator()
        .spawn_usage_flusher(USAGE_FLUSH_EVERY);
    keyward.keys().spawn_audit_pruner(Duration::from_secs(3600));
    let client_ip = if args.trusted_proxies.is_empty() {
        ClientIpResolver::peer_only()
    } else {
        ClientIpResolver::trust_forwarded_headers_from(args.trusted_proxies.iter().copied())
    };
    let management = file.management_api(&keyward);
    let mut dashboard = Dashboard::new(&keyward)
        .login_path(LOGIN_PATH)
        .title("API keys · keyward demo")
        .client_ip(client_ip.clone());
    if let Some(requirement) = file.management_requirements().tenant_admin() {
        dashboard = dashboard.tenant_admin(requirement.clone());
    }
    let secret_scanning = match &args.secret_scanning_keys {
        Some(path) => Some(AlertReceiver::new(&keyward, public_keys(path)?)),
        None => None,
    };
    let api = Arc::new(DemoApi::new(keyward, management));
    Ok(Started {
        sign_in: SignIn::new(&api),
        dashboard,
        api,
        client_ip,
        bootstrap_key,
        configuration: source,
        secret_scanning,
    })
}

/// GitHub's secret scanning public keys, from the file `--secret-scanning-keys` names.
fn public_keys(path: &std::path::Path) -> Result<PublicKeys, SetupError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| SetupError::SecretScanningFile {
        path: shown.clone(),
        error,
    })?;
    PublicKeys::parse(&text).map_err(|error| SetupError::SecretScanningKeys { path: shown, error })
}

async fn bootstrap(keyward: &Keyward) -> Result<Option<MintedKey>, ServiceError> {
    let keys = keyward.keys();
    let any = keys.list(&ListFilter::all(), PageRequest::first(1)).await?;
    if !any.keys.is_empty() {
        return Ok(None);
    }
    let catalog = keyward.catalog();
    let every = catalog.names(&catalog.all()).into_iter().map(str::to_owned);
    let minted = keys
        .mint(MintRequest::new("bootstrap", ADMIN.id).capabilities(every.collect::<Vec<_>>()))
        .await?;
    Ok(Some(minted.key))
}
