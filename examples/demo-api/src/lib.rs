#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod args;
pub mod directory;
mod keys_api;
mod launch;
mod reply;
mod setup;

pub use api::{DemoApi, Requirements};
pub use args::ServerArgs;
pub use directory::DesktopAction;
pub use keys_api::{ManagementBody, parse_management_body};
pub use launch::{announce, run};
pub use setup::{KEY_PREFIX, SetupError, Started, start};
