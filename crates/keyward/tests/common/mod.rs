//! The shared test rig (`keyward_testing::rig`), under the names these tests use.
#![allow(unused_imports)]

pub use keyward_testing::SwitchableStore;
pub use keyward_testing::rig::{CountingHasher, Rig, START, catalog, ip, mint, rig, rig_with};
