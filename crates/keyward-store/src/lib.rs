#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audit;
mod error;
mod invalidation;
mod memory;
mod record;
mod store;
#[cfg(test)]
mod test_records;

pub mod columns;

pub use audit::{Actor, AuditAction, AuditEntry, AuditQuery};
pub use error::StoreError;
pub use invalidation::{Invalidation, InvalidationSink, InvalidationSource, Subscription};
pub use memory::MemoryStore;
pub use record::{KeyRecord, KeyState, RateLimitOverride, Tenant};
pub use store::{KeyChange, KeyStore, ListFilter, LiveKeys, Page, PageRequest, UsageUpdate};
