use std::fmt;

use keyward_format::ParseError;
use keyward_hash::HashError;
use keyward_limit::{LimitScope, QuotaError};
use keyward_scope::{Denied, UnknownCapabilities};
use keyward_store::{KeyState, StoreError};
use thiserror::Error;

/// The error codes of the HTTP contract, one per kind of refusal. Rendered as the
/// `error` field of every error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 401: no credential in the request.
    MissingCredential,
    /// 401: malformed, bad checksum, unknown id or wrong secret (indistinguishable).
    InvalidKey,
    /// 401: the key was revoked.
    KeyRevoked,
    /// 401: the key is past its expiry.
    KeyExpired,
    /// 401: the key is disabled.
    KeyDisabled,
    /// 403: a valid key presented from outside its IP allowlist.
    IpNotAllowed,
    /// 403: the key lacks a capability the route requires.
    InsufficientCapability,
    /// 403: a key-management route called with a key that was rolled: it manages no
    /// keys during its grace.
    KeyRolled,
    /// 429: the key's rate limit is used up.
    RateLimited,
    /// 429: the client IP is locked out after repeated failures.
    TooManyFailedAttempts,
    /// 400: two different credentials, a malformed authentication header, or a
    /// request body that is not the JSON a route takes.
    InvalidRequest,
    /// 503: the key store is unreachable and the key is not cached.
    AuthUnavailable,
    /// 404: no route for this path.
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 413: the request body is longer than the limit.
    PayloadTooLarge,
    /// 415: a JSON route was sent a body that is not `application/json`.
    UnsupportedMediaType,
    /// 400: a key-management request names capabilities the catalog does not declare.
    UnknownCapability,
    /// 409: the key's state does not allow the operation (rolling a revoked key).
    Conflict,
    /// 409: the owner already holds the maximum of live keys.
    TooManyKeys,
    /// 500: the server failed (minting a key); the cause is logged, never sent.
    InternalError,
}

impl ErrorCode {
    /// Every code, in the order of the contract's table.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::MissingCredential,
        ErrorCode::InvalidKey,
        ErrorCode::KeyRevoked,
        ErrorCode::KeyExpired,
        ErrorCode::KeyDisabled,
        ErrorCode::IpNotAllowed,
        ErrorCode::InsufficientCapability,
        ErrorCode::KeyRolled,
        ErrorCode::RateLimited,
        ErrorCode::TooManyFailedAttempts,
        ErrorCode::InvalidRequest,
        ErrorCode::AuthUnavailable,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::UnknownCapability,
        ErrorCode::Conflict,
        ErrorCode::TooManyKeys,
        ErrorCode::InternalError,
    ];

    /// The code as it appears on the wire (`invalid_key`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingCredential => "missing_credential",
            ErrorCode::InvalidKey => "invalid_key",
            ErrorCode::KeyRevoked => "key_revoked",
            ErrorCode::KeyExpired => "key_expired",
            ErrorCode::KeyDisabled => "key_disabled",
            ErrorCode::IpNotAllowed => "ip_not_allowed",
            ErrorCode::InsufficientCapability => "insufficient_capability",
            ErrorCode::KeyRolled => "key_rolled",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyFailedAttempts => "too_many_failed_attempts",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::AuthUnavailable => "auth_unavailable",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::UnknownCapability => "unknown_capability",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooManyKeys => "too_many_keys",
            ErrorCode::InternalError => "internal_error",
        }
    }

    /// The HTTP status this code is answered with.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::MissingCredential
            | ErrorCode::InvalidKey
            | ErrorCode::KeyRevoked
            | ErrorCode::KeyExpired
            | ErrorCode::KeyDisabled => 401,
            ErrorCode::IpNotAllowed | ErrorCode::InsufficientCapability | ErrorCode::KeyRolled => {
                403
            }
            ErrorCode::RateLimited | ErrorCode::TooManyFailedAttempts => 429,
            ErrorCode::InvalidRequest | ErrorCode::UnknownCapability => 400,
            ErrorCode::AuthUnavailable => 503,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Conflict | ErrorCode::TooManyKeys => 409,
            ErrorCode::InternalError => 500,
        }
    }

    /// Whether this refusal counts toward the client IP's lockout: every 401 from
    /// parsing on (a missing credential is not a guess); never 400, 403 or 429.
    pub const fn counts_as_failure(self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidKey
                | ErrorCode::KeyRevoked
                | ErrorCode::KeyExpired
                | ErrorCode::KeyDisabled
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an `invalid_key` was answered. For logs and metrics only: on the wire every
/// reason looks the same, so a guesser learns nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidKeyReason {
    /// The credential is not a key of this format.
    Malformed(ParseError),
    /// No key with this id.
    UnknownKey,
    /// The id exists but the secret is wrong.
    WrongSecret,
    /// Too many failed verifications of this id recently: refused without a slow hash
    /// until its cool-down ends ([`crate::Config::key_lockout`]).
    KeyCoolingDown,
}

