//! [`ConfigFile`]: `keyward.toml`, the one file the CLI and servers built on keyward
//! read, and the built-in demo configuration used when there is none.
//!
//! See `docs/configuration.md` for every key.

mod error;
mod raw;
mod validate;

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use keyward_format::KeyFormat;
use keyward_hash::{Argon2idHasher, BcryptHasher, SecretHasher};
use keyward_limit::{GuardConfig, Quota};
use keyward_scope::{Catalog, Requirement, UnknownCapabilities};

pub use error::{ConfigError, InvalidSetting, SettingProblem};

use crate::builder::Keyward;
use crate::config::Config;
use crate::http::management::ManagementApi;

/// The file looked for in the working directory.
pub const CONFIG_FILE_NAME: &str = "keyward.toml";

/// The environment variable naming the file when no path is given explicitly.
pub const CONFIG_ENV_VAR: &str = "KEYWARD_CONFIG";

/// The longest duration a setting accepts, in days: long enough for any lockout or
/// refresh, short enough that adding it to a clock reading cannot overflow.
pub const MAX_DURATION_DAYS: u64 = 366;

/// The longest lifecycle duration accepted (`keys.max_lifetime`,
/// `keys.expire_unused_after`, `audit.retention`), in days: a century, beyond any
/// policy, and still far from the end of the clock's range when added to now.
pub const MAX_LIFECYCLE_DAYS: u64 = 36_525;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::database::DEFAULT_DATABASE_URL;
/// `keyward::DEFAULT_DATABASE_URL`, which exists only with a database feature.
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
const DEFAULT_DATABASE_URL: &str = "keyward.db";

/// The settings of `keyward.toml`, checked: a key format, a capability catalog, a hasher,
/// limits, cache tuning, the database URL, the management API's requirements and the
/// CLI's default owner.
///
/// Every section and key is optional; a key left out has the value of the built-in demo
/// configuration ([`ConfigFile::demo`], also [`Default`]), so a file holds only what
/// differs. [`ConfigFile::documented_defaults`] is the file with every key at its
/// default.
///
/// The file is not [`Config`]: that is the runtime tuning of one [`Keyward`], and the
/// file produces one ([`ConfigFile::config`]) among other things.
/// [`Keyward::from_config`] applies all of it to a builder; the caller adds the store.
///
/// ```
/// use keyward::{ConfigFile, Keyward};
/// use keyward::store::MemoryStore;
///
/// let file = ConfigFile::parse(
///     r#"
/// [keys]
/// prefix = "ak_test_"
/// bcrypt_cost = 4 # tests only
///
/// [capabilities]
/// names = ["jobs:read", "jobs:write", "keys:read", "keys:write"]
/// defaults = ["jobs:read"]
///
/// [capabilities.implies]
/// "jobs:write" = ["jobs:read"]
/// "keys:write" = ["keys:read"]
/// "#,
///     "keyward.toml",
/// )?;
/// let keyward = Keyward::from_config(&file).store(MemoryStore::new()).build()?;
/// assert_eq!(keyward.format().prefix(), "ak_test_");
/// assert_eq!(keyward.catalog().names(&keyward.catalog().default_set()), ["jobs:read"]);
///
/// let err = ConfigFile::parse("[limits]\nrate = \"lots\"\n", "keyward.toml").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "keyward.toml:2:8: limits.rate: invalid rate: expected a quota like `60/min`, `10/s` or `1000/hour`, got \"lots\"",
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ConfigFile {
    format: KeyFormat,
    hasher: HasherChoice,
    catalog: Catalog,
    rate: Quota,
    owner_rate: Option<Quota>,
    tenant_rate: Option<Quota>,
    lockout: GuardConfig,
    cache_capacity: usize,
    cache_refresh: Duration,
    database_url: String,
    management: ManagementRequirements,
    cli_owner: Option<String>,
    max_lifetime: Option<Duration>,
    expire_unused_after: Option<Duration>,
    audit_retention: Option<Duration>,
}

