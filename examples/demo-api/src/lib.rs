#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod args;
pub mod client;
pub mod directory;
pub mod fault_proxy;
mod keys_api;
mod launch;
mod reply;
pub mod request_shape;
pub mod scale_out;
pub mod server_process;
mod setup;
pub mod walkthrough;

pub use api::{DemoApi, Requirements};
pub use args::ServerArgs;
pub use directory::DesktopAction;
pub use keys_api::{ManagementBody, parse_management_body};
pub use launch::{announce, run};
pub use setup::{KEY_PREFIX, SetupError, Started, start};
