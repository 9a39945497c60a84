#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod base62;
mod checksum;
mod error;
mod format;
mod key_id;
mod mask;
mod minted;
mod presented;
mod scan;

pub use error::{FormatError, MintError, ParseError};
pub use format::{CHECKSUM_LEN, ID_LEN, KeyFormat, SECRET_LEN};
pub use key_id::KeyId;
pub use mask::MaskedKey;
pub use minted::MintedKey;
pub use presented::PresentedKey;
pub use scan::{Found, Scanner};
