#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod fault_proxy;
pub mod services;
pub mod store_conformance;

mod switchable_store;
pub use switchable_store::{AfterGet, SwitchableStore};

#[cfg(feature = "rig")]
pub mod rig;

#[cfg(feature = "example-servers")]
pub mod client;
#[cfg(feature = "example-servers")]
pub mod decoys_and_budgets;
#[cfg(feature = "example-servers")]
pub mod metrics;
#[cfg(feature = "example-servers")]
pub mod request_shape;
#[cfg(feature = "example-servers")]
pub mod scale_out;
#[cfg(feature = "example-servers")]
pub mod secret_scanning;
#[cfg(feature = "example-servers")]
pub mod server;
#[cfg(feature = "example-servers")]
pub mod walkthrough;

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "browser")]
pub mod dashboard;
