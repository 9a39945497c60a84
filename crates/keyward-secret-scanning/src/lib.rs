#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "actix")]
pub mod actix;
mod alert;
#[cfg(feature = "axum")]
pub mod axum;
mod leak;
mod public_keys;
mod receiver;
mod signature;
#[cfg(feature = "test-signer")]
pub mod test_signer;

pub use alert::{Label, ReportedToken, TokenLabel, token_hash};
pub use leak::{LeakCheck, Verdict};
pub use public_keys::{PublicKeys, PublicKeysError};
pub use receiver::{AlertReceiver, AlertRequest, MAX_ALERT_LEN, MAX_ALERT_TOKENS};
pub use signature::{KEY_IDENTIFIER_HEADER, SIGNATURE_HEADER, SignatureError, verify_signature};

/// The guide `docs/leaks.md`, compiled with the doctests so its examples keep working
/// (this crate's own tests turn both mounts on).
#[cfg(all(doctest, feature = "axum", feature = "actix"))]
#[doc = include_str!("../../../docs/leaks.md")]
struct Guide;