/// The database URL's password is redacted: a `Debug` print ends up in logs.
impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("format", &self.format)
            .field("hasher", &self.hasher)
            .field("catalog", &self.catalog)
            .field("rate", &self.rate)
            .field("owner_rate", &self.owner_rate)
            .field("tenant_rate", &self.tenant_rate)
            .field("lockout", &self.lockout)
            .field("cache_capacity", &self.cache_capacity)
            .field("cache_refresh", &self.cache_refresh)
            .field("database_url", &redacted_url(&self.database_url))
            .field("management", &self.management)
            .field("cli_owner", &self.cli_owner)
            .field("max_lifetime", &self.max_lifetime)
            .field("expire_unused_after", &self.expire_unused_after)
            .field("audit_retention", &self.audit_retention)
            .finish()
    }
}

/// `url` with the password of its user info (`postgres://user:secret@host`) and the
/// value of a `password=` parameter replaced by `***`.
fn redacted_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let user_info = &out[authority_start..authority_start + at];
            if let Some(colon) = user_info.find(':') {
                let password = authority_start + colon + 1..authority_start + at;
                out.replace_range(password, "***");
            }
        }
    }
    let mut searched = 0;
    while let Some(found) = out[searched..].to_ascii_lowercase().find("password=") {
        let value_start = searched + found + "password=".len();
        let value_end = out[value_start..]
            .find(['&', ' ', '#'])
            .map_or(out.len(), |i| value_start + i);
        out.replace_range(value_start..value_end, "***");
        searched = value_start + 3;
    }
    out
}

/// How new keys' secrets are hashed (`keys.hasher`, `keys.bcrypt_cost`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HasherChoice {
    /// bcrypt at `cost` (default [`BcryptHasher::DEFAULT_COST`]).
    Bcrypt {
        /// The work factor, [`BcryptHasher::MIN_COST`] to [`BcryptHasher::MAX_COST`].
        cost: u32,
    },
    /// Argon2id with [`Argon2idHasher::default`]'s parameters.
    Argon2id,
}

impl HasherChoice {
    /// The hasher.
    pub fn hasher(&self) -> Arc<dyn SecretHasher> {
        match *self {
            // The cost was range-checked when the file was read.
            HasherChoice::Bcrypt { cost } => Arc::new(BcryptHasher::new(cost).unwrap_or_default()),
            HasherChoice::Argon2id => Arc::new(Argon2idHasher::default()),
        }
    }
}

/// What the key-management API requires of the calling key (`[management]`), as
/// requirements over the file's catalog.
#[derive(Debug, Clone)]
pub struct ManagementRequirements {
    read: Requirement,
    write: Requirement,
    tenant_admin: Option<Requirement>,
}

impl ManagementRequirements {
    fn new(
        catalog: &Catalog,
        read: &str,
        write: &str,
        tenant_admin: Option<&str>,
    ) -> Result<Self, UnknownCapabilities> {
        Ok(ManagementRequirements {
            read: catalog.all_of([read])?,
            write: catalog.all_of([write])?,
            tenant_admin: tenant_admin
                .map(|name| catalog.all_of([name]))
                .transpose()?,
        })
    }

    /// Listing and reading keys (default `keys:read`).
    pub fn read(&self) -> &Requirement {
        &self.read
    }

    /// Creating, rolling, revoking and changing keys (default `keys:write`).
    pub fn write(&self) -> &Requirement {
        &self.write
    }

    /// Managing every key of the caller's tenant (default: nobody).
    pub fn tenant_admin(&self) -> Option<&Requirement> {
        self.tenant_admin.as_ref()
    }
}