impl InvalidKeyReason {
    /// A short stable name for logs (`malformed`, `unknown_key`, `wrong_secret`,
    /// `key_cooling_down`).
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidKeyReason::Malformed(_) => "malformed",
            InvalidKeyReason::UnknownKey => "unknown_key",
            InvalidKeyReason::WrongSecret => "wrong_secret",
            InvalidKeyReason::KeyCoolingDown => "key_cooling_down",
        }
    }
}

/// A refused authentication. [`AuthError::code`] gives the contract's error code.
///
/// Never carries the presented key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credential in the request.
    #[error("no API key in the request")]
    MissingCredential,
    /// The credential is not a valid key.
    #[error("invalid API key")]
    InvalidKey(InvalidKeyReason),
    /// The key was revoked.
    #[error("API key revoked")]
    KeyRevoked,
    /// The key is past its expiry.
    #[error("API key expired")]
    KeyExpired,
    /// The key is disabled.
    #[error("API key disabled")]
    KeyDisabled,
    /// The key may not be used from this client IP.
    #[error("API key not allowed from this IP address")]
    IpNotAllowed,
    /// The key lacks a capability the route requires.
    #[error(transparent)]
    InsufficientCapability(Denied),
    /// A rate limit is used up: the key's own, or the one its owner's or tenant's keys
    /// share (`scope`, which the 429 names as `"limit"`).
    #[error("{scope} rate limit exceeded; retry after {retry_after} s")]
    RateLimited {
        /// Whole seconds until a request will be allowed, at least 1.
        retry_after: u64,
        /// That limit's requests per period.
        limit: u32,
        /// Whole seconds until the bucket is full again.
        reset: u64,
        /// Whose budget refused: the key's, its owner's or its tenant's.
        scope: LimitScope,
        /// That limit's period.
        period: std::time::Duration,
    },
    /// The client IP is locked out after repeated failures.
    #[error("too many failed attempts; retry after {retry_after} s")]
    TooManyFailedAttempts {
        /// Whole seconds until the lockout ends, at least 1.
        retry_after: u64,
    },
    /// Two different credentials, or a malformed authentication header.
    #[error("invalid authentication request: {0}")]
    InvalidRequest(&'static str),
    /// The key store (or another backend) is unreachable and the key is not cached.
    #[error("authentication backend unavailable")]
    Unavailable {
        /// Whole seconds the client should wait before retrying.
        retry_after: u64,
    },
}

impl AuthError {
    /// Whether this refusal counts toward the client's lockout: its code's rule
    /// ([`ErrorCode::counts_as_failure`]), except an id cooling down. That refusal costs
    /// no store read and no hash, and the id's public: counting it would let anyone who
    /// cools an id down lock its holder's address out.
    pub fn counts_as_failure(&self) -> bool {
        self.code().counts_as_failure()
            && !matches!(
                self,
                AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown)
            )
    }

    /// The contract's error code for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::MissingCredential => ErrorCode::MissingCredential,
            AuthError::InvalidKey(_) => ErrorCode::InvalidKey,
            AuthError::KeyRevoked => ErrorCode::KeyRevoked,
            AuthError::KeyExpired => ErrorCode::KeyExpired,
            AuthError::KeyDisabled => ErrorCode::KeyDisabled,
            AuthError::IpNotAllowed => ErrorCode::IpNotAllowed,
            AuthError::InsufficientCapability(_) => ErrorCode::InsufficientCapability,
            AuthError::RateLimited { .. } => ErrorCode::RateLimited,
            AuthError::TooManyFailedAttempts { .. } => ErrorCode::TooManyFailedAttempts,
            AuthError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            AuthError::Unavailable { .. } => ErrorCode::AuthUnavailable,
        }
    }
}

