use keyward_scope::{Denied, UnknownCapabilities};
use keyward_store::{KeyState, StoreError};
use thiserror::Error;

use crate::error::{NameProblem, RequestProblem, ServiceError};

/// A management operation refused or failed. [`crate::http::management`] renders each
/// variant as one status and JSON body.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ManageError {
    /// No key with this id that the caller may see: unknown, malformed, or another
    /// owner's (indistinguishable on purpose). HTTP 404 `not_found`.
    #[error("no such key")]
    NotFound,
    /// Capability names the catalog does not declare, all of them listed. Checked
    /// before escalation, so an unknown name wins over a missing one. HTTP 400
    /// `unknown_capability`.
    #[error(transparent)]
    UnknownCapabilities(UnknownCapabilities),
    /// The caller lacks capabilities the new key would hold, or the target key holds;
    /// `required` names them. HTTP 403 `insufficient_capability`.
    #[error(transparent)]
    InsufficientCapability(Denied),
    /// The request is invalid (an expiry in the past, a bad page size or cursor).
    /// HTTP 400 `invalid_request`.
    #[error("invalid request: {0}")]
    InvalidRequest(RequestProblem),
    /// A key name that is empty, too long or holds a character that does not belong in
    /// one. HTTP 400 `invalid_request`.
    #[error("{field} {problem}")]
    InvalidName {
        /// Which value: `name` or `owner`.
        field: &'static str,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// A roll grace period longer than the configured cap. HTTP 400 `invalid_request`.
    #[error("grace period exceeds the maximum of {max_seconds} s")]
    GraceTooLong {
        /// [`crate::Config::max_roll_grace`], in seconds.
        max_seconds: u64,
    },
    /// Only an active key can be rolled: this one is revoked, expired or disabled.
    /// HTTP 409 `conflict`.
    #[error("the key is {}; only an active key can be rolled", .0.as_str())]
    NotActive(KeyState),
    /// A roll of another owner's key (a tenant admin's): the replacement would act for
    /// that owner, and its plaintext would go to the caller. HTTP 409 `conflict`.
    #[error("only a key's owner can roll it; revoke or disable it instead")]
    NotOwner,
    /// The calling key was rolled: it keeps authenticating until its grace ends, but
    /// manages no keys, so a leaked key its owner rolled cannot mint a permanent key or
    /// revoke its own replacement meanwhile. HTTP 403 `key_rolled`.
    #[error("this key was rolled; it manages no keys until its grace ends: use its replacement")]
    CallerRolled,
    /// The key was already rolled; roll its replacement. HTTP 409 `conflict`.
    #[error("the key was already rolled; roll its replacement instead")]
    AlreadyRolled,
    /// The owner holds the configured maximum of live keys. HTTP 409 `too_many_keys`.
    #[error("the owner already has the maximum of {max} live keys; revoke one first")]
    TooManyKeys {
        /// [`crate::Config::max_live_keys_per_owner`].
        max: u64,
    },
    /// The key store failed. HTTP 503 `auth_unavailable` with `Retry-After`.
    #[error(transparent)]
    Store(StoreError),
    /// Minting failed inside keyward (hashing, the OS random generator). HTTP 500
    /// `internal_error`; the cause is logged, never sent.
    #[error("key management failed: {0}")]
    Internal(ServiceError),
}

impl From<ServiceError> for ManageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ManageError::NotFound,
            ServiceError::UnknownCapabilities(u) => ManageError::UnknownCapabilities(u),
            ServiceError::InsufficientCapability(d) => ManageError::InsufficientCapability(d),
            ServiceError::InvalidRequest(p) => ManageError::InvalidRequest(p),
            ServiceError::InvalidName { field, problem } => {
                ManageError::InvalidName { field, problem }
            }
            ServiceError::GraceTooLong { max_seconds } => ManageError::GraceTooLong { max_seconds },
            ServiceError::NotActive(state) => ManageError::NotActive(state),
            ServiceError::AlreadyRolled => ManageError::AlreadyRolled,
            ServiceError::TooManyKeys { max } => ManageError::TooManyKeys { max },
            ServiceError::Store(s) => ManageError::Store(s),
            other => ManageError::Internal(other),
        }
    }
}