impl PartialEq for ManagementRequirements {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &Requirement, b: &Requirement| a.names() == b.names();
        same(&self.read, &other.read)
            && same(&self.write, &other.write)
            && match (&self.tenant_admin, &other.tenant_admin) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// Equal when every setting is: catalogs compare by names, implications, implicit and
/// default grants; requirements by the capabilities they name.
impl PartialEq for ConfigFile {
    fn eq(&self, other: &Self) -> bool {
        self.format == other.format
            && self.hasher == other.hasher
            && same_catalog(&self.catalog, &other.catalog)
            && self.rate == other.rate
            && self.owner_rate == other.owner_rate
            && self.tenant_rate == other.tenant_rate
            && self.lockout == other.lockout
            && self.cache_capacity == other.cache_capacity
            && self.cache_refresh == other.cache_refresh
            && self.database_url == other.database_url
            && self.management == other.management
            && self.cli_owner == other.cli_owner
            && self.max_lifetime == other.max_lifetime
            && self.expire_unused_after == other.expire_unused_after
            && self.audit_retention == other.audit_retention
    }
}

fn same_catalog(a: &Catalog, b: &Catalog) -> bool {
    let closure = |catalog: &Catalog| -> Vec<(String, Vec<String>)> {
        catalog
            .iter()
            .map(|(capability, name)| {
                let implied = catalog.names(&catalog.implied(capability));
                (
                    name.to_owned(),
                    implied.into_iter().map(str::to_owned).collect(),
                )
            })
            .collect()
    };
    closure(a) == closure(b)
        && a.names(&a.default_set()) == b.names(&b.default_set())
        && a.names(&a.implicit()) == b.names(&b.implicit())
}

impl Default for ConfigFile {
    /// The built-in demo configuration, [`ConfigFile::demo`].
    fn default() -> Self {
        demo()
    }
}

/// The demo's capabilities, in the order they are declared (and listed in errors).
const DEMO_NAMES: [&str; 9] = [
    "desktop:read",
    "desktop:chat",
    "desktop:lifecycle",
    "desktop:control",
    "jobs:read",
    "jobs:write",
    "kb:read",
    "keys:read",
    "keys:write",
];

/// The built-in demo configuration.
fn demo() -> ConfigFile {
    let catalog = Catalog::builder()
        .capabilities(DEMO_NAMES)
        .implies("jobs:write", "jobs:read")
        .implies("keys:write", "keys:read")
        .default_grants(["desktop:read", "desktop:chat"])
        .build()
        .unwrap_or_else(|e| unreachable!("the demo catalog is valid: {e}"));
    let management = ManagementRequirements::new(&catalog, "keys:read", "keys:write", None)
        .unwrap_or_else(|e| unreachable!("the demo catalog declares keys:read/write: {e}"));
    let config = Config::default();
    ConfigFile {
        format: KeyFormat::new("sk_live_")
            .unwrap_or_else(|e| unreachable!("the demo prefix is valid: {e}")),
        hasher: HasherChoice::Bcrypt {
            cost: BcryptHasher::DEFAULT_COST,
        },
        catalog,
        rate: Quota::default(),
        owner_rate: None,
        tenant_rate: None,
        lockout: GuardConfig::default(),
        cache_capacity: config.cache_capacity,
        cache_refresh: config.cache_refresh,
        database_url: DEFAULT_DATABASE_URL.to_owned(),
        management,
        cli_owner: None,
        max_lifetime: config.max_lifetime,
        expire_unused_after: config.expire_unused_after,
        audit_retention: config.audit_retention,
    }
}

impl ConfigFile {
    /// The built-in demo configuration, used when no file is found and for every key a
    /// file leaves out: prefix `sk_live_`, bcrypt at cost 10, the capabilities
    /// `desktop:read`, `desktop:chat`, `desktop:lifecycle`, `desktop:control`,
    /// `jobs:read`, `jobs:write` (implies `jobs:read`), `kb:read`, `keys:read`,
    /// `keys:write` (implies `keys:read`), new keys granted `desktop:read` +
    /// `desktop:chat`, 60 requests per minute per key, 10 failures within 60 s lock a
    /// client out for 60 s, a 100,000-key cache refreshed every 30 s, the database
    /// `keyward.db`, the management API gated by `keys:read` / `keys:write`; keys
    /// never expire by policy and audit entries are kept forever.
    ///
    /// ```
    /// use keyward::ConfigFile;
    ///
    /// let demo = ConfigFile::demo();
    /// assert_eq!(ConfigFile::parse("", "empty.toml")?, demo);
    /// let catalog = demo.catalog();
    /// assert_eq!(catalog.names(&catalog.default_set()), ["desktop:chat", "desktop:read"]);
    /// # Ok::<(), keyward::ConfigError>(())
    /// ```
    #[must_use]
    pub fn demo() -> ConfigFile {
        demo()
    }

