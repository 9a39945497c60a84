use thiserror::Error;

use crate::KeyState;

/// What went wrong talking to a [`crate::KeyStore`].
///
/// "Not found" and "unavailable" are different answers: the first is a 401 for the
/// client, the second a 503 (the store is down, the key may well be valid).
#[derive(Debug, Error)]
pub enum StoreError {
    /// No key with this id.
    #[error("key not found")]
    NotFound,
    /// A key with this id already exists.
    #[error("a key with this id already exists")]
    Conflict,
    /// The store cannot be reached or failed to answer; retrying may help.
    #[error("key store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store answered with data that is not a valid record (corruption, a schema
    /// from a newer version, a hand-edited row).
    #[error("key store holds invalid data: {0}")]
    Corrupt(String),
    /// The request itself was invalid (e.g. a page size of zero).
    #[error("invalid store request: {0}")]
    InvalidRequest(String),
    /// A roll of a key that was already rolled (it names its replacement).
    #[error("the key was already rolled")]
    AlreadyRolled,
    /// A roll of a key that is not active at the roll's time (revoked, disabled or
    /// expired, perhaps since the caller last read it).
    #[error("the key is {0}, not active")]
    NotActive(KeyState),
    /// An insert that would take the owner past its cap of live keys.
    #[error("the owner already has the maximum of {max} live keys")]
    TooManyKeys {
        /// The cap that was reached.
        max: u64,
    },
    /// The store does not implement this part of the interface (a third-party store
    /// without an audit log, say).
    #[error("the key store does not support {0}")]
    Unsupported(&'static str),
}

impl StoreError {
    /// Wraps any error as [`StoreError::Unavailable`].
    pub fn unavailable(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Unavailable(e.into())
    }
}
