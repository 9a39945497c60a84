//! Per-client-IP lockout after repeated failed authentications: the [`FailureGuard`]
//! trait, its validated [`GuardConfig`] and the hard-capped [`MemoryFailureGuard`].

pub(crate) mod config;
pub(crate) mod guard;
pub(crate) mod memory;

pub use config::GuardConfig;
pub use guard::{FailureBudget, FailureGuard, GuardDecision};
pub use memory::MemoryFailureGuard;