    /// Reads and checks the file at `path`; errors name it as given.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        ConfigFile::parse(&text, &path.display().to_string())
    }

    /// Checks `text`, naming it `origin` in errors (`keyward.toml:7:13: …`).
    pub fn parse(text: &str, origin: &str) -> Result<ConfigFile, ConfigError> {
        validate::parse(text, origin)
    }

    /// Finds and reads the configuration, the same way for the CLI and every server:
    ///
    /// 1. `explicit` (a `--config PATH` flag), when given;
    /// 2. else the file named by the environment variable [`CONFIG_ENV_VAR`]
    ///    (`KEYWARD_CONFIG`), when set and not empty;
    /// 3. else [`CONFIG_FILE_NAME`] (`keyward.toml`) in the working directory, when it
    ///    exists;
    /// 4. else the built-in demo configuration ([`ConfigFile::demo`]).
    ///
    /// A file named by 1 or 2 must exist: a missing one is an error, not the demo.
    pub fn resolve(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
        let env = std::env::var_os(CONFIG_ENV_VAR);
        ConfigFile::resolve_from(explicit, env.as_deref(), Path::new(""))
    }

    /// [`resolve`](Self::resolve) with the environment variable's value and the working
    /// directory given rather than read from the process: relative paths are taken
    /// relative to `dir`.
    ///
    /// ```
    /// use std::path::Path;
    /// use keyward::{ConfigFile, ConfigSource};
    ///
    /// let dir = std::env::temp_dir().join(format!("keyward-resolve-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let loaded = ConfigFile::resolve_from(None, None, &dir)?;
    /// assert_eq!(loaded.source, ConfigSource::BuiltInDemo);
    /// assert_eq!(loaded.source.to_string(), "built-in demo configuration");
    ///
    /// std::fs::write(dir.join("keyward.toml"), "[keys]\nprefix = \"ak_\"\n")?;
    /// let loaded = ConfigFile::resolve_from(None, None, &dir)?;
    /// assert_eq!(loaded.source, ConfigSource::File(dir.join("keyward.toml")));
    /// assert_eq!(loaded.config.format().prefix(), "ak_");
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolve_from(
        explicit: Option<&Path>,
        env_value: Option<&OsStr>,
        dir: &Path,
    ) -> Result<Loaded, ConfigError> {
        let named = explicit.or_else(|| env_value.filter(|v| !v.is_empty()).map(Path::new));
        let path = match named {
            Some(path) => dir.join(path),
            None => {
                let candidate = dir.join(CONFIG_FILE_NAME);
                // An error asking (permissions) is reported by the read, not hidden.
                if let Ok(false) = candidate.try_exists() {
                    return Ok(Loaded {
                        config: ConfigFile::demo(),
                        source: ConfigSource::BuiltInDemo,
                    });
                }
                candidate
            }
        };
        Ok(Loaded {
            config: ConfigFile::load(&path)?,
            source: ConfigSource::File(path),
        })
    }

