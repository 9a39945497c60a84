#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod authenticator;
#[doc(hidden)]
pub mod bench_support;
mod builder;
mod cache;
mod client_slots;
mod config;
pub mod config_file;
mod core;
mod credential;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod database;
mod digest;
mod error;
mod events;
mod hash_pool;
pub mod http;
mod key_cooldown;
mod key_table;
mod least_privilege;
mod limits;
mod lockout_watch;
pub mod manage;
mod metered_store;
pub mod metrics;
mod owner;
mod principal;
mod refusal_log;
mod registry;
mod service;
mod unfinished;
mod unused;
mod used_capabilities;
mod verify_presented;

pub use authenticator::Authenticator;
pub use builder::{Keyward, KeywardBuilder};
pub use config::Config;
pub use config_file::{ConfigError, ConfigFile, ConfigSource, Loaded};
pub use credential::Credential;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use database::{DEFAULT_DATABASE_URL, Database, DatabaseError};
pub use error::{
    AuthError, BuildError, ConfigProblem, ErrorCode, InvalidKeyReason, NameProblem, RequestProblem,
    ServiceError,
};
pub use events::{EventSink, KeyEvent};
pub use least_privilege::KeyUsage;
pub use limits::LimitFailure;
pub use owner::{OwnerLookupError, OwnerPermissions};
pub use principal::Principal;
pub use service::{
    AuditPage, ExpiredReason, KeyPage, KeyService, KeySummary, MAX_KEY_NAME_LEN, MintRequest,
    NewKey, RolledKey,
};
pub use unused::unused_since;

pub use keyward_clock as clock;
pub use keyward_format as format;
pub use keyward_hash as hash;
pub use keyward_limit as limit;
pub use keyward_scope as scope;
pub use keyward_store as store;

/// The repository's README and guides, compiled with the doctests so their examples keep
/// working. The adapter guides are compiled in `keyward-axum` and `keyward-actix`, the
/// scale-out guide in `keyward-redis`.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../../README.md")]
    struct Readme;
    #[doc = include_str!("../../../docs/keys.md")]
    struct Keys;
    #[doc = include_str!("../../../docs/authentication.md")]
    struct Authentication;
    #[doc = include_str!("../../../docs/http-contract.md")]
    struct HttpContract;
    #[doc = include_str!("../../../docs/rate-limits.md")]
    struct RateLimits;
    #[doc = include_str!("../../../docs/storage.md")]
    struct Storage;
    #[doc = include_str!("../../../docs/performance.md")]
    struct Performance;
    #[doc = include_str!("../../../docs/fuzzing.md")]
    struct Fuzzing;
    #[doc = include_str!("../../../docs/configuration.md")]
    struct Configuration;
    #[doc = include_str!("../../../docs/operations.md")]
    struct Operations;
}
