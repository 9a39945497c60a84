#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod argon2id;
mod bcrypt;
mod error;
mod scheme;
mod secret_hasher;

pub use crate::argon2id::Argon2idHasher;
pub use crate::bcrypt::BcryptHasher;
pub use crate::error::HashError;
pub use crate::secret_hasher::SecretHasher;
