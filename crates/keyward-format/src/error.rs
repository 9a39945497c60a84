use thiserror::Error;

/// A key format that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    /// The prefix does not match `[a-z][a-z0-9]*(_[a-z0-9]+)*_`.
    #[error("invalid key prefix: must match [a-z][a-z0-9]*(_[a-z0-9]+)*_ (e.g. \"sk_live_\")")]
    InvalidPrefix,
    /// The prefix is longer than [`crate::KeyFormat::MAX_PREFIX_LEN`].
    #[error("key prefix is {len} bytes; at most {max} are allowed")]
    PrefixTooLong {
        /// Length of the rejected prefix.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Why a presented string is not a key of this format.
///
/// Variants never carry the presented text: errors end up in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The string does not start with this format's prefix (e.g. an `sk_test_` key
    /// presented to an `sk_live_` parser).
    #[error("key does not have the expected prefix")]
    WrongPrefix,
    /// The string has the prefix but not the length of a key.
    #[error("key has the wrong length: expected {expected} bytes, found {found}")]
    WrongLength {
        /// The length of a key of this format.
        expected: usize,
        /// The length presented.
        found: usize,
    },
    /// A byte after the prefix is outside `0-9A-Za-z`.
    #[error("key has a character outside the base62 alphabet at byte {position}")]
    InvalidCharacter {
        /// Byte offset in the presented string (or in the credential id or secret).
        position: usize,
    },
    /// The checksum does not match the rest of the key: a typo or a made-up key.
    #[error("key checksum does not match")]
    ChecksumMismatch,
}

/// The operating system's random number generator failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("OS random number generator failed: {0}")]
pub struct MintError(pub(crate) getrandom::Error);