    /// The text `keyward config init` writes: every key at its default, commented out,
    /// with what it does. It parses to [`ConfigFile::demo`], and so does every setting
    /// in it uncommented.
    ///
    /// ```
    /// use keyward::ConfigFile;
    ///
    /// let text = ConfigFile::documented_defaults();
    /// assert_eq!(ConfigFile::parse(text, "keyward.toml")?, ConfigFile::demo());
    /// # Ok::<(), keyward::ConfigError>(())
    /// ```
    #[must_use]
    pub fn documented_defaults() -> &'static str {
        include_str!("defaults.toml")
    }

    /// The key format (`keys.prefix`).
    pub fn format(&self) -> &KeyFormat {
        &self.format
    }

    /// The hasher for new keys (`keys.hasher`, `keys.bcrypt_cost`).
    pub fn hasher(&self) -> HasherChoice {
        self.hasher
    }

    /// The capability catalog (`[capabilities]`).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The per-key rate limit of keys without their own (`limits.rate`).
    pub fn rate(&self) -> Quota {
        self.rate
    }

    /// The budget all keys of one owner share (`limits.owner`); `None` (the default):
    /// only each key's own.
    pub fn owner_rate(&self) -> Option<Quota> {
        self.owner_rate
    }

    /// The budget all keys of one tenant share (`limits.tenant`); `None` (the default):
    /// only each key's own.
    pub fn tenant_rate(&self) -> Option<Quota> {
        self.tenant_rate
    }

    /// The per-client lockout (`limits.lockout`).
    pub fn lockout(&self) -> GuardConfig {
        self.lockout
    }

    /// The runtime tuning: [`Config::default`] with the `[cache]` settings and the
    /// lifecycle policies (`keys.max_lifetime`, `keys.expire_unused_after`,
    /// `audit.retention`).
    pub fn config(&self) -> Config {
        Config {
            cache_capacity: self.cache_capacity,
            cache_refresh: self.cache_refresh,
            max_lifetime: self.max_lifetime,
            expire_unused_after: self.expire_unused_after,
            audit_retention: self.audit_retention,
            ..Config::default()
        }
    }

    /// The longest a new key may live (`keys.max_lifetime`; default none): a mint
    /// without an expiry gets exactly this, a longer one is refused.
    pub fn max_lifetime(&self) -> Option<Duration> {
        self.max_lifetime
    }

    /// How long a key may go unused before it stops working with `key_expired`
    /// (`keys.expire_unused_after`; default never).
    pub fn expire_unused_after(&self) -> Option<Duration> {
        self.expire_unused_after
    }

    /// How long audit entries are kept (`audit.retention`; default forever).
    pub fn audit_retention(&self) -> Option<Duration> {
        self.audit_retention
    }

    /// The store URL (`database.url`), for `keyward::Database::open`.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// What the management API requires (`[management]`).
    pub fn management_requirements(&self) -> &ManagementRequirements {
        &self.management
    }

    /// The management API over `keyward` with this file's requirements. `keyward` must
    /// use this file's catalog ([`Keyward::from_config`]): the requirements are checks
    /// against it.
    pub fn management_api(&self, keyward: &Keyward) -> ManagementApi {
        let api = ManagementApi::with_requirements(
            keyward,
            self.management.read.clone(),
            self.management.write.clone(),
        );
        match &self.management.tenant_admin {
            Some(requirement) => api.tenant_admin(requirement.clone()),
            None => api,
        }
    }

    /// The owner `keyward keys create` uses without `--owner` (`cli.owner`; default
    /// none, so `--owner` is required).
    pub fn cli_owner(&self) -> Option<&str> {
        self.cli_owner.as_deref()
    }
}

/// A configuration and where it came from; see [`ConfigFile::resolve`].
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The settings.
    pub config: ConfigFile,
    /// Where they came from.
    pub source: ConfigSource,
}

/// Where a configuration came from. Its `Display` is for `--help` and startup logs:
/// the path as found (`keyward.toml`) or `built-in demo configuration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file, at this path.
    File(PathBuf),
    /// No file: [`ConfigFile::demo`].
    BuiltInDemo,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::File(path) => write!(f, "{}", path.display()),
            ConfigSource::BuiltInDemo => f.write_str("built-in demo configuration"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redacted_url("postgres://keyward:s3cr%40t@db.internal:5432/keys"),
            "postgres://keyward:***@db.internal:5432/keys"
        );
        assert_eq!(
            redacted_url("postgres://db/keys?user=k&password=hunter2&sslmode=require"),
            "postgres://db/keys?user=k&password=***&sslmode=require"
        );
        assert_eq!(
            redacted_url("host=db PASSWORD=x user=k"),
            "host=db PASSWORD=*** user=k"
        );
        assert_eq!(
            redacted_url("postgres://keyward@db/keys"),
            "postgres://keyward@db/keys"
        );
        assert_eq!(redacted_url("keyward.db"), "keyward.db");
    }

    #[test]
    fn debug_does_not_show_the_database_password() {
        let file = ConfigFile::parse(
            "[database]\nurl = \"postgres://k:hunter2@db/keys\"\n",
            "keyward.toml",
        )
        .unwrap();
        assert_eq!(file.database_url(), "postgres://k:hunter2@db/keys");
        let debug = format!("{file:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("postgres://k:***@db/keys"), "{debug}");
    }
}
