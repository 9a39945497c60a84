//! [`Database`]: a key store chosen by a database URL, so every program built on keyward
//! (the CLI, a server) accepts the same `--database-url`.

use std::sync::Arc;

#[cfg(feature = "postgres")]
use keyward_postgres::{PostgresError, PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
use keyward_sqlite::{SqliteError, SqliteStore};
use keyward_store::KeyStore;

/// The database a program uses when given none: the SQLite file `keyward.db` in the
/// working directory.
pub const DEFAULT_DATABASE_URL: &str = "keyward.db";

/// A key store opened from a database URL:
///
/// - a file path or an `sqlite:` URL: the embedded `SqliteStore` (feature `sqlite`),
///   created when missing;
/// - `postgres://` / `postgresql://`: the scale-out `PostgresStore` (feature
///   `postgres`), its tables in a schema of your choice (the server's `search_path`
///   default, usually `public`, when none).
///
/// A URL for a backend whose feature is off is refused with
/// [`DatabaseError::FeatureDisabled`], naming the feature. Hand the opened database to
/// [`KeywardBuilder::database`](crate::KeywardBuilder::database), which also wires the
/// backend's cross-process cache invalidations.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use keyward::{Database, DatabaseError, Keyward, MintRequest};
/// use keyward::format::KeyFormat;
/// use keyward::hash::BcryptHasher;
/// use keyward::scope::Catalog;
/// use keyward::store::KeyStore;
///
/// let dir = std::env::temp_dir().join(format!("keyward-database-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let url = format!("sqlite:{}", dir.join("keys.db").display());
/// let database = Database::open(&url, None).await.unwrap();
///
/// let catalog = Catalog::builder().capabilities(["jobs:read"]).build().unwrap();
/// let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog)
///     .database(&database)
///     .hasher(BcryptHasher::new(4).unwrap()) // tests only: use the default cost in production
///     .build()
///     .unwrap();
/// let minted = keyward.keys().mint(MintRequest::new("CI", "u_1")).await.unwrap();
/// assert_eq!(database.store().get(&minted.summary.id).await.unwrap().owner, "u_1");
///
/// let err = Database::open("mysql://localhost/keys", None).await.unwrap_err();
/// assert!(matches!(err, DatabaseError::UnsupportedScheme(ref s) if s == "mysql"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # });
/// ```
#[derive(Clone, Debug)]
pub enum Database {
    /// One SQLite file.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore),
    /// A PostgreSQL database shared by several instances.
    #[cfg(feature = "postgres")]
    Postgres(PostgresStore),
}

/// A database URL that could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// A URL scheme no store serves.
    #[error(
        "unsupported database url scheme `{0}`; use a file path, an sqlite: url or a postgres:// url"
    )]
    UnsupportedScheme(String),
    /// A URL for a store this build leaves out.
    #[error("this database url needs keyward's `{feature}` cargo feature, which is not enabled")]
    FeatureDisabled {
        /// The `keyward` feature to enable: `sqlite` or `postgres`.
        feature: &'static str,
    },
    /// A schema name with an SQLite file, which has none.
    #[error("a database schema applies to postgres:// urls only")]
    SchemaWithoutPostgres,
    /// The PostgreSQL store could not be opened.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    /// The SQLite file could not be opened.
    #[cfg(feature = "sqlite")]
    #[error(transparent)]
    Sqlite(#[from] SqliteError),
}

impl Database {
    /// Opens the store `url` names (see the type's documentation); `schema` is the
    /// PostgreSQL schema for keyward's tables, created when missing.
    ///
    /// # Errors
    ///
    /// [`DatabaseError`]: an unknown scheme, a disabled backend, a schema with an
    /// SQLite file, or the store's own open error.
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Database, DatabaseError> {
        match scheme(url) {
            Some(s)
                if s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql") =>
            {
                open_postgres(url, schema).await
            }
            Some(s) if !s.eq_ignore_ascii_case("sqlite") => {
                Err(DatabaseError::UnsupportedScheme(s.to_owned()))
            }
            _ if schema.is_some() => Err(DatabaseError::SchemaWithoutPostgres),
            _ => open_sqlite(url).await,
        }
    }

    /// The store, for [`KeywardBuilder::shared_store`](crate::KeywardBuilder::shared_store)
    /// (or any other use; it is the same connection pool).
    pub fn store(&self) -> Arc<dyn KeyStore> {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(store) => Arc::new(store.clone()),
            #[cfg(feature = "postgres")]
            Database::Postgres(store) => Arc::new(store.clone()),
        }
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Database, DatabaseError> {
    let mut options = PostgresOptions::new();
    if let Some(schema) = schema {
        options = options.schema(schema);
    }
    Ok(Database::Postgres(
        PostgresStore::connect_with(url, options).await?,
    ))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str, _schema: Option<&str>) -> Result<Database, DatabaseError> {
    Err(DatabaseError::FeatureDisabled {
        feature: "postgres",
    })
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(url: &str) -> Result<Database, DatabaseError> {
    Ok(Database::Sqlite(SqliteStore::open(url).await?))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_url: &str) -> Result<Database, DatabaseError> {
    Err(DatabaseError::FeatureDisabled { feature: "sqlite" })
}

/// The scheme of `url` (`sqlite:keys.db` and `postgres://…` have one, a path has none).
fn scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_paths() {
        assert_eq!(scheme("sqlite:keys.db"), Some("sqlite"));
        assert_eq!(scheme("sqlite://keys.db"), Some("sqlite"));
        assert_eq!(scheme("postgres://u@h/db"), Some("postgres"));
        assert_eq!(scheme("keys.db"), None);
        assert_eq!(scheme("/tmp/keys.db"), None);
        // A Windows drive letter is a path, not a scheme.
        assert_eq!(scheme("C:/keys.db"), None);
    }

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        let err = block_on(Database::open("mysql://h/keys", None)).unwrap_err();
        assert!(matches!(err, DatabaseError::UnsupportedScheme(ref s) if s == "mysql"));
        let err = block_on(Database::open("sqlite:keys.db", Some("s"))).unwrap_err();
        assert!(matches!(err, DatabaseError::SchemaWithoutPostgres));
        let err = block_on(Database::open("keys.db", Some("s"))).unwrap_err();
        assert!(matches!(err, DatabaseError::SchemaWithoutPostgres));
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_postgres_url_without_the_feature_names_it() {
        let err = block_on(Database::open("postgres://u@127.0.0.1:1/keys", None)).unwrap_err();
        assert!(matches!(
            err,
            DatabaseError::FeatureDisabled {
                feature: "postgres"
            }
        ));
        assert!(
            err.to_string().contains("`postgres` cargo feature"),
            "{err}"
        );
    }

    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn a_file_without_the_feature_names_it() {
        for url in ["keys.db", "sqlite:keys.db"] {
            let err = block_on(Database::open(url, None)).unwrap_err();
            assert!(
                matches!(err, DatabaseError::FeatureDisabled { feature: "sqlite" }),
                "{url}: {err:?}"
            );
        }
    }
}
