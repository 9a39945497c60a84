#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audit;
mod error;
mod feed;
mod schema;
mod store;

pub use error::SqliteError;
pub use feed::{ChangeFeed, DEFAULT_POLL_INTERVAL, SqliteFeedOptions, SqliteInvalidations};
pub use keyward_store::Invalidation;
pub use schema::{CHANGES_KEPT, SCHEMA_VERSION};
pub use store::SqliteStore;
