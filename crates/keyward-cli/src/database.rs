//! [`Database`]: a key store chosen by a database URL, shared by the CLI and the example
//! servers so both accept the same `--database-url`.

use std::sync::Arc;

use keyward::store::KeyStore;
use keyward_postgres::{PostgresError, PostgresOptions, PostgresStore};
use keyward_sqlite::{SqliteError, SqliteStore};

/// A key store opened from a `--database-url`.
///
/// - a file path or an `sqlite:` URL: the embedded [`SqliteStore`], created when missing;
/// - `postgres://` / `postgresql://`: the scale-out [`PostgresStore`], its tables in
///   `schema` (the server's `search_path` default, usually `public`, when `None`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use keyward_cli::{Database, DatabaseError};
///
/// let err = Database::open("mysql://localhost/keys", None).await.unwrap_err();
/// assert!(matches!(err, DatabaseError::UnsupportedScheme(ref s) if s == "mysql"));
/// # });
/// ```
#[derive(Clone, Debug)]
pub enum Database {
    /// One SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database shared by several instances.
    Postgres(PostgresStore),
}

/// A database URL that could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// A URL scheme no store serves.
    #[error(
        "unsupported database url scheme `{0}`; use a file path, an sqlite: url or a postgres:// url"
    )]
    UnsupportedScheme(String),
    /// The PostgreSQL store could not be opened.
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    /// A schema name with an SQLite file, which has none.
    #[error("--database-schema applies to postgres:// urls only")]
    SchemaWithoutPostgres,
    /// The SQLite file could not be opened.
    #[error(transparent)]
    Sqlite(#[from] SqliteError),
}

impl Database {
    /// Opens the store `url` names (see the type's documentation).
    ///
    /// # Errors
    ///
    /// [`DatabaseError`]: an unknown scheme, or the store's own open error.
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Database, DatabaseError> {
        match scheme(url) {
            Some(s)
                if s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql") =>
            {
                let mut options = PostgresOptions::new();
                if let Some(schema) = schema {
                    options = options.schema(schema);
                }
                Ok(Database::Postgres(
                    PostgresStore::connect_with(url, options).await?,
                ))
            }
            Some(s) if !s.eq_ignore_ascii_case("sqlite") => {
                Err(DatabaseError::UnsupportedScheme(s.to_owned()))
            }
            _ if schema.is_some() => Err(DatabaseError::SchemaWithoutPostgres),
            _ => Ok(Database::Sqlite(SqliteStore::open(url).await?)),
        }
    }

    /// The store, for [`keyward::KeywardBuilder::shared_store`].
    pub fn store(&self) -> Arc<dyn KeyStore> {
        match self {
            Database::Sqlite(store) => Arc::new(store.clone()),
            Database::Postgres(store) => Arc::new(store.clone()),
        }
    }
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
}
