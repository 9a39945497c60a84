use std::path::PathBuf;

use thiserror::Error;

/// Why [`crate::SqliteStore::open`] failed. In every case the file was left as it was.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// The URL or path could not be understood.
    #[error("invalid SQLite database url `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file exists but is not an SQLite database (or is damaged).
    #[error("{path} is not a keyward SQLite database (corrupt, or another kind of file)")]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file cannot be opened or created: missing permissions, a directory in its
    /// place, a parent directory that does not exist.
    #[error("cannot open SQLite database {path}: {source}")]
    CannotOpen {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The file or its directory is read-only (or the URL asked for `mode=ro`), and
    /// opening needs to write: creating the file, its WAL, or applying migrations. A
    /// read-only file already at the current schema opens fine.
    #[error("SQLite database {path} is read-only: {source}")]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The file was written by a newer keyward with a schema this build does not know.
    #[error(
        "SQLite database {path} has schema version {found}, newer than the {supported} this build knows; upgrade keyward"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows ([`crate::SCHEMA_VERSION`]).
        supported: i64,
    },
    /// Any other database error while opening or migrating.
    #[error("SQLite database {path}: {source}")]
    Database {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
}

/// SQLite primary result codes (the low byte of an extended code).
const SQLITE_PERM: i64 = 3;
const SQLITE_READONLY: i64 = 8;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_AUTH: i64 = 23;
const SQLITE_NOTADB: i64 = 26;

/// The primary SQLite result code of a database error, if it is one.
pub(crate) fn primary_code(e: &sqlx::Error) -> Option<i64> {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .map(|c| c & 0xff),
        _ => None,
    }
}

impl SqliteError {
    /// Classifies an error met while opening `path`.
    pub(crate) fn classify(path: PathBuf, source: sqlx::Error) -> Self {
        if let sqlx::Error::Io(_) = source {
            return SqliteError::CannotOpen { path, source };
        }
        match primary_code(&source) {
            Some(SQLITE_NOTADB | SQLITE_CORRUPT) => SqliteError::NotADatabase { path },
            Some(SQLITE_READONLY) => SqliteError::ReadOnly { path, source },
            Some(SQLITE_CANTOPEN | SQLITE_PERM | SQLITE_AUTH) => {
                SqliteError::CannotOpen { path, source }
            }
            _ => SqliteError::Database { path, source },
        }
    }
}
