#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod schema;
mod store;

pub use error::SqliteError;
pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;