/// A key-management operation that failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Capability names the catalog does not declare (all of them listed).
    #[error(transparent)]
    UnknownCapabilities(#[from] UnknownCapabilities),
    /// The request is invalid (expiry in the past, a bad page size, …).
    #[error("invalid request: {0}")]
    InvalidRequest(RequestProblem),
    /// A key name or owner that is empty, too long or holds a character that does not
    /// belong in one (the value itself is not repeated).
    #[error("{field} {problem}")]
    InvalidName {
        /// Which value: `name` or `owner`.
        field: &'static str,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// No key with this id.
    #[error("key not found")]
    NotFound,
    /// The operation needs an active key (rolling a revoked key, say).
    #[error("key is {0}")]
    NotActive(KeyState),
    /// The key was already rolled: it works only until its grace ends and its
    /// replacement is the key to roll.
    #[error("the key was already rolled; roll its replacement instead")]
    AlreadyRolled,
    /// The calling key lacks capabilities the target key holds: `required` names them.
    #[error(transparent)]
    InsufficientCapability(Denied),
    /// The owner already holds the configured maximum of live keys (or, for a roll,
    /// of keys in a roll's grace).
    #[error("the owner already has the maximum of {max} live keys; revoke one first")]
    TooManyKeys {
        /// [`crate::Config::max_live_keys_per_owner`].
        max: u64,
    },
    /// A roll grace period longer than the configured cap.
    #[error("roll grace period exceeds the maximum of {max_seconds} s")]
    GraceTooLong {
        /// The configured cap, in seconds.
        max_seconds: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// Hashing the new key failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The OS random generator failed while minting.
    #[error(transparent)]
    Mint(#[from] keyward_format::MintError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::InvalidRequest(why) => {
                ServiceError::InvalidRequest(RequestProblem::Store(why))
            }
            StoreError::AlreadyRolled => ServiceError::AlreadyRolled,
            StoreError::TooManyKeys { max } => ServiceError::TooManyKeys { max },
            other => ServiceError::Store(other),
        }
    }
}

/// What is wrong with a key-management request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestProblem {
    /// Both an absolute and a relative expiry were given.
    #[error("give expires_at or expires_in, not both")]
    TwoExpiries,
    /// A relative expiry of zero.
    #[error("expires_in must be longer than zero")]
    ZeroExpiresIn,
    /// An absolute expiry at or before now.
    #[error("expires_at is in the past")]
    ExpiryInPast,
    /// An expiry further out than [`crate::Config::max_lifetime`] allows.
    #[error("a key may live at most {max_seconds} seconds; ask for an earlier expiry")]
    LifetimeTooLong {
        /// The configured maximum, in seconds.
        max_seconds: u64,
    },
    /// A per-key rate limit that is not a valid quota.
    #[error("rate limit: {0}")]
    RateLimit(#[from] QuotaError),
    /// The store refused the request (a page size out of range, a cursor naming no
    /// key); the store's own explanation.
    #[error("{0}")]
    Store(String),
    /// A narrowed roll naming no capability: the replacement could do nothing.
    #[error("the replacement must keep at least one capability")]
    NoCapabilities,
    /// A roll to the used capabilities of a key none of whose use is recorded yet.
    #[error(
        "no capability use is recorded for this key, so there is nothing to narrow it to; \
         name the capabilities, or wait until its use is recorded"
    )]
    NoRecordedUse,
    /// A narrowed roll naming capabilities the old key does not hold.
    #[error(
        "a narrowed key keeps only capabilities the key holds; it does not hold {}",
        capabilities.join(", ")
    )]
    BeyondGrants {
        /// The names the old key does not hold, sorted.
        capabilities: Vec<String>,
    },
}

/// What is wrong with a key name or owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    /// Empty or only whitespace.
    Empty,
    /// Longer than [`crate::MAX_KEY_NAME_LEN`] characters.
    TooLong,
    /// A control character (general category Cc: a newline, an escape).
    ControlCharacter,
    /// An invisible format character (general category Cf: a bidirectional override,
    /// a zero-width space, a byte-order mark), which can make a listing lie.
    FormatCharacter,
    /// A line or paragraph separator (U+2028, U+2029).
    LineSeparator,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::Empty => "is empty",
            NameProblem::TooLong => {
                return write!(f, "is longer than {} characters", crate::MAX_KEY_NAME_LEN);
            }
            NameProblem::ControlCharacter => "contains a control character",
            NameProblem::FormatCharacter => {
                "contains an invisible formatting character (such as a direction override or a zero-width space)"
            }
            NameProblem::LineSeparator => "contains a line or paragraph separator",
        })
    }
}

