//! The shared test rig (`keyward_testing::rig`), under the names these tests use, and
//! the helpers several test files need: a request from a client, a captured log, the
//! events received and `keyward.toml` text read or refused.
#![allow(unused_imports, dead_code)] // each test file uses part of it

pub mod config_text;
mod events;
mod log;

use std::net::IpAddr;

use keyward::scope::Requirement;
use keyward::{AuthError, Credential, Principal};

pub use events::Received;
pub use keyward_testing::SwitchableStore;
pub use keyward_testing::rig::{CountingHasher, Rig, START, catalog, ip, mint, rig, rig_with};
pub use log::{LogCapture, captured_log};

/// Presents `key` for `requirement` from 192.0.2.1.
pub async fn auth(rig: &Rig, key: &str, requirement: &Requirement) -> Result<Principal, AuthError> {
    auth_from(rig, key, requirement, ip("192.0.2.1")).await
}

/// Presents `key` for `requirement` from `client`.
pub async fn auth_from(
    rig: &Rig,
    key: &str,
    requirement: &Requirement,
    client: IpAddr,
) -> Result<Principal, AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), requirement, client)
        .await
}
