use keyward_store::StoreError;
use thiserror::Error;

/// Why [`crate::PostgresStore::connect`] (or [`crate::InvalidationListener::start`])
/// failed. Nothing in the database was changed unless the variant says so.
///
/// Messages name the server as `host:port/database`, never the URL: a URL may hold a
/// password.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The URL could not be understood.
    #[error("invalid PostgreSQL database url: {reason}")]
    InvalidUrl {
        /// What is wrong with it (never the URL itself).
        reason: String,
    },
    /// The schema option is not a name keyward accepts: 1 to 63 bytes of `a-z`, `0-9`
    /// and `_`, not starting with a digit or `pg_`.
    #[error("invalid PostgreSQL schema name `{name}`: {reason}")]
    InvalidSchema {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The server could not be reached within the acquire timeout: refused, unresolvable,
    /// a network failure, a TLS failure or a timeout. Retrying later may help.
    #[error("PostgreSQL at {server} is unreachable: {source}")]
    Unreachable {
        /// `host:port/database`.
        server: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The server answered but refused the connection: bad credentials, a database that
    /// does not exist, too many connections.
    #[error("PostgreSQL at {server} refused the connection: {source}")]
    Rejected {
        /// `host:port/database`.
        server: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema was written by a newer keyward with a version this build does not know.
    /// Nothing was changed.
    #[error(
        "PostgreSQL schema `{schema}` has keyward schema version {found}, newer than the {supported} this build knows; upgrade keyward"
    )]
    NewerSchema {
        /// The schema holding the tables (`public` unless configured).
        schema: String,
        /// The version found in the database.
        found: i64,
        /// The newest version this build knows ([`crate::SCHEMA_VERSION`]).
        supported: i64,
    },
    /// Applying the embedded migrations failed (missing privileges, a conflicting
    /// table, a statement timeout while another instance held the migration lock). The
    /// migration runs in one transaction: nothing was changed.
    #[error("migrating the keyward schema on {server} failed: {source}")]
    Migration {
        /// `host:port/database`.
        server: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// Any other database error while connecting.
    #[error("PostgreSQL at {server}: {source}")]
    Database {
        /// `host:port/database`.
        server: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
}

impl PostgresError {
    /// Classifies an error met while connecting to `server`.
    pub(crate) fn connecting(server: &str, source: sqlx::Error) -> Self {
        let server = server.to_owned();
        match &source {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => PostgresError::Unreachable { server, source },
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // Class 28: invalid authorization; 3D000: no such database; 53300: too
                // many connections; 57P03: the server is starting up or shutting down.
                Some(code)
                    if code.starts_with("28")
                        || code == "3D000"
                        || code == "53300"
                        || code == "57P03" =>
                {
                    PostgresError::Rejected { server, source }
                }
                _ => PostgresError::Database { server, source },
            },
            _ => PostgresError::Database { server, source },
        }
    }

    /// Classifies an error met while migrating: connection problems stay connection
    /// problems, everything else is a migration failure.
    pub(crate) fn migrating(server: &str, source: sqlx::Error) -> Self {
        match PostgresError::connecting(server, source) {
            PostgresError::Database { server, source } => {
                PostgresError::Migration { server, source }
            }
            other => other,
        }
    }
}

/// Maps a database error to the store's answer: constraint and data errors are the
/// caller's, decode errors are corrupt rows, everything else (connection refused, pool
/// timeout, server shutdown, statement timeout) is "unavailable", a 503.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        sqlx::Error::Encode(_) => StoreError::InvalidRequest(e.to_string()),
        // Class 22 (data exception: a NUL character, a value out of range) and 23
        // (another integrity constraint): the request carried a value the schema refuses.
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| c.starts_with("22") || c.starts_with("23")) =>
        {
            StoreError::InvalidRequest(e.to_string())
        }
        _ => StoreError::unavailable(e),
    }
}
