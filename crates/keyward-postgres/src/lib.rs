#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod listener;
mod migrate;
mod options;
mod rows;
mod schema;
mod sql;
mod store;

pub use error::PostgresError;
pub use keyward_store::Invalidation;
pub use listener::{InvalidationListener, ListenerOptions, PostgresInvalidations};
pub use options::PostgresOptions;
pub use schema::SCHEMA_VERSION;
pub use store::PostgresStore;
