//! [`ServerArgs`]: the flags both example servers take.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use ipnet::IpNet;
use keyward::limit::Quota;

/// Command-line flags of an example server, each with an environment fallback.
///
/// ```
/// use clap::Parser;
/// use keyward_demo_api::ServerArgs;
///
/// let args = ServerArgs::try_parse_from(["server", "--bind", "127.0.0.1:0"]).unwrap();
/// // Unless given, these come from the configuration file (or the built-in demo's).
/// assert_eq!(args.config, None);
/// assert_eq!(args.database_url, None);
/// assert_eq!(args.rate_limit, None);
/// assert_eq!(args.max_live_keys_per_owner, 100);
/// assert_eq!(args.metrics_bind, None, "no metrics listener unless asked");
/// let args = ServerArgs::try_parse_from(["server", "--config", "prod.toml", "--rate-limit", "5/s"])
///     .unwrap();
/// assert_eq!(args.config.as_deref(), Some(std::path::Path::new("prod.toml")));
/// assert_eq!(args.rate_limit.map(|q| q.limit()), Some(5));
/// assert!(ServerArgs::try_parse_from(["server", "--max-live-keys-per-owner", "0"]).is_err());
/// assert!(ServerArgs::try_parse_from(["server", "--rate-limit", "lots"]).is_err());
///
/// // `--help` describes the server, not this doc comment.
/// use clap::CommandFactory;
/// let help = ServerArgs::command().render_long_help().to_string();
/// assert!(help.starts_with("keyward example server"), "{help}");
/// assert!(!help.contains("try_parse_from"));
/// ```
#[derive(Debug, Clone, Parser)]
#[command(
    version,
    about = "keyward example server: the demo API behind API-key authentication",
    long_about = None
)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "KEYWARD_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// The configuration file (keyward.toml): catalog, key prefix, hasher, limits,
    /// cache, database, management API. Without it, `./keyward.toml` when present, else
    /// the built-in demo configuration. A bad file stops the server (exit 2).
    #[arg(long, env = "KEYWARD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Key store: a file path or `sqlite:` URL (created when missing), or a
    /// `postgres://` URL shared by several instances. Default: the configuration's
    /// `[database] url` (`keyward.db`).
    #[arg(long, env = "KEYWARD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The PostgreSQL schema for keyward's tables (created when missing).
    #[arg(long, env = "KEYWARD_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// Redis for rate limits and lockout shared across instances; in memory when absent.
    #[arg(long, env = "KEYWARD_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key keyward writes.
    #[arg(long, env = "KEYWARD_REDIS_NAMESPACE", default_value = "keyward")]
    pub redis_namespace: String,
    /// When Redis is unreachable, let requests through without a rate limit or lockout
    /// check instead of answering 503 (the default: an outage never lifts the limits).
    #[arg(long, env = "KEYWARD_FAIL_OPEN_ON_LIMIT_ERRORS")]
    pub fail_open_on_limit_errors: bool,
    /// Per-key rate limit: `60/min`, `10/s`, `1000/h`, `5000/day`. Overrides the
    /// configuration's `[limits] rate` (`60/min`).
    #[arg(long, env = "KEYWARD_RATE_LIMIT")]
    pub rate_limit: Option<Quota>,
    /// Most live (neither revoked nor expired) keys one owner may hold; minting past it
    /// is 409 `too_many_keys`.
    #[arg(
        long,
        env = "KEYWARD_MAX_LIVE_KEYS_PER_OWNER",
        default_value_t = 100,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_live_keys_per_owner: u64,
    /// A reverse proxy whose `X-Forwarded-For` is trusted (CIDR; repeatable). Without
    /// one, the client IP is always the socket peer.
    #[arg(
        long = "trusted-proxy",
        value_name = "CIDR",
        value_delimiter = ',',
        env = "KEYWARD_TRUSTED_PROXIES"
    )]
    pub trusted_proxies: Vec<IpNet>,
    /// GitHub's secret scanning public keys (the JSON of
    /// `https://api.github.com/meta/public_keys/secret_scanning`, or PEM keys): mounts
    /// the leaked-key receiver at `POST /github/secret-scanning`. Off without it.
    #[arg(long, env = "KEYWARD_SECRET_SCANNING_KEYS", value_name = "PATH")]
    pub secret_scanning_keys: Option<PathBuf>,
    /// Serve Prometheus metrics at `GET http://ADDR/metrics`, on a listener of its own
    /// (keep it internal). Off unless given; port 0 picks a free port, printed as
    /// `metrics: http://…/metrics`.
    #[arg(long, env = "KEYWARD_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,
}