/// The authenticator could not be built from its configuration.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No key store was given.
    #[error("a key store is required")]
    MissingStore,
    /// A configuration value is out of range.
    #[error("invalid configuration: {field} {problem}")]
    InvalidConfig {
        /// The [`crate::Config`] field, as spelled in Rust (`cache_capacity`).
        field: &'static str,
        /// What is wrong with its value.
        problem: ConfigProblem,
    },
    /// The OS random generator failed (the cache's digest key comes from it).
    #[error("OS random number generator failed: {0}")]
    Random(getrandom::Error),
    /// The invalidation source could not start delivering (e.g. no async runtime).
    #[error("cannot subscribe to cache invalidations: {0}")]
    Invalidations(#[source] keyward_store::StoreError),
}

/// What is wrong with a configuration value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// A count of zero where at least one is needed.
    #[error("must be at least 1")]
    ZeroCount,
    /// A duration of zero where a positive one is needed.
    #[error("must be longer than zero")]
    ZeroDuration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_http_contract() {
        let table = [
            (
                ErrorCode::MissingCredential,
                401,
                "missing_credential",
                false,
            ),
            (ErrorCode::InvalidKey, 401, "invalid_key", true),
            (ErrorCode::KeyRevoked, 401, "key_revoked", true),
            (ErrorCode::KeyExpired, 401, "key_expired", true),
            (ErrorCode::KeyDisabled, 401, "key_disabled", true),
            (ErrorCode::IpNotAllowed, 403, "ip_not_allowed", false),
            (
                ErrorCode::InsufficientCapability,
                403,
                "insufficient_capability",
                false,
            ),
            (ErrorCode::KeyRolled, 403, "key_rolled", false),
            (ErrorCode::RateLimited, 429, "rate_limited", false),
            (
                ErrorCode::TooManyFailedAttempts,
                429,
                "too_many_failed_attempts",
                false,
            ),
            (ErrorCode::InvalidRequest, 400, "invalid_request", false),
            (ErrorCode::AuthUnavailable, 503, "auth_unavailable", false),
            (ErrorCode::NotFound, 404, "not_found", false),
            (
                ErrorCode::MethodNotAllowed,
                405,
                "method_not_allowed",
                false,
            ),
            (ErrorCode::PayloadTooLarge, 413, "payload_too_large", false),
            (
                ErrorCode::UnsupportedMediaType,
                415,
                "unsupported_media_type",
                false,
            ),
            (
                ErrorCode::UnknownCapability,
                400,
                "unknown_capability",
                false,
            ),
            (ErrorCode::Conflict, 409, "conflict", false),
            (ErrorCode::TooManyKeys, 409, "too_many_keys", false),
            (ErrorCode::InternalError, 500, "internal_error", false),
        ];
        for (code, status, name, counts) in table {
            assert_eq!(
                (code.status(), code.as_str(), code.counts_as_failure()),
                (status, name, counts)
            );
        }
        // `ALL` lists every code once, in the table's order.
        assert_eq!(table.map(|row| row.0), ErrorCode::ALL);
    }

    #[test]
    fn typed_problems_read_as_the_old_messages() {
        let quota = keyward_limit::Quota::new(0, std::time::Duration::from_secs(1)).unwrap_err();
        let cases = [
            (
                ServiceError::InvalidRequest(RequestProblem::TwoExpiries),
                "invalid request: give expires_at or expires_in, not both",
            ),
            (
                ServiceError::InvalidRequest(RequestProblem::ZeroExpiresIn),
                "invalid request: expires_in must be longer than zero",
            ),
            (
                ServiceError::InvalidRequest(RequestProblem::ExpiryInPast),
                "invalid request: expires_at is in the past",
            ),
            (
                ServiceError::from(StoreError::InvalidRequest("page limit".into())),
                "invalid request: page limit",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
        assert_eq!(
            ServiceError::InvalidRequest(quota.clone().into()).to_string(),
            format!("invalid request: rate limit: {quota}")
        );
        let build = BuildError::InvalidConfig {
            field: "cache_refresh",
            problem: ConfigProblem::ZeroDuration,
        };
        assert_eq!(
            build.to_string(),
            "invalid configuration: cache_refresh must be longer than zero"
        );
    }
}
