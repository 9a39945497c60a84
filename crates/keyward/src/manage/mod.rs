//! Key management on behalf of a caller: the rules every management surface (the JSON
//! API in [`crate::http::management`], a settings page, an admin tool acting for a
//! user) shares, so none of them re-implements them.
//!
//! A [`Caller`] is who acts: an owner, an optional tenant and the capabilities it holds.
//! A [`KeyManager`] runs each operation for a caller:
//! - it sees only the caller's own keys (the caller's owner, within the caller's
//!   tenant), or every key of its tenant when it holds the configured tenant-admin
//!   requirement ([`KeyManager::tenant_admin`]);
//! - another owner's key, an unknown id and a malformed id are all
//!   [`ManageError::NotFound`], so ids cannot be probed;
//! - nothing escalates: a new key holds at most what the caller holds, and a caller
//!   changes (revokes, rolls, disables, enables, deletes) only keys whose every
//!   capability it holds; a new key, minted or rolled, always belongs to the caller's
//!   owner (a tenant admin revokes, disables, enables or deletes a member's key, but
//!   does not roll it, which would hand it a key acting as that member).

mod caller;
mod error;
mod manager;
mod visibility;

pub use caller::{Actor, Caller};
pub use error::ManageError;
pub use manager::{CreateKey, KeyManager};
