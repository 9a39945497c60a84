#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod args;
pub mod directory;
mod launch;
mod reply;
pub mod session;
mod setup;
mod sign_in;

pub use api::{DESKTOP_CAPABILITIES, DemoApi, Requirements};
pub use args::ServerArgs;
pub use directory::DesktopAction;
pub use launch::{MetricsEndpoint, MetricsError, MetricsExporter, announce, run};
pub use setup::{KEY_PREFIX, SetupError, Started, start};
pub use sign_in::{DASHBOARD_PATH, LOGIN_PATH, SignIn};

/// Where both example servers mount the leaked-key receiver (with
/// `--secret-scanning-keys`): the endpoint URL to register with GitHub.
pub const SECRET_SCANNING_PATH: &str = "/github/secret-scanning";
