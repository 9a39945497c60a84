#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod capability;
mod catalog;
mod denied;
mod error;
mod name;
mod requirement;
mod set;

pub use capability::Capability;
pub use catalog::{Catalog, CatalogBuilder, MAX_CAPABILITIES};
pub use denied::Denied;
pub use error::{CatalogError, Role, UnknownCapabilities};
pub use name::{CapabilityName, InvalidName, MAX_CAPABILITY_NAME_LEN};
pub use requirement::Requirement;
pub use set::{CapabilitySet, Iter};
